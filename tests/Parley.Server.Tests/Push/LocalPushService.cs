using System.Buffers.Binary;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Parley.Server.Tests.Push;

/// <summary>
/// A push service on 127.0.0.1 that does what a real one checks: every Web Push must carry a
/// valid VAPID JWT (RFC 8292: ES256 signature by the key in k=, aud = the endpoint's origin, exp
/// within 24 h, a contact in sub) and a body it can decrypt (RFC 8291 aes128gcm) with the
/// subscription's private key. Pushes that fail a check are answered 400 and listed in
/// <see cref="Problems"/>. Tests choose each answer with <see cref="Answer"/>. It also serves a
/// push gateway at <see cref="GatewayUri"/> that records the JSON it is sent.
/// </summary>
public sealed class LocalPushService : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, PushSubscriber> _subscribers = new();
    private int _hanging;

    private LocalPushService(WebApplication app, Uri baseUri)
    {
        _app = app;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    public Uri GatewayUri => new(BaseUri, "gateway");

    /// <summary>Decides the answer to the n-th request (from 1) for a subscriber (or "gateway"): status and Retry-After seconds.</summary>
    public Func<string, int, Task<(int Status, int? RetryAfter)>> Answer { get; set; } = (_, _) => Task.FromResult<(int, int?)>((201, null));

    /// <summary>Every Web Push that passed the checks, decrypted.</summary>
    public ConcurrentQueue<ReceivedPush> Pushes { get; } = new();

    /// <summary>Every gateway request body, as sent.</summary>
    public ConcurrentQueue<string> GatewayBodies { get; } = new();

    /// <summary>Why pushes were refused; a correct server leaves this empty.</summary>
    public ConcurrentQueue<string> Problems { get; } = new();

    /// <summary>Requests currently held open by an <see cref="Answer"/> that has not returned.</summary>
    public int Hanging => Volatile.Read(ref _hanging);

    private readonly ConcurrentDictionary<string, int> _requests = new();

    /// <summary>Requests received for a subscriber id (or "gateway"), whatever they were answered.</summary>
    public int Requests(string id) => _requests.GetValueOrDefault(id);

    public IReadOnlyList<ReceivedPush> PushesFor(PushSubscriber subscriber) => [.. Pushes.Where(p => p.Subscriber == subscriber.Id)];

    public static async Task<LocalPushService> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        LocalPushService? service = null;
        app.MapPost("/push/{id}", (string id, HttpContext http) => service!.OnPushAsync(id, http));
        app.MapPost("/gateway", (Func<HttpContext, Task<IResult>>)(http => service!.OnGatewayAsync(http)));
        await app.StartAsync();
        service = new LocalPushService(app, new Uri(app.Urls.First().TrimEnd('/') + "/"));
        return service;
    }

    /// <summary>A new subscription, as a browser makes one: its own P-256 key pair and auth secret.</summary>
    public PushSubscriber NewSubscriber()
    {
        var id = Guid.NewGuid().ToString("N");
        var subscriber = new PushSubscriber(id, new Uri(BaseUri, "push/" + id), ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256), RandomNumberGenerator.GetBytes(16));
        _subscribers[id] = subscriber;
        return subscriber;
    }

    private async Task<IResult> OnPushAsync(string id, HttpContext http)
    {
        int n = _requests.AddOrUpdate(id, 1, (_, v) => v + 1);
        using var body = new MemoryStream();
        await http.Request.Body.CopyToAsync(body);
        if (!_subscribers.TryGetValue(id, out var subscriber))
        {
            return Results.StatusCode(404);
        }
        ReceivedPush push;
        try
        {
            var vapidKey = CheckVapid(http.Request.Headers.Authorization.ToString());
            if (http.Request.Headers.ContentEncoding.ToString() != "aes128gcm")
            {
                throw new InvalidDataException("Content-Encoding must be aes128gcm");
            }
            var plaintext = Decrypt(body.ToArray(), subscriber);
            push = new ReceivedPush(id, plaintext, body.ToArray(), vapidKey, int.Parse(http.Request.Headers["TTL"].ToString(), System.Globalization.CultureInfo.InvariantCulture),
                http.Request.Headers["Urgency"].ToString(), http.Request.Headers["Topic"].ToString());
        }
        catch (Exception e) when (e is InvalidDataException or CryptographicException or FormatException or JsonException or ArgumentException or IndexOutOfRangeException)
        {
            Problems.Enqueue(e.Message);
            return Results.StatusCode(400);
        }
        var answer = await HoldAsync(id, n);
        if (answer.Status is >= 200 and < 300)
        {
            Pushes.Enqueue(push);
        }
        return Reply(http, answer);
    }

    private async Task<IResult> OnGatewayAsync(HttpContext http)
    {
        int n = _requests.AddOrUpdate("gateway", 1, (_, v) => v + 1);
        using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
        GatewayBodies.Enqueue(await reader.ReadToEndAsync());
        var answer = await HoldAsync("gateway", n);
        return answer.Status == 200 ? Results.Json(new { rejected = Array.Empty<string>() }) : Reply(http, answer);
    }

    private async Task<(int Status, int? RetryAfter)> HoldAsync(string id, int n)
    {
        Interlocked.Increment(ref _hanging);
        try
        {
            return await Answer(id, n);
        }
        finally
        {
            Interlocked.Decrement(ref _hanging);
        }
    }

    private static IResult Reply(HttpContext http, (int Status, int? RetryAfter) answer)
    {
        if (answer.RetryAfter is { } seconds)
        {
            http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return Results.StatusCode(answer.Status);
    }

    /// <summary>Checks "vapid t=JWT, k=KEY" (RFC 8292) and returns the key.</summary>
    private byte[] CheckVapid(string authorization)
    {
        if (!authorization.StartsWith("vapid ", StringComparison.Ordinal))
        {
            throw new InvalidDataException("Authorization must use the vapid scheme");
        }
        var parameters = authorization["vapid ".Length..].Split(',', StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        var key = Base64Url.DecodeFromChars(parameters["k"]);
        var parts = parameters["t"].Split('.');
        if (parts.Length != 3 || key.Length != 65 || key[0] != 4)
        {
            throw new InvalidDataException("malformed JWT or key");
        }
        using (var header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0])))
        {
            if (header.RootElement.GetProperty("alg").GetString() != "ES256")
            {
                throw new InvalidDataException("JWT alg must be ES256");
            }
        }
        using var ecdsa = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = key[1..33], Y = key[33..] } });
        if (!ecdsa.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url.DecodeFromChars(parts[2]), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
        {
            throw new InvalidDataException("JWT signature does not verify with k");
        }
        using var claims = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
        var aud = claims.RootElement.GetProperty("aud").GetString();
        if (aud != BaseUri.GetLeftPart(UriPartial.Authority))
        {
            throw new InvalidDataException($"aud {aud} is not this push service's origin");
        }
        var exp = DateTimeOffset.FromUnixTimeSeconds(claims.RootElement.GetProperty("exp").GetInt64());
        if (exp <= DateTimeOffset.UtcNow || exp > DateTimeOffset.UtcNow.AddHours(24))
        {
            throw new InvalidDataException("exp must be in the future and within 24 hours");
        }
        var sub = claims.RootElement.GetProperty("sub").GetString() ?? "";
        if (!sub.StartsWith("mailto:", StringComparison.Ordinal) && !sub.StartsWith("https:", StringComparison.Ordinal))
        {
            throw new InvalidDataException("sub must be a mailto: or https: contact");
        }
        return key;
    }

    /// <summary>RFC 8291 with RFC 8188 aes128gcm: one record, keyed by ECDH with the sender's key in the header.</summary>
    private static byte[] Decrypt(byte[] body, PushSubscriber subscriber)
    {
        var salt = body[..16];
        var recordSize = BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(16, 4));
        int idLength = body[20];
        if (idLength != 65)
        {
            throw new InvalidDataException("keyid must be the sender's 65-byte public key");
        }
        var senderPublic = body[21..86];
        var ciphertext = body[86..];
        if (ciphertext.Length > recordSize || ciphertext.Length < 17)
        {
            throw new InvalidDataException("expected exactly one record");
        }
        using var sender = ECDiffieHellman.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = senderPublic[1..33], Y = senderPublic[33..] } });
        var ecdhSecret = subscriber.Key.DeriveRawSecretAgreement(sender.PublicKey);
        byte[] keyInfo = [.. "WebPush: info\0"u8, .. subscriber.P256dh, .. senderPublic];
        var ikm = HKDF.DeriveKey(HashAlgorithmName.SHA256, ecdhSecret, 32, subscriber.Auth, keyInfo);
        var cek = HKDF.DeriveKey(HashAlgorithmName.SHA256, ikm, 16, salt, "Content-Encoding: aes128gcm\0"u8.ToArray());
        var nonce = HKDF.DeriveKey(HashAlgorithmName.SHA256, ikm, 12, salt, "Content-Encoding: nonce\0"u8.ToArray());
        var padded = new byte[ciphertext.Length - 16];
        using (var aes = new AesGcm(cek, 16))
        {
            aes.Decrypt(nonce, ciphertext[..^16], ciphertext[^16..], padded);
        }
        int end = padded.Length - 1;
        while (end >= 0 && padded[end] == 0)
        {
            end--;
        }
        if (end < 0 || padded[end] != 2)
        {
            throw new InvalidDataException("the last record must end with the 0x02 delimiter");
        }
        return padded[..end];
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        foreach (var s in _subscribers.Values)
        {
            s.Key.Dispose();
        }
    }
}
