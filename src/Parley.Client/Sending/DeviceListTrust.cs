using Parley.Protocol;

namespace Parley.Client.Sending;

/// <summary>
/// Checks a signed device list of <paramref name="user"/> from the server and makes it the trusted
/// one (see ParleyClient.Devices.cs). Returns false when it fails and <paramref name="throwOnFailure"/>
/// is false; throws <see cref="ParleyException"/> when it fails and it is true.
/// </summary>
internal delegate bool DeviceListTrust(string user, SignedDeviceList? signed, bool throwOnFailure);
