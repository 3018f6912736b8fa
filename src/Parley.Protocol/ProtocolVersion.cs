namespace Parley.Protocol;

/// <summary>The wire protocol versions this build speaks; Hello negotiates the highest common one.</summary>
public static class ProtocolVersion
{
    /// <summary>The newest version this build speaks.</summary>
    public const uint Current = 1;

    /// <summary>The oldest version this build still accepts.</summary>
    public const uint Oldest = 1;

    /// <summary>Picks the highest version both sides speak, or null when there is none.</summary>
    public static uint? Negotiate(IEnumerable<uint> offered)
    {
        uint? best = null;
        foreach (var v in offered)
        {
            if (v >= Oldest && v <= Current && (best is null || v > best))
            {
                best = v;
            }
        }
        return best;
    }
}
