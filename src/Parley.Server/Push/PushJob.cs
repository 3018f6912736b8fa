namespace Parley.Server.Push;

/// <summary>One push to send to one device; <see cref="Attempt"/> counts tries from 1.</summary>
public readonly record struct PushJob(long DeviceKey, PushUrgency Urgency, int Attempt);
