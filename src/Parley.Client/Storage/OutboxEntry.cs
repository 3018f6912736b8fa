namespace Parley.Client.Storage;

/// <summary>One unsent send: the plaintext content is kept so it can be encrypted per device at (re)send time.</summary>
internal sealed record OutboxEntry(byte[] Id, string Peer, long SentAt, byte[] Content);
