namespace Parley.Server.Keys;

/// <summary>A public key with its id, and its signature by the identity key (empty for unsigned one-time EC prekeys).</summary>
public sealed record StoredSignedKey(uint Id, byte[] PublicKey, byte[] Signature, long UploadedAt = 0);
