using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Parley.Server.Configuration;

namespace Parley.Server.Tls;

/// <summary>
/// The certificate the server's https:// addresses present, with the rest of its chain: from
/// <c>--cert</c>/<c>--key</c> (Parley:Tls), else from Kestrel's own configuration
/// (Kestrel:Certificates:Default: Path, KeyPath, Password).
/// </summary>
public sealed class ServerCertificate(X509Certificate2 certificate, X509Certificate2Collection chain)
{
    /// <summary>The leaf certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; } = certificate;

    /// <summary>Intermediate certificates sent along with the leaf (from the same PEM file).</summary>
    public X509Certificate2Collection Chain { get; } = chain;

    /// <summary>The configured certificate, or null when none is configured. Throws when one is configured but cannot be loaded.</summary>
    public static ServerCertificate? Load(TlsOptions tls, IConfiguration configuration)
    {
        var kestrel = configuration.GetSection("Kestrel:Certificates:Default");
        var (path, keyPath, password) = string.IsNullOrEmpty(tls.CertificatePath)
            ? (kestrel["Path"] ?? "", kestrel["KeyPath"] ?? "", kestrel["Password"] ?? "")
            : (tls.CertificatePath, tls.KeyPath, tls.Password);
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"The TLS certificate file {path} does not exist.");
        }
        if (string.IsNullOrEmpty(keyPath))
        {
            // No separate key: a PFX/PKCS#12 file holding the key (and maybe the chain).
            var all = X509CertificateLoader.LoadPkcs12CollectionFromFile(path, password.Length > 0 ? password : null);
            var leaf = all.FirstOrDefault(c => c.HasPrivateKey)
                ?? throw new InvalidOperationException($"{path} holds no certificate with a private key; give the key with --key KEY.pem.");
            all.Remove(leaf);
            return new ServerCertificate(leaf, all);
        }
        var certificate = password.Length > 0
            ? X509Certificate2.CreateFromEncryptedPemFile(path, password, keyPath)
            : X509Certificate2.CreateFromPemFile(path, keyPath);
        var chain = new X509Certificate2Collection();
        chain.ImportFromPemFile(path);
        foreach (var c in chain.Where(c => c.Thumbprint == certificate.Thumbprint).ToList())
        {
            chain.Remove(c);
        }
        return new ServerCertificate(certificate, chain);
    }

    /// <summary>
    /// The ports of the configured addresses (<c>--urls</c> and Kestrel:Endpoints) that are
    /// https://. The gateway adds TLS itself on those ports, so that it reads decrypted bytes.
    /// Throws when one port is both http:// and https://.
    /// </summary>
    public static ISet<int> HttpsPorts(IConfiguration configuration)
    {
        var urls = (configuration["urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Concat(configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]).OfType<string>());
        var https = new HashSet<int>();
        var http = new HashSet<int>();
        foreach (var url in urls)
        {
            bool secure = url.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
            int port = Port(url, secure);
            (secure ? https : http).Add(port);
        }
        if (https.Overlaps(http))
        {
            throw new InvalidOperationException("A port is given both as http:// and https:// (with port 0, give explicit ports to mix them).");
        }
        return https;
    }

    // "https://host:443", "http://*:8080", "https://[::]:0/": the port after the host, else the scheme's default.
    private static int Port(string url, bool secure)
    {
        var rest = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..];
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash >= 0 ? rest[..slash] : rest;
        int colon = authority.LastIndexOf(':');
        int bracket = authority.LastIndexOf(']');
        return colon > bracket && int.TryParse(authority[(colon + 1)..], out int port) ? port : secure ? 443 : 80;
    }
}
