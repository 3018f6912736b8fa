using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Parley.Crypto.Attachments;

namespace Parley.Crypto.Bench;

/// <summary>Attachment crypto over 1 MiB, memory to memory, so the figure is the crypto and not the disk.</summary>
[MemoryDiagnoser]
public class AttachmentBenchmarks
{
    private const int Size = 1 << 20;
    private readonly byte[] _plaintext = RandomNumberGenerator.GetBytes(Size);
    private readonly AttachmentKey _key = AttachmentKey.Generate();
    private readonly MemoryStream _output = new(Size + 64);
    private byte[] _blob = [];
    private byte[] _digest = [];

    [GlobalSetup]
    public void Setup()
    {
        using var blob = new MemoryStream();
        _digest = AttachmentCipher.Encrypt(new MemoryStream(_plaintext), blob, _key).Digest;
        _blob = blob.ToArray();
    }

    [Benchmark(Description = "attachment: encrypt 1 MiB")]
    public long Encrypt()
    {
        _output.SetLength(0);
        return AttachmentCipher.Encrypt(new MemoryStream(_plaintext, writable: false), _output, _key).CiphertextLength;
    }

    [Benchmark(Description = "attachment: decrypt 1 MiB")]
    public long Decrypt()
    {
        _output.SetLength(0);
        return AttachmentCipher.Decrypt(new MemoryStream(_blob, writable: false), _output, _key, _digest);
    }
}
