namespace Parley.Client.Groups;

/// <summary>Where one member device stands with one of our group messages: Sent, Delivered (it has it) or Read (the member read it).</summary>
/// <param name="User">The member.</param>
/// <param name="Device">The member's device.</param>
/// <param name="Status">The tick of that device; only ever moves forward.</param>
public sealed record MemberReceipt(string User, uint Device, MessageStatus Status);
