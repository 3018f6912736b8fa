using Parley.Crypto.Keys;

namespace Parley.Crypto.PreKeys;

/// <summary>
/// What a server hands out to start a session with one device: identity key, signed prekey (+ signature),
/// optionally a one-time prekey and a Kyber prekey (+ signature). Signatures are checked by
/// <see cref="VerifySignatures"/>, which session setup always calls before using any key.
/// </summary>
public sealed class PreKeyBundle
{
    private readonly byte[] _signedPreKeySignature;
    private readonly byte[]? _kyberPreKeySignature;

    /// <summary>Assembles a bundle; one-time and Kyber prekeys are optional (pass null for id, key and signature together).</summary>
    public PreKeyBundle(
        uint registrationId,
        uint deviceId,
        uint? preKeyId,
        EcPublicKey? preKeyPublic,
        uint signedPreKeyId,
        EcPublicKey signedPreKeyPublic,
        ReadOnlySpan<byte> signedPreKeySignature,
        IdentityKey identityKey,
        uint? kyberPreKeyId = null,
        KemPublicKey? kyberPreKeyPublic = null,
        byte[]? kyberPreKeySignature = null)
    {
        ArgumentNullException.ThrowIfNull(signedPreKeyPublic);
        ArgumentNullException.ThrowIfNull(identityKey);
        if ((preKeyId is null) != (preKeyPublic is null))
        {
            throw new ArgumentException("One-time prekey id and key must be given together.", nameof(preKeyPublic));
        }

        if ((kyberPreKeyId is null) != (kyberPreKeyPublic is null) || (kyberPreKeyPublic is null) != (kyberPreKeySignature is null))
        {
            throw new ArgumentException("Kyber prekey id, key and signature must be given together.", nameof(kyberPreKeyPublic));
        }

        RegistrationId = registrationId;
        DeviceId = deviceId;
        PreKeyId = preKeyId;
        PreKeyPublic = preKeyPublic;
        SignedPreKeyId = signedPreKeyId;
        SignedPreKeyPublic = signedPreKeyPublic;
        _signedPreKeySignature = signedPreKeySignature.ToArray();
        IdentityKey = identityKey;
        KyberPreKeyId = kyberPreKeyId;
        KyberPreKeyPublic = kyberPreKeyPublic;
        _kyberPreKeySignature = kyberPreKeySignature?.ToArray();
    }

    /// <summary>The device's registration id.</summary>
    public uint RegistrationId { get; }

    /// <summary>The device number.</summary>
    public uint DeviceId { get; }

    /// <summary>One-time prekey id, if one was available.</summary>
    public uint? PreKeyId { get; }

    /// <summary>One-time prekey, if one was available.</summary>
    public EcPublicKey? PreKeyPublic { get; }

    /// <summary>Signed prekey id.</summary>
    public uint SignedPreKeyId { get; }

    /// <summary>Signed prekey.</summary>
    public EcPublicKey SignedPreKeyPublic { get; }

    /// <summary>Identity signature over the serialized signed prekey.</summary>
    public ReadOnlySpan<byte> SignedPreKeySignature => _signedPreKeySignature;

    /// <summary>The device's identity key.</summary>
    public IdentityKey IdentityKey { get; }

    /// <summary>Kyber prekey id (PQXDH), if present.</summary>
    public uint? KyberPreKeyId { get; }

    /// <summary>Kyber prekey (PQXDH), if present.</summary>
    public KemPublicKey? KyberPreKeyPublic { get; }

    /// <summary>Identity signature over the serialized Kyber prekey, if present.</summary>
    public ReadOnlySpan<byte> KyberPreKeySignature => _kyberPreKeySignature;

    /// <summary>Throws <see cref="InvalidSignatureException"/> unless the identity key signed the signed prekey and (if present) the Kyber prekey.</summary>
    public void VerifySignatures()
    {
        if (!IdentityKey.VerifySignature(SignedPreKeyPublic.SerializedBytes, _signedPreKeySignature))
        {
            throw new InvalidSignatureException("Signed prekey signature does not verify under the bundle's identity key.");
        }

        if (KyberPreKeyPublic is not null && !IdentityKey.VerifySignature(KyberPreKeyPublic.SerializedBytes, _kyberPreKeySignature))
        {
            throw new InvalidSignatureException("Kyber prekey signature does not verify under the bundle's identity key.");
        }
    }
}
