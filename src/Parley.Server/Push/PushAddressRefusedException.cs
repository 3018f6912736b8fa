namespace Parley.Server.Push;

/// <summary>A push host that resolves to no address a push may go to (see <see cref="PushAddresses"/>).</summary>
public sealed class PushAddressRefusedException(string message) : Exception(message);
