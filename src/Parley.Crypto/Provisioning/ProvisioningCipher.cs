using System.Security.Cryptography;
using Parley.Crypto.Ciphers;
using Parley.Crypto.Keys;

namespace Parley.Crypto.Provisioning;

/// <summary>
/// Seals a message to a new device's ephemeral Curve25519 key (the one in its link code), so a
/// relay in between sees only ciphertext: a fresh sender key pair, X25519, HKDF-SHA256 to an
/// AES-256-CBC key and an HMAC-SHA256 key, encrypt-then-MAC. Layout:
/// <c>version (1) ‖ sender public key (33) ‖ iv (16) ‖ ciphertext ‖ mac (32)</c>.
/// </summary>
public static class ProvisioningCipher
{
    private const byte Version = 1;
    private const int MacLength = 32;
    private const int IvLength = 16;
    private const int HeaderLength = 1 + EcPublicKey.SerializedLength + IvLength;
    private static readonly byte[] Info = "Parley Provisioning Message"u8.ToArray();

    /// <summary>Encrypts <paramref name="plaintext"/> so only the holder of <paramref name="recipient"/>'s private half can read it.</summary>
    public static byte[] Seal(EcPublicKey recipient, ReadOnlySpan<byte> plaintext)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        var sender = EcKeyPair.Generate();
        var (aesKey, macKey) = Keys(sender.PrivateKey.CalculateAgreement(recipient));
        var iv = RandomNumberGenerator.GetBytes(IvLength);
        using var aes = new AesCbc(aesKey);
        var ciphertext = aes.EncryptPkcs7(plaintext, iv);
        var sealedMessage = new byte[HeaderLength + ciphertext.Length + MacLength];
        sealedMessage[0] = Version;
        sender.PublicKey.Serialize().CopyTo(sealedMessage, 1);
        iv.CopyTo(sealedMessage, 1 + EcPublicKey.SerializedLength);
        ciphertext.CopyTo(sealedMessage, HeaderLength);
        HMACSHA256.HashData(macKey, sealedMessage.AsSpan(0, HeaderLength + ciphertext.Length), sealedMessage.AsSpan(HeaderLength + ciphertext.Length));
        return sealedMessage;
    }

    /// <summary>
    /// Opens what <see cref="Seal"/> made for <paramref name="recipient"/>. Throws
    /// <see cref="InvalidMacException"/> when it was altered or sealed to another key, and
    /// <see cref="InvalidMessageException"/> when it is malformed.
    /// </summary>
    public static byte[] Open(EcKeyPair recipient, ReadOnlySpan<byte> sealedMessage)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        if (sealedMessage.Length < HeaderLength + IvLength + MacLength || sealedMessage[0] != Version
            || (sealedMessage.Length - HeaderLength - MacLength) % IvLength != 0)
        {
            throw new InvalidMessageException("Not a provisioning message.");
        }
        var sender = EcPublicKey.Deserialize(sealedMessage.Slice(1, EcPublicKey.SerializedLength));
        var (aesKey, macKey) = Keys(recipient.PrivateKey.CalculateAgreement(sender));
        var body = sealedMessage[..^MacLength];
        Span<byte> mac = stackalloc byte[MacLength];
        HMACSHA256.HashData(macKey, body, mac);
        if (!CryptographicOperations.FixedTimeEquals(mac, sealedMessage[^MacLength..]))
        {
            throw new InvalidMacException("The provisioning message was altered or is not for this key.");
        }
        using var aes = new AesCbc(aesKey);
        try
        {
            return aes.DecryptPkcs7(body[HeaderLength..], sealedMessage.Slice(1 + EcPublicKey.SerializedLength, IvLength));
        }
        catch (CryptographicException e)
        {
            throw new InvalidMessageException("The provisioning message does not decrypt.", e);
        }
    }

    private static (byte[] AesKey, byte[] MacKey) Keys(byte[] shared)
    {
        var derived = HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, 64, salt: [], info: Info);
        return (derived[..32], derived[32..]);
    }
}
