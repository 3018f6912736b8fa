using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Parley.Crypto.Ciphers;

namespace Parley.Crypto.Bench;

/// <summary>
/// AES-256-CBC on the platform's AES and on the managed path the browser runs (BouncyCastle's
/// engine chained by hand): encrypt then decrypt one message body (200 bytes, the size of
/// SessionBenchmarks' messages) and one 64 KiB attachment chunk. On .NET, not in a browser: the
/// ratio is what this shows.
/// </summary>
[MemoryDiagnoser]
public class AesCbcBenchmarks
{
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly byte[] _iv = RandomNumberGenerator.GetBytes(16);
    private byte[] _plaintext = null!;
    private AesCbc _cipher = null!;

    /// <summary>"platform" (System.Security.Cryptography) or "managed" (the browser's path).</summary>
    [Params("platform", "managed")]
    public string Path { get; set; } = "platform";

    /// <summary>Plaintext bytes.</summary>
    [Params(200, 65_536)]
    public int Size { get; set; } = 200;

    [GlobalSetup]
    public void Setup()
    {
        _plaintext = RandomNumberGenerator.GetBytes(Size);
        if (Path == "managed")
        {
            using (AesCbc.ForceManaged())
            {
                _cipher = new AesCbc(_key);
            }
        }
        else
        {
            _cipher = new AesCbc(_key);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _cipher.Dispose();

    [Benchmark(Description = "aes-cbc: encrypt + decrypt")]
    public byte[] EncryptThenDecrypt() => _cipher.DecryptPkcs7(_cipher.EncryptPkcs7(_plaintext, _iv), _iv);
}
