using System.Security.Cryptography;

namespace Parley.Crypto.Attachments;

/// <summary>
/// The 64-byte secret of one attachment: 32 bytes of AES-256-CBC key followed by 32 bytes of
/// HMAC-SHA256 key, as Signal lays it out. Never reuse one for two files; dispose it to zero it.
/// </summary>
public sealed class AttachmentKey : IDisposable
{
    /// <summary>Length of the combined key in bytes.</summary>
    public const int Length = 64;

    private const int HalfLength = 32;
    private readonly byte[] _material;
    private bool _disposed;

    private AttachmentKey(byte[] material)
    {
        _material = material;
    }

    /// <summary>Makes a fresh key from the system CSPRNG.</summary>
    public static AttachmentKey Generate() => new(RandomNumberGenerator.GetBytes(Length));

    /// <summary>Wraps a copy of a 64-byte key received inside an encrypted message.</summary>
    /// <exception cref="ArgumentException">The key is not exactly 64 bytes.</exception>
    public static AttachmentKey FromBytes(ReadOnlySpan<byte> material)
    {
        if (material.Length != Length)
        {
            throw new ArgumentException($"An attachment key is {Length} bytes, got {material.Length}.", nameof(material));
        }

        return new AttachmentKey(material.ToArray());
    }

    /// <summary>Returns a copy of the 64 key bytes, to send inside an encrypted message.</summary>
    public byte[] ToArray()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return (byte[])_material.Clone();
    }

    internal ReadOnlySpan<byte> CipherKey
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _material.AsSpan(0, HalfLength);
        }
    }

    internal ReadOnlySpan<byte> MacKey
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _material.AsSpan(HalfLength, HalfLength);
        }
    }

    /// <summary>Zeroes the key bytes.</summary>
    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_material);
        _disposed = true;
    }
}
