using System.Security.Cryptography;

namespace Parley.Server.Push;

/// <summary>
/// The server's VAPID key pair (RFC 8292, ECDSA P-256): made at first start and kept in the data
/// folder (owner-only), so subscriptions made against its public key stay valid across restarts.
/// </summary>
public sealed class VapidKeys
{
    /// <summary>The key file in the data folder: a PKCS#8 PEM private key.</summary>
    public const string FileName = "push-vapid.pem";

    private VapidKeys(byte[] publicKey, byte[] privateKey)
    {
        PublicKey = publicKey;
        PrivateKey = privateKey;
    }

    /// <summary>Uncompressed P-256 point (65 bytes): the applicationServerKey browsers subscribe with.</summary>
    public byte[] PublicKey { get; }

    /// <summary>The private scalar (32 bytes).</summary>
    internal byte[] PrivateKey { get; }

    /// <summary>Loads the key pair from <paramref name="dataDir"/>, creating it (mode 0600) when missing.</summary>
    public static VapidKeys LoadOrCreate(string dataDir)
    {
        Directory.CreateDirectory(dataDir);
        var path = Path.Combine(dataDir, FileName);
        using var key = ECDsa.Create();
        if (File.Exists(path))
        {
            key.ImportFromPem(File.ReadAllText(path));
        }
        else
        {
            key.GenerateKey(ECCurve.NamedCurves.nistP256);
            var pem = key.ExportPkcs8PrivateKeyPem();
            var temp = path + ".tmp";
            var file = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                file.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            using (var writer = new StreamWriter(temp, file))
            {
                writer.Write(pem);
            }
            File.Move(temp, path, overwrite: false); // a concurrent first start keeps one key, not two
            return LoadOrCreate(dataDir);
        }
        var p = key.ExportParameters(includePrivateParameters: true);
        if (p.D is not { Length: 32 } || p.Q.X is not { Length: 32 } || p.Q.Y is not { Length: 32 })
        {
            throw new InvalidOperationException($"{path} is not a P-256 private key");
        }
        return new VapidKeys([0x04, .. p.Q.X, .. p.Q.Y], p.D);
    }
}
