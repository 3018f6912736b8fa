using System.Collections.Concurrent;

namespace Parley.Server.Media;

/// <summary>
/// The uploads some request or the sweeper is changing right now, one holder each. A PATCH holds
/// its upload while it streams, so a second PATCH, a HEAD, a DELETE or an expiry sweep of the same
/// upload does not act on an offset still moving or delete files under a write the client will be
/// told succeeded.
/// </summary>
internal static class UploadLocks
{
    private static readonly ConcurrentDictionary<(IBlobStore, string), bool> Held = new();

    /// <summary>Takes the upload; false when another holds it.</summary>
    public static bool TryTake(IBlobStore store, string id) => Held.TryAdd((store, id), true);

    /// <summary>True while another holds the upload.</summary>
    public static bool IsHeld(IBlobStore store, string id) => Held.ContainsKey((store, id));

    /// <summary>Gives the upload back.</summary>
    public static void Release(IBlobStore store, string id) => Held.TryRemove((store, id), out _);
}
