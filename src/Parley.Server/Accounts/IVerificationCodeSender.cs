namespace Parley.Server.Accounts;

/// <summary>Delivers registration codes (SMS, e-mail, ...). Register another implementation to replace the console one.</summary>
public interface IVerificationCodeSender
{
    Task SendAsync(string user, string? phone, string code, CancellationToken cancellationToken);
}
