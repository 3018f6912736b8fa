using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Parley.Server;

namespace Parley.EndToEnd.Tests;

public sealed class TlsTests
{
    [Fact]
    public async Task The_cli_registers_sends_and_receives_over_https_and_wss_trusting_a_CA_given_by_SSL_CERT_FILE()
    {
        var root = Directory.CreateTempSubdirectory("parley-tls-").FullName;
        try
        {
            var (caPem, certPem, keyPem, ca) = WriteCertificates(root);
            await using var server = await ServerProcess.StartTlsThroughCliAsync(Path.Combine(root, "data"), certPem, keyPem, Trusting(ca));
            var url = server.BaseUri.ToString();
            Assert.StartsWith("https://", url);
            string alice = Path.Combine(root, "alice"), bob = Path.Combine(root, "bob");

            // Without the CA the certificate is not trusted: TLS is really in the way.
            var untrusted = await Cli.RunAsync(new Dictionary<string, string> { ["SSL_CERT_FILE"] = Path.Combine(root, "none.pem") },
                "register", "--server", url, "--user", "alice", "--profile", alice, "--json");
            Assert.Equal(2, untrusted.ExitCode);

            var trust = new Dictionary<string, string> { ["SSL_CERT_FILE"] = caPem };
            Assert.Equal(0, (await Cli.RunAsync(trust, "register", "--server", url, "--user", "alice", "--profile", alice, "--json")).ExitCode);
            Assert.Equal(0, (await Cli.RunAsync(trust, "register", "--server", url, "--user", "bob", "--profile", bob, "--json")).ExitCode);
            var send = await Cli.RunAsync(trust, "send", "bob", "over tls", "--profile", alice, "--json");
            Assert.Equal(0, send.ExitCode);
            var receive = await Cli.RunAsync(trust, "receive", "--profile", bob, "--json");
            Assert.Equal(0, receive.ExitCode);
            Assert.Equal("over tls", receive.Single.GetProperty("text").GetString());
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    [Fact]
    public async Task On_all_interfaces_without_tls_the_server_warns_and_the_cli_sends_credentials_there_only_when_told_insecure()
    {
        var root = Directory.CreateTempSubdirectory("parley-insecure-").FullName;
        var log = new WarningLog();
        var app = ParleyServer.Build(["--urls", "http://0.0.0.0:0", "--data", Path.Combine(root, "data")],
            services: s => s.AddSingleton<ILoggerProvider>(log));
        try
        {
            await app.StartAsync();
            Assert.Contains(log.Lines, l => l.Contains("without TLS", StringComparison.Ordinal));
            // This machine by its name: not a loopback name, so the client sees another host.
            var port = new Uri(app.Urls.First().Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal)).Port;
            var remote = $"http://{Dns.GetHostName()}:{port}/";

            var refused = await Cli.RunAsync("register", "--server", remote, "--user", "alice", "--profile", Path.Combine(root, "a"), "--json");
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("insecure_transport", refused.Lines.Single(), StringComparison.Ordinal);

            var allowed = await Cli.RunAsync("register", "--server", remote, "--user", "alice", "--profile", Path.Combine(root, "b"), "--insecure", "--json");
            Assert.True(allowed.ExitCode == 0, allowed.Error);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    // Collects warnings the server logs.
    private sealed class WarningLog : ILoggerProvider, ILogger
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

        public IReadOnlyCollection<string> Lines => _lines;

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                _lines.Enqueue(formatter(state, exception));
            }
        }

        public void Dispose()
        {
        }
    }

    // A CA and a certificate it signed for 127.0.0.1 and localhost, as PEM files in dir.
    private static (string CaPem, string CertPem, string KeyPem, X509Certificate2 Ca) WriteCertificates(string dir)
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Parley Test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var leaf = request.Create(ca, now.AddMinutes(-5), now.AddDays(1), RandomNumberGenerator.GetBytes(8));

        string caPem = Path.Combine(dir, "ca.pem"), certPem = Path.Combine(dir, "cert.pem"), keyPem = Path.Combine(dir, "key.pem");
        File.WriteAllText(caPem, ca.ExportCertificatePem());
        File.WriteAllText(certPem, leaf.ExportCertificatePem());
        File.WriteAllText(keyPem, key.ExportPkcs8PrivateKeyPem());
        return (caPem, certPem, keyPem, ca);
    }

    // For the test's own health checks: trusts exactly the test CA.
    private static HttpClientHandler Trusting(X509Certificate2 ca) => new()
    {
        ServerCertificateCustomValidationCallback = (_, certificate, chain, _) =>
        {
            chain!.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(certificate!);
        },
    };
}
