namespace Parley.Server.Configuration;

/// <summary>The certificate https:// addresses serve (<c>parley server --cert CERT.pem --key KEY.pem</c>).</summary>
public sealed class TlsOptions
{
    /// <summary>Certificate chain: a PEM file (leaf first), or a PFX/PKCS#12 file holding its key.</summary>
    public string CertificatePath { get; set; } = "";

    /// <summary>Private key of the certificate as a PEM file; empty for a PFX.</summary>
    public string KeyPath { get; set; } = "";

    /// <summary>Password of an encrypted PEM key or of a PFX; empty when there is none.</summary>
    public string Password { get; set; } = "";
}
