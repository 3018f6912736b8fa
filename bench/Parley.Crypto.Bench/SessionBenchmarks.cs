using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Parley.Crypto.Keys;
using Parley.Crypto.Messages;
using Parley.Crypto.PreKeys;
using Parley.Crypto.Sessions;
using Parley.Crypto.Stores;

namespace Parley.Crypto.Bench;

/// <summary>
/// 1:1 sessions with the in-memory stores: setting one up (the initiator processes a bundle and
/// encrypts, the recipient decrypts the first PreKey message) and a 200-byte message on an
/// established session.
/// </summary>
[MemoryDiagnoser]
public class SessionBenchmarks
{
    private static readonly ProtocolAddress Alice = new("alice", 1);
    private static readonly ProtocolAddress Bob = new("bob", 1);
    private readonly byte[] _plaintext = RandomNumberGenerator.GetBytes(200);
    private IdentityKeyPair _aliceIdentity = null!;
    private InMemoryProtocolStore _bobStore = null!;
    private SessionCipher _bobCipher = null!;
    private PreKeyBundle _bundle = null!;
    private SessionCipher _sending = null!;
    private SessionCipher _receiving = null!;

    /// <summary>X3DH (signed prekey only) or PQXDH (plus an ML-KEM-1024 prekey).</summary>
    [Params("X3DH", "PQXDH")]
    public string Handshake { get; set; } = "PQXDH";

    [GlobalSetup]
    public void Setup()
    {
        _aliceIdentity = IdentityKeyPair.Generate();
        var bobIdentity = IdentityKeyPair.Generate();
        _bobStore = new InMemoryProtocolStore(bobIdentity, 2);
        var signed = SignedPreKeyRecord.Generate(1, bobIdentity, DateTimeOffset.UtcNow);
        _bobStore.StoreSignedPreKey(signed.Id, signed);
        KyberPreKeyRecord? kyber = null;
        if (Handshake == "PQXDH")
        {
            kyber = KyberPreKeyRecord.Generate(2, bobIdentity, DateTimeOffset.UtcNow);
            _bobStore.StoreKyberPreKey(kyber.Id, kyber);
        }

        // No one-time prekey, so the same bundle serves every iteration (a last-resort bundle).
        _bundle = new PreKeyBundle(
            2, 1, null, null, signed.Id, signed.KeyPair.PublicKey, signed.Signature, bobIdentity.IdentityKey,
            kyber?.Id, kyber?.KeyPair.PublicKey, kyber?.Signature.ToArray());
        _bobCipher = new SessionCipher(_bobStore, Alice);

        // An established session (one exchange each way) for the steady-state benchmark.
        var receiverStore = new InMemoryProtocolStore(bobIdentity, 2);
        receiverStore.StoreSignedPreKey(signed.Id, signed);
        if (kyber is not null)
        {
            receiverStore.StoreKyberPreKey(kyber.Id, kyber);
        }

        var steadyAlice = new InMemoryProtocolStore(_aliceIdentity, 1);
        new SessionBuilder(steadyAlice, Bob).ProcessPreKeyBundle(_bundle);
        _sending = new SessionCipher(steadyAlice, Bob);
        _receiving = new SessionCipher(receiverStore, Alice);
        _receiving.Decrypt((PreKeySignalMessage)_sending.Encrypt(_plaintext));
        _sending.Decrypt((SignalMessage)_receiving.Encrypt(_plaintext));
    }

    [Benchmark(Description = "session: setup (bundle + first decrypt)")]
    public byte[] SetUpSession()
    {
        var aliceStore = new InMemoryProtocolStore(_aliceIdentity, 1);
        new SessionBuilder(aliceStore, Bob).ProcessPreKeyBundle(_bundle);
        var first = (PreKeySignalMessage)new SessionCipher(aliceStore, Bob).Encrypt(_plaintext);
        byte[] plaintext = _bobCipher.Decrypt(first);
        // Keep the recipient's record small so every iteration does the same work.
        _bobStore.DeleteSession(Alice);
        return plaintext;
    }

    [Benchmark(Description = "session: encrypt + decrypt 200 B")]
    public byte[] EncryptDecrypt() => _receiving.Decrypt((SignalMessage)_sending.Encrypt(_plaintext));
}
