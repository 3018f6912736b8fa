using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Lib.Net.Http.WebPush;
using Lib.Net.Http.WebPush.Authentication;
using Parley.Server.Configuration;

namespace Parley.Server.Push;

/// <summary>
/// Sends one push to one subscription and classifies the answer. Web Push goes through
/// Lib.Net.Http.WebPush (aes128gcm encryption, headers), with the VAPID JWT re-signed by
/// <see cref="VapidSigner"/> (the library's has a wrong audience on non-default ports); the
/// gateway is a plain JSON POST.
/// Every request has its own timeout; redirects are not followed (a push URL must not bounce the
/// server's request elsewhere).
/// </summary>
public sealed class PushDelivery : IDisposable
{
    /// <summary>
    /// The whole plaintext of every Web Push: the same for every device and every push, so it
    /// says nothing about who wrote, what, or how much. The device connects and fetches.
    /// </summary>
    public const string WakeBody = """{"type":"wake"}""";

    /// <summary>Web Push Topic: a push service keeps only the newest undelivered push of a topic, so pushes never pile up.</summary>
    public const string Topic = "parley";

    private readonly HttpClient _http;
    private readonly PushServiceClient _webPush;
    private readonly VapidKeys _vapid;
    private readonly PushOptions _options;
    private readonly TimeProvider _time;
    private readonly int _ttlSeconds;

    public PushDelivery(VapidKeys vapid, ParleyOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _vapid = vapid;
        _options = options.Push;
        _time = time;
        // The queue keeps an envelope this long; a push older than that would wake the device for nothing.
        _ttlSeconds = (int)Math.Min(int.MaxValue, TimeSpan.FromDays(options.Limits.EnvelopeTtlDays).TotalSeconds);
        var sockets = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5), // follows DNS changes of push services
            ConnectTimeout = TimeSpan.FromSeconds(_options.RequestTimeoutSeconds),
            MaxResponseDrainSize = 16 * 1024,
            ConnectCallback = new PushAddresses(_options).ConnectAsync, // public addresses only, after DNS
        };
        _http = new HttpClient(new VapidSigner(vapid, _options.Subject, time) { InnerHandler = sockets })
        {
            Timeout = Timeout.InfiniteTimeSpan, // each request has its own, on the injected clock
            MaxResponseContentBufferSize = 64 * 1024,
        };
        _webPush = new PushServiceClient(_http) { AutoRetryAfter = false }; // retries are the scheduler's, on its clock and budget
    }

    /// <summary>Sends one content-free push to <paramref name="target"/>; never throws for what the far end does.</summary>
    public async Task<PushResult> SendAsync(PushTarget target, PushUrgency urgency, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(_options.RequestTimeoutSeconds), _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return target.Kind == PushKind.WebPush
                ? await WebPushAsync(target, urgency, linked.Token)
                : await GatewayAsync(target, urgency, linked.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new PushResult(PushOutcome.Retry); // timed out
        }
        catch (HttpRequestException e) when (e.InnerException is PushAddressRefusedException)
        {
            return new PushResult(PushOutcome.Failed); // a private address: retrying would not change it
        }
        catch (HttpRequestException)
        {
            return new PushResult(PushOutcome.Retry); // refused, reset, DNS: maybe better later
        }
    }

    private async Task<PushResult> WebPushAsync(PushTarget target, PushUrgency urgency, CancellationToken cancellationToken)
    {
        var subscription = new PushSubscription { Endpoint = target.Url };
        subscription.SetKey(PushEncryptionKeyName.P256DH, Base64Url.EncodeToString(target.P256dh));
        subscription.SetKey(PushEncryptionKeyName.Auth, Base64Url.EncodeToString(target.Auth));
        var message = new PushMessage(WakeBody)
        {
            Topic = Topic,
            TimeToLive = _ttlSeconds,
            Urgency = urgency == PushUrgency.High ? PushMessageUrgency.High : PushMessageUrgency.Low,
        };
        // The library insists on its own VAPID token (VapidSigner replaces it); one per request,
        // as its signer is not documented as thread-safe, and pushes are rare.
        using var vapid = new VapidAuthentication(Base64Url.EncodeToString(_vapid.PublicKey), Base64Url.EncodeToString(_vapid.PrivateKey))
        {
            Subject = _options.Subject,
        };
        try
        {
            await _webPush.RequestPushMessageDeliveryAsync(subscription, message, vapid, VapidAuthenticationScheme.Vapid, cancellationToken);
            return new PushResult(PushOutcome.Sent, 201);
        }
        catch (PushServiceClientException e)
        {
            return Classify(e.StatusCode, e.Headers?.RetryAfter);
        }
    }

    private async Task<PushResult> GatewayAsync(PushTarget target, PushUrgency urgency, CancellationToken cancellationToken)
    {
        var request = new GatewayRequest(new GatewayNotification([new GatewayDevice(target.Token!)], urgency == PushUrgency.High ? "high" : "low", _ttlSeconds));
        using var response = await _http.PostAsJsonAsync(target.Url, request, GatewayJson, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return Classify(response.StatusCode, response.Headers.RetryAfter);
        }
        try
        {
            var answer = await response.Content.ReadFromJsonAsync<GatewayResponse>(GatewayJson, cancellationToken);
            if (answer?.Rejected?.Contains(target.Token) == true)
            {
                return new PushResult(PushOutcome.Gone, (int)response.StatusCode);
            }
        }
        catch (JsonException)
        {
            // An empty or non-JSON 2xx body still means accepted.
        }
        return new PushResult(PushOutcome.Sent, (int)response.StatusCode);
    }

    private PushResult Classify(HttpStatusCode status, RetryConditionHeaderValue? retryAfter)
    {
        int code = (int)status;
        if (status is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            return new PushResult(PushOutcome.Gone, code);
        }
        if (status == HttpStatusCode.TooManyRequests || code >= 500)
        {
            TimeSpan? wait = retryAfter?.Delta ?? (retryAfter?.Date is { } at ? at - _time.GetUtcNow() : null);
            return new PushResult(PushOutcome.Retry, code, wait is { } w && w < TimeSpan.Zero ? TimeSpan.Zero : wait);
        }
        return new PushResult(PushOutcome.Failed, code);
    }

    public void Dispose() => _http.Dispose();

    private static readonly JsonSerializerOptions GatewayJson = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    private sealed record GatewayRequest(GatewayNotification Notification);

    private sealed record GatewayNotification(IReadOnlyList<GatewayDevice> Devices, [property: JsonPropertyName("prio")] string Priority, int Ttl);

    private sealed record GatewayDevice(string Pushkey);

    private sealed record GatewayResponse(IReadOnlyList<string>? Rejected);
}
