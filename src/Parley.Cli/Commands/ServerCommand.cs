using System.CommandLine;
using Parley.Server;

namespace Parley.Cli.Commands;

/// <summary><c>parley server [--urls URL] [--data DIR] [--cert CERT.pem --key KEY.pem] [--Parley:Section:Key=value ...]</c>: runs the server in this process.</summary>
internal static class ServerCommand
{
    public static Command Create()
    {
        var urls = new Option<string?>("--urls") { Description = $"Address to listen on (default {ParleyServer.DefaultUrl})", HelpName = "URL" };
        var data = new Option<string?>("--data") { Description = "Data folder (default ./data)", HelpName = "DIR" };
        var cert = new Option<string?>("--cert") { Description = "TLS certificate (PEM, leaf first; or PFX) for https:// addresses", HelpName = "CERT.pem" };
        var key = new Option<string?>("--key") { Description = "Private key (PEM) of --cert", HelpName = "KEY.pem" };
        var command = new Command("server", "Run the Parley server in this process (Ctrl+C stops it)")
        {
            urls,
            data,
            cert,
            key,
        };
        // Anything else (--Parley:Limits:MaxConnections=...) goes to the server's configuration as is.
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, cancellationToken) =>
        {
            var args = new List<string>();
            if (parse.GetValue(urls) is { } u)
            {
                args.AddRange(["--urls", u]);
            }
            if (parse.GetValue(data) is { } d)
            {
                args.AddRange(["--data", d]);
            }
            if (parse.GetValue(cert) is { } c)
            {
                args.AddRange(["--cert", Path.GetFullPath(c)]);
            }
            if (parse.GetValue(key) is { } k)
            {
                args.AddRange(["--key", Path.GetFullPath(k)]);
            }
            args.AddRange(parse.UnmatchedTokens);
            var app = ParleyServer.Build([.. args]);
            await Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.RunAsync(app, cancellationToken);
            return ExitCodes.Ok;
        });
        return command;
    }
}
