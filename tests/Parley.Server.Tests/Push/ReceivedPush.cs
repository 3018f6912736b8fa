namespace Parley.Server.Tests.Push;

/// <summary>A Web Push that passed the checks: its decrypted plaintext, the bytes on the wire and the headers that matter.</summary>
public sealed record ReceivedPush(string Subscriber, byte[] Plaintext, byte[] Body, byte[] VapidKey, int Ttl, string Urgency, string Topic);
