using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.JSInterop;
using Parley.Crypto;
using Parley.Crypto.Keys;
using Parley.Crypto.Messages;
using Parley.Crypto.PreKeys;
using Parley.Crypto.Sessions;
using Parley.Crypto.Stores;

namespace Parley.Web.Speed;

/// <summary>
/// Measures the message crypto in this browser, for bench/Parley.Web.Bench (docs/performance.md):
/// the same Parley.Crypto code as every other client, run by the browser's .NET runtime.
/// Touches no account and no store.
/// </summary>
public static class CryptoProbe
{
    /// <summary>
    /// Sets up a PQXDH session between two in-memory parties, then times <paramref name="count"/>
    /// encrypt + decrypt round trips of a 200-byte message; returns the mean milliseconds per round trip.
    /// </summary>
    [JSInvokable("MeasureMessageCrypto")]
    public static double MeasureMessageCrypto(int count)
    {
        count = Math.Clamp(count, 1, 10_000);
        var alice = new ProtocolAddress("alice", 1);
        var bob = new ProtocolAddress("bob", 1);
        var bobIdentity = IdentityKeyPair.Generate();
        var bobStore = new InMemoryProtocolStore(bobIdentity, 2);
        var signed = SignedPreKeyRecord.Generate(1, bobIdentity, DateTimeOffset.UtcNow);
        bobStore.StoreSignedPreKey(signed.Id, signed);
        var kyber = KyberPreKeyRecord.Generate(2, bobIdentity, DateTimeOffset.UtcNow);
        bobStore.StoreKyberPreKey(kyber.Id, kyber);
        var bundle = new PreKeyBundle(2, 1, null, null, signed.Id, signed.KeyPair.PublicKey, signed.Signature, bobIdentity.IdentityKey,
            kyber.Id, kyber.KeyPair.PublicKey, kyber.Signature.ToArray());
        var aliceStore = new InMemoryProtocolStore(IdentityKeyPair.Generate(), 1);
        new SessionBuilder(aliceStore, bob).ProcessPreKeyBundle(bundle);
        var sending = new SessionCipher(aliceStore, bob);
        var receiving = new SessionCipher(bobStore, alice);
        var plaintext = RandomNumberGenerator.GetBytes(200);
        receiving.Decrypt((PreKeySignalMessage)sending.Encrypt(plaintext));
        sending.Decrypt((SignalMessage)receiving.Encrypt(plaintext));

        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            receiving.Decrypt((SignalMessage)sending.Encrypt(plaintext));
        }
        return clock.Elapsed.TotalMilliseconds / count;
    }
}
