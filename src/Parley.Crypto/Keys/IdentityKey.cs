namespace Parley.Crypto.Keys;

/// <summary>A long-term identity public key (a Curve25519 key serialized 0x05‖32); equal when the keys are equal.</summary>
public sealed class IdentityKey : IEquatable<IdentityKey>
{
    /// <summary>Wraps a public key as an identity.</summary>
    public IdentityKey(EcPublicKey publicKey)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        PublicKey = publicKey;
    }

    /// <summary>The underlying Curve25519 key.</summary>
    public EcPublicKey PublicKey { get; }

    /// <summary>0x05 ‖ 32 bytes.</summary>
    public byte[] Serialize() => PublicKey.Serialize();

    /// <summary>Parses 0x05 ‖ 32 bytes or throws <see cref="InvalidKeyException"/>.</summary>
    public static IdentityKey Deserialize(ReadOnlySpan<byte> serialized) => new(EcPublicKey.Deserialize(serialized));

    /// <summary>True only if <paramref name="signature"/> is this identity's XEdDSA signature of <paramref name="message"/>.</summary>
    public bool VerifySignature(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature) =>
        PublicKey.VerifySignature(message, signature);

    /// <inheritdoc />
    public bool Equals(IdentityKey? other) => other is not null && PublicKey.Equals(other.PublicKey);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as IdentityKey);

    /// <inheritdoc />
    public override int GetHashCode() => PublicKey.GetHashCode();

    /// <inheritdoc />
    public override string ToString() => $"IdentityKey({PublicKey})";

    public static bool operator ==(IdentityKey? left, IdentityKey? right) =>
        left is null ? right is null : left.Equals(right);

    public static bool operator !=(IdentityKey? left, IdentityKey? right) => !(left == right);
}
