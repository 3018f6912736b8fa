namespace Parley.Server.Configuration;

/// <summary>Everything an operator can set, bound from the "Parley" configuration section.</summary>
public sealed class ParleyOptions
{
    /// <summary>Folder for the embedded database; created when missing.</summary>
    public string DataDir { get; set; } = "./data";

    /// <summary>Token for admin endpoints (invites); admin endpoints are off while it is empty.</summary>
    public string AdminToken { get; set; } = "";

    public RegistrationOptions Registration { get; set; } = new();

    public LimitOptions Limits { get; set; } = new();

    public StorageOptions Storage { get; set; } = new();

    public MediaOptions Media { get; set; } = new();
}
