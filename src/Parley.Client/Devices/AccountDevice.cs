namespace Parley.Client.Devices;

/// <summary>One device of this client's own account as the server knows it; times are unix milliseconds.</summary>
/// <param name="Id">The device id within the account (1 is the primary).</param>
/// <param name="Name">The name given when the device was registered or linked.</param>
/// <param name="AddedAt">When the server added the device.</param>
/// <param name="LastSeen">Its last connect or disconnect since the server started; 0 when unknown.</param>
/// <param name="Online">Whether it has a connection open now.</param>
/// <param name="IsThisDevice">Whether it is the device this client runs as.</param>
public sealed record AccountDevice(uint Id, string Name, long AddedAt, long LastSeen, bool Online, bool IsThisDevice);
