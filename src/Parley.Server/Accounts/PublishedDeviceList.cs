using Parley.Protocol;

namespace Parley.Server.Accounts;

/// <summary>An account's signed device list as its primary published it: the server serves it verbatim.</summary>
/// <param name="Version">The list's version (it only grows).</param>
/// <param name="AccountKey">The account identity public key that signed it; every later list must carry the same one.</param>
/// <param name="Signed">The list and its signature, exactly as uploaded.</param>
public sealed record PublishedDeviceList(ulong Version, byte[] AccountKey, SignedDeviceList Signed);
