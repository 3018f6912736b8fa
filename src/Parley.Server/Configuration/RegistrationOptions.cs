namespace Parley.Server.Configuration;

/// <summary>Registration policy settings.</summary>
public sealed class RegistrationOptions
{
    public RegistrationPolicy Policy { get; set; } = RegistrationPolicy.Open;

    /// <summary>How long a verification code stays valid.</summary>
    public int CodeLifetimeMinutes { get; set; } = 10;
}
