namespace Parley.Client.Encryption;

/// <summary>
/// The end-to-end encryption seam: turns a serialized <c>Content</c> into the opaque payload for one
/// device, and an envelope's payload back into <c>Content</c> bytes. The SDK calls it once per
/// addressed device when sending and once per envelope when receiving; nothing else sees plaintext.
/// </summary>
public interface IPayloadCipher
{
    /// <summary>Encrypts <paramref name="plaintext"/> for one device of <paramref name="user"/>.</summary>
    ValueTask<byte[]> EncryptAsync(string user, uint deviceId, ReadOnlyMemory<byte> plaintext, CancellationToken cancellationToken);

    /// <summary>Decrypts a payload from one device of <paramref name="senderUser"/>; throws when it cannot be decrypted.</summary>
    ValueTask<byte[]> DecryptAsync(string senderUser, uint senderDevice, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);
}
