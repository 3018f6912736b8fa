using System.Buffers.Text;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Parley.Server.Push;

/// <summary>
/// Signs the VAPID JWT (RFC 8292) of each Web Push request on its way out, replacing the one
/// Lib.Net.Http.WebPush made. The library's "aud" is scheme://host without the port, which is
/// not the push resource's origin when the push service listens on another port than the
/// scheme's default (self-hosted UnifiedPush distributors often do): such a service rightly
/// refuses the token. Here "aud" is the exact origin, "exp" comes from the injected clock.
/// </summary>
public sealed class VapidSigner(VapidKeys keys, string subject, TimeProvider time) : DelegatingHandler
{
    /// <summary>How long a token is valid; RFC 8292 allows at most 24 hours.</summary>
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    private static readonly string Header = Base64Url.EncodeToString("""{"typ":"JWT","alg":"ES256"}"""u8);

    private readonly string _publicKey = Base64Url.EncodeToString(keys.PublicKey);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Headers.Authorization?.Scheme == "vapid" && request.RequestUri is { } uri)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("vapid", $"t={Token(uri.GetLeftPart(UriPartial.Authority))}, k={_publicKey}");
        }
        return base.SendAsync(request, cancellationToken);
    }

    /// <summary>A signed JWT for <paramref name="audience"/>, the push service's origin.</summary>
    public string Token(string audience)
    {
        var claims = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["aud"] = audience,
            ["exp"] = (time.GetUtcNow() + Lifetime).ToUnixTimeSeconds(),
            ["sub"] = subject,
        });
        var signed = Header + "." + Base64Url.EncodeToString(claims);
        using var ecdsa = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            D = keys.PrivateKey,
            Q = new ECPoint { X = keys.PublicKey[1..33], Y = keys.PublicKey[33..] },
        });
        var signature = ecdsa.SignData(Encoding.ASCII.GetBytes(signed), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return signed + "." + Base64Url.EncodeToString(signature);
    }
}
