using System.Security.Cryptography;
using Google.Protobuf;
using Parley.Crypto.Keys;
using Parley.Protocol;

namespace Parley.Server.Tests;

/// <summary>Valid prekey uploads for tests that need a device with keys: one-time EC ids from 1, ML-KEM ids from 2001.</summary>
public static class PreKeyUploads
{
    /// <summary>The id of the last-resort ML-KEM key in every upload made here.</summary>
    public const uint LastResortId = 1000;

    public static UploadPreKeys Upload(int oneTime, int kyber)
    {
        var identity = EcKeyPair.Generate();
        var upload = new UploadPreKeys
        {
            IdentityKey = ByteString.CopyFrom(identity.PublicKey.Serialize()),
            RegistrationId = 1234,
            SignedPrekey = Signed(identity, 1, EcKeyPair.Generate().PublicKey.Serialize()),
            KyberLastResort = Signed(identity, LastResortId, KyberKey()),
        };
        for (uint i = 1; i <= oneTime; i++)
        {
            upload.OneTimePrekeys.Add(new PreKey { Id = i, PublicKey = ByteString.CopyFrom(EcKeyPair.Generate().PublicKey.Serialize()) });
        }
        for (uint i = 1; i <= kyber; i++)
        {
            upload.KyberPrekeys.Add(Signed(identity, 2000 + i, KyberKey()));
        }
        return upload;
    }

    private static SignedPreKey Signed(EcKeyPair identity, uint id, byte[] publicKey) =>
        new() { Id = id, PublicKey = ByteString.CopyFrom(publicKey), Signature = ByteString.CopyFrom(identity.CalculateSignature(publicKey)) };

    private static byte[] KyberKey() => [0x08, .. RandomNumberGenerator.GetBytes(1568)];
}
