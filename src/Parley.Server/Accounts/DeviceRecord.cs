namespace Parley.Server.Accounts;

/// <summary>A device as stored: its secret only as a salted hash.</summary>
public sealed record DeviceRecord(uint Id, string Name, byte[] Salt, byte[] SecretHash, long CreatedAt);
