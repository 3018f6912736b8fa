namespace Parley.Server.Messaging;

/// <summary>What makes a send unique: the sending device and its client-chosen message id.</summary>
public sealed record DedupKey(long SenderDeviceKey, byte[] MessageId);
