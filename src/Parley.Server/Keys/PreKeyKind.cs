namespace Parley.Server.Keys;

/// <summary>The two kinds of one-time prekeys a device keeps on the server.</summary>
public enum PreKeyKind
{
    Ec = 0,
    Kyber = 1,
}
