using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Parley.Bench.Hosting;

/// <summary>
/// <c>--tls 1</c>: the server under test terminates TLS (https://, a throw-away self-signed
/// certificate), and the bench's clients, which speak plain TCP (the one-to-one epoll loop has no
/// TLS of its own), reach it through this relay: a loopback listener in the bench process that
/// opens one TLS connection to the server per client connection and copies bytes both ways. So
/// the server pays exactly what it pays for TLS clients (handshake, one record per client write,
/// encryption of every frame), while the relay's cost lands on the bench's CPU, not the server's.
/// </summary>
internal sealed class TlsRelay : IAsyncDisposable
{
    private const int CopyBufferBytes = 16 * 1024;

    private readonly Socket _listener;
    private readonly int _serverPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    private TlsRelay(int serverPort)
    {
        _serverPort = serverPort;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(4096);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _accepting = AcceptAsync();
    }

    /// <summary>The plain loopback port clients connect to.</summary>
    public int Port { get; }

    /// <summary>Starts relaying plain connections on a free loopback port to TLS on <paramref name="serverPort"/>.</summary>
    public static TlsRelay Start(int serverPort) => new(serverPort);

    /// <summary>A self-signed ECDSA P-256 certificate for 127.0.0.1, written as PEM (certificate, key) for the server's --cert/--key.</summary>
    public static (string CertPath, string KeyPath) WriteCertificate(string folder)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        var certPath = Path.Combine(folder, "bench-cert.pem");
        var keyPath = Path.Combine(folder, "bench-key.pem");
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        try
        {
            await _accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptAsync(_stop.Token);
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        client.NoDelay = true;
        var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await upstream.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _serverPort), _stop.Token);
            await using var tls = new SslStream(new NetworkStream(upstream, ownsSocket: true));
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "127.0.0.1",
                // The bench made the certificate a moment ago; checking it would prove nothing.
                RemoteCertificateValidationCallback = static (_, _, _, _) => true,
            }, _stop.Token);
            await using var plain = new NetworkStream(client, ownsSocket: true);
            var up = plain.CopyToAsync(tls, CopyBufferBytes, _stop.Token);
            var down = tls.CopyToAsync(plain, CopyBufferBytes, _stop.Token);
            await Task.WhenAny(up, down);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or AuthenticationException)
        {
            // one side closed or the run is over: the other side is closed below
        }
        finally
        {
            client.Dispose();
            upstream.Dispose();
        }
    }
}
