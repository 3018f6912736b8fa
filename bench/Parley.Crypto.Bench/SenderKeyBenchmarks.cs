using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Parley.Crypto;
using Parley.Crypto.Groups;

namespace Parley.Crypto.Bench;

/// <summary>
/// Sender Key group messages of 200 bytes, with the in-memory store (which serializes records,
/// as a persistent store would).
/// </summary>
[MemoryDiagnoser]
public class SenderKeyBenchmarks
{
    private static readonly ProtocolAddress Alice = new("alice", 1);
    private readonly byte[] _plaintext = RandomNumberGenerator.GetBytes(200);
    private Guid _group;
    private GroupCipher _sending = null!;
    private GroupCipher _receiving = null!;

    [GlobalSetup]
    public void Setup()
    {
        _group = Guid.NewGuid();
        var aliceStore = new InMemorySenderKeyStore();
        var bobStore = new InMemorySenderKeyStore();
        SenderKeyDistributionMessage distribution = new GroupSessionBuilder(aliceStore).Create(Alice, _group);
        new GroupSessionBuilder(bobStore).Process(Alice, distribution);
        _sending = new GroupCipher(aliceStore, Alice);
        _receiving = new GroupCipher(bobStore, Alice);
    }

    [Benchmark(Description = "sender key: encrypt 200 B")]
    public byte[] Encrypt() => _sending.Encrypt(_group, _plaintext).Serialize();

    [Benchmark(Description = "sender key: encrypt + decrypt 200 B")]
    public byte[] EncryptDecrypt() => _receiving.Decrypt(_sending.Encrypt(_group, _plaintext).Serialize());
}
