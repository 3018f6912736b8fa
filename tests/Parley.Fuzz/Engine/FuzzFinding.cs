namespace Parley.Fuzz.Engine;

/// <summary>One input that broke the property: what it was and what happened.</summary>
/// <param name="Input">The input bytes.</param>
/// <param name="Problem">The exception (type, message, stack) or the hang.</param>
public sealed record FuzzFinding(byte[] Input, string Problem);
