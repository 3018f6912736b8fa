namespace Parley.Crypto.Keys;

/// <summary>The result of encapsulating to a KEM public key: a 32-byte shared secret and the serialized ciphertext (type byte ‖ ciphertext) to send.</summary>
/// <param name="SharedSecret">32 bytes known only to the sender and the secret-key holder.</param>
/// <param name="Ciphertext">Type byte ‖ KEM ciphertext, as libsignal serializes it.</param>
public sealed record KemEncapsulation(byte[] SharedSecret, byte[] Ciphertext);
