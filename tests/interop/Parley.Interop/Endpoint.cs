namespace Parley.Interop;

/// <summary>One side of a 1:1 conversation: encrypts to and decrypts from the other side.</summary>
/// <param name="Name">For messages: "Parley" or "libsignal".</param>
/// <param name="Encrypt">Returns libsignal's message type (3 PreKey, 2 Whisper) and the bytes.</param>
/// <param name="Decrypt">Takes the type and bytes and returns the plaintext.</param>
internal sealed record Endpoint(
    string Name,
    Func<byte[], Task<(int Type, byte[] Body)>> Encrypt,
    Func<int, byte[], Task<byte[]>> Decrypt);
