using Microsoft.Extensions.Logging;

namespace Parley.Server.Accounts;

/// <summary>Writes verification codes to the server log, for a single operator who relays them by hand.</summary>
public sealed partial class ConsoleCodeSender(ILogger<ConsoleCodeSender> logger) : IVerificationCodeSender
{
    public Task SendAsync(string user, string? phone, string code, CancellationToken cancellationToken)
    {
        LogCode(logger, user, code);
        return Task.CompletedTask;
    }

    [LoggerMessage(LogLevel.Warning, "Verification code for {User}: {Code}")]
    private static partial void LogCode(ILogger logger, string user, string code);
}
