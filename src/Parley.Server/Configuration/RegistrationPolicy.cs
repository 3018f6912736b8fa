namespace Parley.Server.Configuration;

/// <summary>Who may create an account.</summary>
public enum RegistrationPolicy
{
    /// <summary>Anyone who can reach the server (the embedded default).</summary>
    Open,

    /// <summary>Only with a verification code sent through the configured code sender.</summary>
    Code,

    /// <summary>Only with an admin-issued invite token.</summary>
    Invite,
}
