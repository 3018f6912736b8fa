namespace Parley.Server.Push;

/// <summary>How soon the push service should wake the device (RFC 8030 Urgency).</summary>
public enum PushUrgency
{
    /// <summary>Other queued work (retry requests, future group changes): may wait for the device's next wake-up.</summary>
    Low,

    /// <summary>A message is waiting: wake the device now.</summary>
    High,
}
