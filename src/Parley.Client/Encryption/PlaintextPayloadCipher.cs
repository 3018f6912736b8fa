namespace Parley.Client.Encryption;

/// <summary>
/// Pass-through cipher used until Parley.Crypto is plugged in: the payload is the serialized
/// <c>Content</c> itself. Gives no confidentiality from the server.
/// </summary>
public sealed class PlaintextPayloadCipher : IPayloadCipher
{
    /// <summary>The shared instance (it holds no state).</summary>
    public static PlaintextPayloadCipher Instance { get; } = new();

    /// <inheritdoc />
    public ValueTask<byte[]> EncryptAsync(string user, uint deviceId, ReadOnlyMemory<byte> plaintext, CancellationToken cancellationToken)
        => ValueTask.FromResult(plaintext.ToArray());

    /// <inheritdoc />
    public ValueTask<byte[]> DecryptAsync(string senderUser, uint senderDevice, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
        => ValueTask.FromResult(payload.ToArray());
}
