namespace Parley.Server.Messaging;

/// <summary>What one device's durable queue holds now: envelopes and their stored bytes.</summary>
public readonly record struct QueueUsage(int Envelopes, long Bytes);
