using Parley.Protocol;

namespace Parley.Server.Messaging;

/// <summary>An envelope bound for one device's queue; the store sets <c>Envelope.Seq</c> when it commits.</summary>
public sealed record QueuedEnvelope(long DeviceKey, Envelope Envelope);
