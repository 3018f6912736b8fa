using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Google.Protobuf;
using Parley.Client.Connection;
using Parley.Client.Encryption;
using Parley.Client.Events;
using Parley.Client.Storage;
using Parley.Protocol;

namespace Parley.Client;

/// <summary>
/// One device of one account, backed by a profile folder (a SQLite store). Keeps a connection to the
/// server (reconnecting with jittered exponential backoff), sends through a durable outbox (resent on
/// every connect until SENT), stores every incoming message before acking it, and raises each
/// message once however often it is delivered. Every payload is end-to-end encrypted per device with
/// the Signal protocol (see ParleyClient.Encryption.cs). Every method is safe to call from any thread.
/// Events are raised on the connection's receive loop: handlers must return quickly and not block on this client.
/// </summary>
public sealed partial class ParleyClient : IAsyncDisposable
{
    /// <summary>The default profile folder: <c>~/.parley</c>.</summary>
    public static readonly string DefaultProfileDirectory =
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".parley");

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    private readonly ClientStore _store;
    private readonly ParleyClientOptions _options;
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _sendWaiters = new();
    private readonly Channel<bool> _outboxSignal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly HashSet<string> _presenceUsers = new(StringComparer.Ordinal);
    private CancellationTokenSource? _runCts;
    private Task? _runTask;
    private TaskCompletionSource<Session> _sessionReady = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Session? _session;
    private bool _disposed;
    private int _rateLimited;
    private int _duplicates;

    private ParleyClient(string profileDirectory, ClientStore store, DeviceCredentialsProfile credentials, ParleyClientOptions? options)
    {
        ProfileDirectory = profileDirectory;
        _store = store;
        Credentials = credentials;
        _options = options ?? new ParleyClientOptions();
        StartEncryption();
    }

    /// <summary>A message was stored for the first time (raised once per message, never for a duplicate).</summary>
    public event EventHandler<MessageReceivedEventArgs>? MessageReceived;

    /// <summary>A message's status moved forward (sent → delivered → read); never raised backwards.</summary>
    public event EventHandler<MessageStatusChangedEventArgs>? MessageStatusChanged;

    /// <summary>A subscribed user came online or went offline (also raised for each snapshot entry).</summary>
    public event EventHandler<PresenceChangedEventArgs>? PresenceChanged;

    /// <summary>A peer started or stopped typing.</summary>
    public event EventHandler<TypingChangedEventArgs>? TypingChanged;

    /// <summary>The stored queue of this connection has been received and stored; what follows is live.</summary>
    public event EventHandler? QueueDrained;

    /// <summary>The connection changed state.</summary>
    public event EventHandler<ConnectionStateChangedEventArgs>? ConnectionStateChanged;

    /// <summary>This device's credentials.</summary>
    public DeviceCredentialsProfile Credentials { get; }

    /// <summary>The profile folder this client's store lives in.</summary>
    public string ProfileDirectory { get; }

    /// <summary>The current connection state.</summary>
    public ConnectionState State { get; private set; }

    /// <summary>Why the last connection attempt or connection failed; null after a clean connect.</summary>
    public Exception? LastConnectionError { get; private set; }

    /// <summary>How many times the server answered RATE_LIMITED and this client waited (for tests and diagnostics).</summary>
    internal int RateLimitedCount => Volatile.Read(ref _rateLimited);

    /// <summary>How many delivered messages were already stored (redeliveries), acked and not raised again.</summary>
    internal int DuplicateDeliveries => Volatile.Read(ref _duplicates);

    /// <summary>Test switch: when false, envelopes are stored but never acked (the server will redeliver them).</summary>
    internal bool AcksEnabled { get; set; } = true;

    private string Me => Credentials.User;

    // ───────────────────────── profiles, registration, linking ─────────────────────────

    /// <summary>True when <paramref name="profileDirectory"/> holds credentials.</summary>
    public static bool IsRegistered(string profileDirectory)
    {
        if (!File.Exists(Path.Combine(profileDirectory, ClientStore.FileName)))
        {
            return false;
        }
        using var store = ClientStore.Open(profileDirectory);
        return store.LoadCredentials() is not null;
    }

    /// <summary>Opens a registered profile (does not connect). Throws when the profile has no credentials.</summary>
    public static ParleyClient Open(string profileDirectory, ParleyClientOptions? options = null)
    {
        var store = ClientStore.Open(profileDirectory);
        var credentials = store.LoadCredentials();
        if (credentials is null)
        {
            store.Dispose();
            throw new InvalidOperationException($"No account in profile {profileDirectory}: register or link first.");
        }
        return new ParleyClient(profileDirectory, store, credentials, options);
    }

    /// <summary>
    /// Creates an account on <paramref name="server"/> and saves this device's credentials in
    /// <paramref name="profileDirectory"/> (which must not hold an account yet). Does not connect.
    /// </summary>
    public static async Task<ParleyClient> RegisterAsync(
        string profileDirectory, Uri server, string user, string? code = null, string? invite = null,
        string? deviceName = null, ParleyClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (ServerAddressProblem(server) is { } problem)
        {
            throw new ArgumentException($"The server address {problem}.", nameof(server));
        }
        if (!UserName.IsValid(user))
        {
            throw new ArgumentException($"\"{user}\" is not a user name: {UserName.Rules}.", nameof(user));
        }
        if (IsRegistered(profileDirectory))
        {
            throw new InvalidOperationException($"Profile {profileDirectory} already holds an account.");
        }
        RequireSecureTransport(server, options);
        var creds = await PostAsync(server, RegistrationApi.Accounts, new RegisterRequest(user, null, code, invite, deviceName), null, cancellationToken);
        var client = SaveProfile(profileDirectory, server, creds, options);
        if (client._e2e is not null)
        {
            client.CreateAccountKey();
        }
        await client.PublishFirstKeysAsync(null, cancellationToken);
        return client;
    }

    /// <summary>
    /// Why <paramref name="server"/> cannot be a server address, in words for people, or null when
    /// it can: a server is named by scheme, host and port alone. A path or query would be stored in
    /// the profile and silently dropped or misapplied on every request.
    /// </summary>
    public static string? ServerAddressProblem(Uri server)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (!server.IsAbsoluteUri || (server.Scheme != Uri.UriSchemeHttp && server.Scheme != Uri.UriSchemeHttps))
        {
            return "must be an http:// or https:// address";
        }
        var root = $"{server.Scheme}://{server.Authority}";
        if (server.AbsolutePath != "/" || server.Query.Length > 0 || server.Fragment.Length > 0)
        {
            return $"takes the server's address alone, without a path or query: try {root}";
        }
        if (server.UserInfo.Length > 0)
        {
            return $"must not carry a user name or password: try {root}";
        }
        return null;
    }

    /// <summary>Asks the server to send a verification code for <paramref name="user"/> (registration policy "code").</summary>
    public static async Task RequestVerificationCodeAsync(Uri server, string user, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        using var http = NewHttp();
        using var response = await http.PostAsJsonAsync(new Uri(server, RegistrationApi.VerificationCode), new CodeRequest(user), Json, cancellationToken);
        await ThrowIfFailedAsync(response, cancellationToken);
    }

    /// <summary>
    /// Adds a new device to this account and saves its credentials in <paramref name="newProfileDirectory"/>.
    /// Returns the new device's client (not connected). Other devices learn of it on their next send (STALE_DEVICES).
    /// </summary>
    public async Task<ParleyClient> LinkDeviceAsync(string newProfileDirectory, string? deviceName = null, CancellationToken cancellationToken = default)
    {
        if (IsRegistered(newProfileDirectory))
        {
            throw new InvalidOperationException($"Profile {newProfileDirectory} already holds an account.");
        }
        RequireSecureTransport(Credentials.Server, _options);
        if (_e2e is not null && !IsPrimaryDevice)
        {
            throw new InvalidOperationException("Only the account's primary device (the one that registered) can link a device: it signs the device list.");
        }
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Me}.{Credentials.DeviceId}:{Credentials.Password}"));
        var creds = await PostAsync(Credentials.Server, RegistrationApi.Devices, new LinkDeviceRequest(deviceName),
            new AuthenticationHeaderValue("Basic", basic), cancellationToken);
        // Our own device list just changed: forget the cached one (empty = not cached) so the next send fetches it.
        _store.CacheDevices(Me, []);
        var linked = SaveProfile(newProfileDirectory, Credentials.Server, creds, _options);
        if (_e2e is not null)
        {
            // The new device has its own identity key; the account key (this primary's) signs the list that names it.
            await AddLinkedDeviceAsync(linked, cancellationToken);
            await linked.PublishFirstKeysAsync(null, cancellationToken);
        }
        return linked;
    }

    private static ParleyClient SaveProfile(string profileDirectory, Uri server, DeviceCredentials creds, ParleyClientOptions? options)
    {
        var store = ClientStore.Open(profileDirectory);
        var credentials = new DeviceCredentialsProfile(server, creds.User, creds.DeviceId, creds.Password);
        store.SaveCredentials(credentials);
        return new ParleyClient(profileDirectory, store, credentials, options);
    }

    private static async Task<DeviceCredentials> PostAsync<T>(Uri server, string path, T body, AuthenticationHeaderValue? auth, CancellationToken cancellationToken)
    {
        using var http = NewHttp();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server, path))
        {
            Content = JsonContent.Create(body, options: Json),
        };
        request.Headers.Authorization = auth;
        using var response = await http.SendAsync(request, cancellationToken);
        await ThrowIfFailedAsync(response, cancellationToken);
        try
        {
            var creds = await response.Content.ReadFromJsonAsync<DeviceCredentials>(Json, cancellationToken);
            if (creds is null || !UserName.IsValid(creds.User) || creds.DeviceId == 0 || string.IsNullOrEmpty(creds.Password))
            {
                throw new ParleyException(ErrorCode.BadRequest, "The server answered with malformed credentials.");
            }
            return creds;
        }
        catch (JsonException e)
        {
            throw new ParleyException(ErrorCode.BadRequest, "The server answered with malformed credentials.", inner: e);
        }
    }

    private static HttpClient NewHttp() => new()
    {
        Timeout = TimeSpan.FromSeconds(30),
        // Answers are small JSON bodies; a hostile server must not make us buffer more.
        MaxResponseContentBufferSize = 64 * 1024,
    };

    private static async Task ThrowIfFailedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        ApiError? error = null;
        try
        {
            error = await response.Content.ReadFromJsonAsync<ApiError>(Json, cancellationToken);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or HttpRequestException)
        {
        }
        var apiCode = error?.Code ?? ((int)response.StatusCode >= 500 ? "internal" : "bad_request");
        var code = apiCode switch
        {
            "unauthorized" => ErrorCode.Unauthorized,
            "rate_limited" => ErrorCode.RateLimited,
            "internal" => ErrorCode.Internal,
            _ => ErrorCode.BadRequest,
        };
        var retryAfter = response.Headers.RetryAfter?.Delta;
        throw new ParleyException(code, error?.Message ?? $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}", apiCode, retryAfter);
    }

    // ───────────────────────── connection ─────────────────────────

    /// <summary>
    /// Starts the connection (if not running) and waits until it is authenticated. Retries with
    /// backoff while the server is unreachable; throws <see cref="ParleyException"/> at once for bad
    /// credentials or no common protocol version.
    /// </summary>
    public async Task ConnectAsync(CancellationToken cancellationToken = default) => await GetSessionAsync(cancellationToken);

    /// <summary>Connects if needed and waits until the server's stored queue has been received and stored (QueueEmpty).</summary>
    public async Task SyncAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var session = await GetSessionAsync(cancellationToken);
            try
            {
                await session.Drained.Task.WaitAsync(cancellationToken);
                return;
            }
            catch (ParleyException e) when (e.IsConnectionLost)
            {
                // That connection ended mid-drain: the next one redelivers the rest.
            }
        }
    }

    /// <summary>Closes the connection cleanly (acks already queued are sent first) and stops reconnecting.</summary>
    public async Task DisconnectAsync()
    {
        Task? run;
        CancellationTokenSource? cts;
        lock (_gate)
        {
            run = _runTask;
            cts = _runCts;
            _runTask = null;
            _runCts = null;
        }
        if (cts is null || run is null)
        {
            return;
        }
        await cts.CancelAsync();
        await run;
        cts.Dispose();
        var stopped = ParleyException.ConnectionLost("The client was disconnected; the message stays in the outbox and is sent on the next connect.");
        foreach (var (id, waiter) in _sendWaiters)
        {
            if (_sendWaiters.TryRemove(id, out _))
            {
                waiter.TrySetException(stopped);
            }
        }
    }

    /// <summary>Test hook: drops the live connection without a close handshake, as a network failure would.</summary>
    internal void DropConnection() => _session?.Connection.Abort();

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        await DisconnectAsync();
        _media?.Dispose();
        _store.Dispose();
    }

    private async Task<Session> GetSessionAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        RequireSecureTransport(Credentials.Server, _options);
        while (true)
        {
            TaskCompletionSource<Session> ready;
            lock (_gate)
            {
                if (_runTask is null)
                {
                    _runCts = new CancellationTokenSource();
                    var token = _runCts.Token;
                    _runTask = Task.Run(() => RunAsync(token), CancellationToken.None);
                }
                ready = _sessionReady;
            }
            Session session;
            try
            {
                session = await ready.Task.WaitAsync(cancellationToken);
            }
            catch (ParleyException e) when (e.IsConnectionLost)
            {
                continue;
            }
            if (!session.Connection.Completion.IsCompleted)
            {
                return session;
            }
        }
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var backoff = new ReconnectBackoff(_options.ReconnectInitialDelay, _options.ReconnectMaxDelay);
        while (!stop.IsCancellationRequested)
        {
            SetState(ConnectionState.Connecting, null);
            Session? session = null;
            Exception? failure = null;
            Exception? fatal = null;
            var minimumDelay = TimeSpan.Zero;
            try
            {
                session = await OpenSessionAsync(stop);
                backoff.Reset();
                LastConnectionError = null;
                lock (_gate)
                {
                    _sessionReady.TrySetResult(session);
                }
                SetState(ConnectionState.Connected, null);
                StartDeviceListUpkeep(session);
                await RunSessionAsync(session, stop);
                failure = session.Connection.Failure
                    ?? (session.Connection.LastPushedError is { } err ? ParleyException.FromError(err) : null);
                if (session.Connection.CloseStatus == (WebSocketCloseStatus)4001)
                {
                    var replaced = new ParleyException(ErrorCode.Unavailable, "This device connected again elsewhere; this connection was replaced.");
                    if (_options.ReplacedRetryDelay is { } wait)
                    {
                        // Another short-lived process of the same profile took over: take the device back after it is done.
                        failure = replaced;
                        minimumDelay = wait;
                    }
                    else
                    {
                        fatal = replaced;
                    }
                }
                else if (failure is ParleyException { Code: ErrorCode.Unauthorized })
                {
                    fatal = failure;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (ParleyException e) when (e.Code is ErrorCode.Unauthorized or ErrorCode.UnsupportedVersion)
            {
                fatal = e;
            }
            catch (Exception e) when (e is ParleyException or WebSocketException or HttpRequestException or OperationCanceledException or IOException)
            {
                failure = e;
                if (e is ParleyException { Code: ErrorCode.RateLimited, RetryAfter: { } wait })
                {
                    minimumDelay = wait; // the server is backing off failed Hellos from here
                }
            }
            finally
            {
                var lost = ParleyException.ConnectionLost("Connection closed.");
                lock (_gate)
                {
                    if (_session == session)
                    {
                        _session = null;
                    }
                    var old = _sessionReady;
                    _sessionReady = new TaskCompletionSource<Session>(TaskCreationOptions.RunContinuationsAsynchronously);
                    if (fatal is not null)
                    {
                        // Retrying cannot help (bad credentials, replaced): stop until asked again. Cleared in
                        // the same lock as the swap, so a caller arriving now starts a fresh run, not waits on this one.
                        if (!stop.IsCancellationRequested)
                        {
                            _runTask = null;
                            _runCts = null;
                        }
                        old.TrySetException(fatal);
                    }
                    else
                    {
                        old.TrySetException(lost);
                    }
                }
                if (session is not null)
                {
                    session.Drained.TrySetException(lost);
                    session.ReleaseAckWaiters();
                    await session.Connection.DisposeAsync();
                }
            }

            LastConnectionError = fatal ?? failure ?? LastConnectionError;
            SetState(ConnectionState.Disconnected, fatal ?? failure);
            if (fatal is not null)
            {
                return;
            }
            try
            {
                var delay = backoff.Next();
                await Task.Delay(delay > minimumDelay ? delay : minimumDelay, _options.Time, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task<Session> OpenSessionAsync(CancellationToken stop)
    {
        var session = new Session();
        var uri = WebSocketUri(Credentials.Server);
        session.Connection = await FrameConnection.OpenAsync(uri, frame => OnPushAsync(session, frame), stop);
        lock (_gate)
        {
            // Known before Welcome: the stored queue starts arriving right behind it.
            _session = session;
        }
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
            timeout.CancelAfter(_options.HelloTimeout);
            var hello = new Hello { User = Me, DeviceId = Credentials.DeviceId, Password = Credentials.Password, Client = _options.ClientName };
            for (var v = ProtocolVersion.Oldest; v <= ProtocolVersion.Current; v++)
            {
                hello.ProtocolVersions.Add(v);
            }
            ServerFrame answer;
            try
            {
                answer = await session.Connection.RequestAsync(new ClientFrame { Hello = hello }, timeout.Token);
            }
            catch (ParleyException e) when (e.IsConnectionLost && session.Connection.LastPushedError is { } err)
            {
                throw ParleyException.FromError(err);
            }
            if (answer.BodyCase != ServerFrame.BodyOneofCase.Welcome || answer.Welcome.ProtocolVersion is < ProtocolVersion.Oldest or > ProtocolVersion.Current)
            {
                throw new ParleyException(ErrorCode.BadRequest, "The server did not answer Hello with a usable Welcome.");
            }
            session.Welcome = answer.Welcome;
            return session;
        }
        catch
        {
            await session.Connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Throws unless credentials may go to <paramref name="server"/>: https, this machine, or
    /// <see cref="ParleyClientOptions.AllowInsecureTransport"/>. Anyone on the path could read a
    /// password sent in clear, and replay it as this device.
    /// </summary>
    internal static void RequireSecureTransport(Uri server, ParleyClientOptions? options)
    {
        if (server.Scheme == Uri.UriSchemeHttps || server.IsLoopback || options?.AllowInsecureTransport == true)
        {
            return;
        }
        throw new ParleyException(ErrorCode.Unauthorized,
            $"refusing to send credentials in clear to {server.Host}: use an https:// server address, or allow it with --insecure (AllowInsecureTransport)",
            "insecure_transport");
    }

    private Uri WebSocketUri(Uri server)
    {
        RequireSecureTransport(server, _options);
        var builder = new UriBuilder(new Uri(server, RegistrationApi.WebSocket))
        {
            Scheme = server.Scheme == Uri.UriSchemeHttps ? "wss" : "ws",
        };
        return builder.Uri;
    }

    private async Task RunSessionAsync(Session session, CancellationToken stop)
    {
        using var sessionCts = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var token = sessionCts.Token;
        var ackPump = Guard(session, AckPumpAsync(session, CancellationToken.None));
        var others = new[]
        {
            Guard(session, OutboxPumpAsync(session, token)),
            Guard(session, HeartbeatAsync(session, token)),
            Guard(session, ResubscribeAsync(session, token)),
        };
        try
        {
            await session.Connection.Completion.WaitAsync(stop);
        }
        catch (OperationCanceledException)
        {
            // Asked to stop: send the acks for what is already stored, then close politely.
            session.Acks.Writer.TryComplete();
            try
            {
                await ackPump.WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None);
            }
            catch (TimeoutException)
            {
            }
            await session.Connection.CloseAsync();
        }
        session.Acks.Writer.TryComplete();
        session.Connection.Abort();
        await sessionCts.CancelAsync();
        await Task.WhenAll(others);
        await ackPump;
    }

    /// <summary>Runs a per-connection loop; a loop that fails unexpectedly drops the connection so the next one starts clean.</summary>
    private static async Task Guard(Session session, Task pump)
    {
        try
        {
            await pump;
        }
        catch (OperationCanceledException)
        {
        }
        catch (ParleyException e) when (e.IsConnectionLost)
        {
        }
        catch (Exception e) when (e is ParleyException or WebSocketException or ChannelClosedException or InvalidOperationException)
        {
            session.Connection.Abort();
        }
    }

    private async Task AckPumpAsync(Session session, CancellationToken cancellationToken)
    {
        var reader = session.Acks.Reader;
        while (await reader.WaitToReadAsync(cancellationToken))
        {
            var ack = new Ack();
            while (ack.Seqs.Count < WireLimits.MaxIdsPerFrame && reader.TryRead(out var seq))
            {
                ack.Seqs.Add(seq);
            }
            while (ack.Seqs.Count > 0)
            {
                try
                {
                    await session.Connection.RequestAsync(new ClientFrame { Ack = ack.Clone() }, cancellationToken);
                    session.Acked(ack.Seqs.Count);
                    break;
                }
                catch (ParleyException e) when (e.Code == ErrorCode.RateLimited)
                {
                    await Task.Delay(RetryDelay(e), _options.Time, cancellationToken);
                }
            }
        }
    }

    private async Task HeartbeatAsync(Session session, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.PingInterval, _options.Time);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.ResponseTimeout);
            try
            {
                var ping = new Ping { ClientTime = _options.Time.GetUtcNow().ToUnixTimeMilliseconds() };
                await session.Connection.RequestAsync(new ClientFrame { Ping = ping }, timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // No Pong in time: the link is dead even if the socket has not noticed.
                session.Connection.Abort();
                return;
            }
            catch (ParleyException e) when (e.Code == ErrorCode.RateLimited)
            {
                // Refused, but the server saw the frame: the link is alive, which is all a ping is for.
            }
        }
    }

    private async Task ResubscribeAsync(Session session, CancellationToken cancellationToken)
    {
        string[] users;
        lock (_gate)
        {
            users = [.. _presenceUsers];
        }
        if (users.Length > 0)
        {
            await SubscribeOnAsync(session, users, cancellationToken);
        }
    }

    private void SetState(ConnectionState state, Exception? error)
    {
        if (State == state && error is null)
        {
            return;
        }
        State = state;
        Raise(ConnectionStateChanged, new ConnectionStateChangedEventArgs(state, error));
    }

    // ───────────────────────── sending ─────────────────────────

    /// <summary>
    /// The longest text one message carries, in UTF-8 bytes: the wire's per-device payload limit
    /// (<see cref="WireLimits.MaxPayloadBytes"/>, 64 KiB) less 4 KiB kept for what encryption adds
    /// around the text (the Signal message framing and MAC, the PQXDH prekey header with its
    /// 1,568-byte ML-KEM ciphertext, the id of a resend), so a text that passes this check is never
    /// refused by the server. <see cref="CheckText"/> is the one place that enforces it.
    /// </summary>
    public const int MaxTextBytes = WireLimits.MaxPayloadBytes - 4 * 1024;

    /// <summary>
    /// Throws <see cref="ArgumentException"/> with a message for people when <paramref name="text"/>
    /// cannot be sent: empty, only white space, or longer than <see cref="MaxTextBytes"/>. Every send
    /// goes through here before anything is stored.
    /// </summary>
    public static void CheckText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ArgumentException("The message is empty: there is nothing to send but white space.", nameof(text));
        }
        var bytes = Encoding.UTF8.GetByteCount(text);
        if (bytes > MaxTextBytes)
        {
            throw new ArgumentException(
                $"The message is {bytes:N0} bytes; one message carries at most {MaxTextBytes:N0} bytes of text (UTF-8). Nothing was stored or sent.",
                nameof(text));
        }
    }

    /// <summary>
    /// Sends a text message to every device of <paramref name="peer"/> (and a sync copy to this
    /// account's other devices). The message is in the durable outbox before this returns or
    /// throws; the returned id comes back once the server has it durably (SENT). If cancelled or
    /// disconnected first, the message stays in the outbox and is sent on the next connect.
    /// Throws <see cref="ArgumentException"/> (nothing stored) for a bad peer name or a text
    /// <see cref="CheckText"/> refuses, and <see cref="ParleyException"/> (message marked Failed)
    /// when it cannot be encrypted: <c>ApiCode</c> <c>identity_changed</c> (a verified peer's key
    /// changed), <c>no_keys</c> or <c>bad_bundle</c>.
    /// </summary>
    public async Task<string> SendTextAsync(string peer, string text, CancellationToken cancellationToken = default)
    {
        var id = QueueText(peer, text);
        await WaitUntilSentAsync(id, cancellationToken);
        return id;
    }

    /// <summary>
    /// Stores a text message in the durable outbox (status Pending) and returns its id at once,
    /// without waiting for a connection: it goes out on this client's current or next connection,
    /// or on the next connect of any client of this profile. Throws <see cref="ArgumentException"/>
    /// (nothing stored) for a bad peer name or a text <see cref="CheckText"/> refuses.
    /// </summary>
    public string QueueText(string peer, string text)
    {
        if (!UserName.IsValid(peer))
        {
            throw new ArgumentException($"Cannot send to \"{peer}\": {UserName.Rules}.", nameof(peer));
        }
        if (peer == Me)
        {
            throw new ArgumentException("A conversation is with another user; your other devices get a copy of every send.", nameof(peer));
        }
        CheckText(text);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var content = new Content { Text = new TextMessage { Text = text } }.ToByteArray();
        var id = MessageId.New(_options.Time);
        var idText = MessageId.ToText(id);
        // Registered before the entry exists, so a connection already running cannot complete it unseen.
        _sendWaiters.TryAdd(idText, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            _store.AddOutgoing(id, peer, Me, Credentials.DeviceId, text, _options.Time.GetUtcNow().ToUnixTimeMilliseconds(), content);
        }
        catch
        {
            _sendWaiters.TryRemove(idText, out _);
            throw;
        }
        _outboxSignal.Writer.TryWrite(true);
        return idText;
    }

    /// <summary>
    /// Connects if needed and waits until the outbox entry <paramref name="messageId"/> is SENT
    /// (returns at once when it already left the outbox, here or in an earlier process). Throws
    /// <see cref="ParleyException"/> when the server or encryption refused it for good; on
    /// cancellation the message stays in the outbox.
    /// </summary>
    public async Task WaitUntilSentAsync(string messageId, CancellationToken cancellationToken = default)
    {
        var id = MessageId.Parse(messageId) ?? throw new ArgumentException($"Not a message id: {messageId}", nameof(messageId));
        var waiter = _sendWaiters.GetOrAdd(messageId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        // The store is updated before a waiter is completed: an entry gone from the outbox is settled.
        if (!_store.InOutbox(id))
        {
            if (!waiter.Task.IsCompleted)
            {
                _sendWaiters.TryRemove(new KeyValuePair<string, TaskCompletionSource>(messageId, waiter));
                if (_store.Find(id) is { Status: MessageStatus.Failed })
                {
                    throw new ParleyException(ErrorCode.BadRequest, $"Message {messageId} was refused and not sent.", "failed");
                }
                return;
            }
        }
        try
        {
            await GetSessionAsync(cancellationToken);
            await waiter.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The message stays in the outbox for the next connect; a later wait registers again.
            _sendWaiters.TryRemove(new KeyValuePair<string, TaskCompletionSource>(messageId, waiter));
            throw;
        }
    }

    /// <summary>The ids of this account's messages waiting in the outbox for SENT, oldest first.</summary>
    public IReadOnlyList<string> QueuedMessageIds() =>
        [.. _store.OutboxIds()
            .Where(id => _store.Find(id) is { Direction: MessageDirection.Outgoing } m && m.Sender == Me)
            .Select(id => MessageId.ToText(id))];

    /// <summary>
    /// Connects if needed and waits until each of <paramref name="messageIds"/> (by default the
    /// <see cref="QueuedMessageIds"/> of now) is SENT or refused for good. Returns the ids sent, in
    /// order; the refused ones go to <paramref name="refused"/> with the reason.
    /// </summary>
    public async Task<IReadOnlyList<string>> FlushOutboxAsync(IReadOnlyList<string>? messageIds = null,
        ICollection<(string MessageId, string Reason)>? refused = null, CancellationToken cancellationToken = default)
    {
        var sent = new List<string>();
        foreach (var id in messageIds ?? QueuedMessageIds())
        {
            try
            {
                await WaitUntilSentAsync(id, cancellationToken);
                sent.Add(id);
            }
            catch (ParleyException e) when (!e.IsConnectionLost)
            {
                refused?.Add((id, e.Message));
            }
        }
        return sent;
    }

    /// <summary>Test hook: puts an already-SENT message back in the outbox and waits until it is SENT again (the server must dedup it).</summary>
    internal async Task ResendAsync(string messageId, CancellationToken cancellationToken)
    {
        var id = MessageId.Parse(messageId) ?? throw new ArgumentException("Not a message id.", nameof(messageId));
        var message = _store.Find(id) ?? throw new ArgumentException("Unknown message.", nameof(messageId));
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _sendWaiters[messageId] = sent;
        _store.Requeue(id, Me, new Content { Text = new TextMessage { Text = message.Text } }.ToByteArray());
        _outboxSignal.Writer.TryWrite(true);
        await GetSessionAsync(cancellationToken);
        await sent.Task.WaitAsync(cancellationToken);
    }

    private async Task OutboxPumpAsync(Session session, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var entry = _store.NextOutbox();
            if (entry is null)
            {
                await _outboxSignal.Reader.ReadAsync(cancellationToken);
                continue;
            }
            await SendEntryAsync(session, entry, cancellationToken);
        }
    }

    private async Task SendEntryAsync(Session session, OutboxEntry entry, CancellationToken cancellationToken)
    {
        var idText = MessageId.ToText(entry.Id);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var send = await BuildSendAsync(session, entry, cancellationToken);
                if (send is null)
                {
                    // A resend whose device changed identity: dropped unsent.
                    _store.CompleteOutbox(entry.Id, Me);
                    return;
                }
                if (send.Payloads.Count > WireLimits.MaxPayloadsPerSend)
                {
                    throw new ParleyException(ErrorCode.TooLarge, "Too many devices to address in one send.");
                }
                var answer = await session.Connection.RequestAsync(new ClientFrame { Send = send }, cancellationToken);
                if (answer.BodyCase != ServerFrame.BodyOneofCase.SendResult)
                {
                    throw new ParleyException(ErrorCode.BadRequest, "The server did not answer SendMessage with SendResult.");
                }
                if (_store.CompleteOutbox(entry.Id, Me))
                {
                    Raise(MessageStatusChanged, new MessageStatusChangedEventArgs(idText, entry.Peer, MessageStatus.Sent));
                }
                CompleteSend(idText, null);
                return;
            }
            catch (ParleyException e) when (e.Code == ErrorCode.StaleDevices && attempt < 8)
            {
                // Someone linked or removed a device since we cached the lists: take the server's and retry at once.
                foreach (var list in e.Devices)
                {
                    if (UserName.IsValid(list.User))
                    {
                        // A list that fails its signature check is not cached: the next build fetches it and fails the send.
                        _store.CacheDevices(list.User, TryTrustSignedList(list.User, list.Signed) ? list.DeviceIds : []);
                    }
                }
                if (e.Devices.Count == 0)
                {
                    // No lists given: drop ours (an empty list counts as not cached) and fetch them again.
                    _store.CacheDevices(entry.Peer, []);
                    _store.CacheDevices(Me, []);
                }
            }
            catch (ParleyException e) when (e.Code == ErrorCode.RateLimited)
            {
                await Task.Delay(RetryDelay(e), _options.Time, cancellationToken);
            }
            catch (ParleyException e) when (e.Code == ErrorCode.Internal && attempt < 20)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * (attempt + 1)), _options.Time, cancellationToken);
            }
            catch (ParleyException e) when (e.Code is ErrorCode.UnknownUser or ErrorCode.BadRequest or ErrorCode.TooLarge or ErrorCode.StaleDevices or ErrorCode.Internal or ErrorCode.NotFound or ErrorCode.UnknownType
                or ErrorCode.RecipientQueueFull or ErrorCode.Forbidden)
            {
                // Refused for good: resending would be refused again (a full recipient queue stays
                // full until the recipient comes online, which may take days; the user resends then).
                _store.FailOutbox(entry.Id, Me);
                Raise(MessageStatusChanged, new MessageStatusChangedEventArgs(idText, entry.Peer, MessageStatus.Failed));
                CompleteSend(idText, e);
                return;
            }
        }
    }

    private async Task<DevicePayload> SealAsync(string user, uint device, byte[] content, CancellationToken cancellationToken)
    {
        var payload = await _options.Cipher!.EncryptAsync(user, device, content, cancellationToken);
        return new DevicePayload { User = user, DeviceId = device, Payload = ByteString.CopyFrom(payload) };
    }

    private void CompleteSend(string idText, Exception? error)
    {
        if (_sendWaiters.TryRemove(idText, out var waiter))
        {
            if (error is null)
            {
                waiter.TrySetResult();
            }
            else
            {
                waiter.TrySetException(error);
            }
        }
    }

    private async Task<IReadOnlyList<uint>> DevicesOnAsync(Session session, string user, CancellationToken cancellationToken)
    {
        if (_store.CachedDevices(user) is { Count: > 0 } cached && (_e2e is null || _store.TrustedList(user) is not null))
        {
            return cached;
        }
        var answer = await session.Connection.RequestAsync(new ClientFrame { GetDevices = new GetDevices { User = user } }, cancellationToken);
        if (answer.BodyCase != ServerFrame.BodyOneofCase.DeviceList)
        {
            throw new ParleyException(ErrorCode.BadRequest, "The server did not answer GetDevices with DeviceList.");
        }
        TrustSignedList(user, answer.DeviceList.Signed);
        var ids = answer.DeviceList.DeviceIds.Distinct().Take(WireLimits.MaxPayloadsPerSend + 1).ToArray();
        _store.CacheDevices(user, ids);
        return ids;
    }

    // ───────────────────────── other requests ─────────────────────────

    /// <summary>The current device ids of <paramref name="user"/> (also refreshes the cached list used for sends).</summary>
    public async Task<IReadOnlyList<uint>> GetDevicesAsync(string user, CancellationToken cancellationToken = default)
    {
        var answer = await RequestAsync(() => new ClientFrame { GetDevices = new GetDevices { User = user } }, cancellationToken);
        TrustSignedList(user, answer.DeviceList?.Signed);
        var ids = answer.DeviceList?.DeviceIds.ToArray() ?? [];
        _store.CacheDevices(user, ids);
        return ids;
    }

    /// <summary>
    /// Marks messages from <paramref name="peer"/> read here and sends READ to the peer (and to this
    /// account's other devices); returns once the server has stored the receipts.
    /// </summary>
    public async Task MarkReadAsync(string peer, IEnumerable<string> messageIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messageIds);
        var ids = new List<byte[]>();
        foreach (var text in messageIds)
        {
            var id = MessageId.Parse(text) ?? throw new ArgumentException($"Not a message id: {text}", nameof(messageIds));
            ids.Add(id);
        }
        foreach (var chunk in ids.Chunk(WireLimits.MaxIdsPerFrame))
        {
            try
            {
                await RequestAsync(afterAcks: true, () =>
                {
                    var read = new ReadReceipt { Peer = peer };
                    read.MessageIds.AddRange(chunk.Select(ByteString.CopyFrom));
                    return new ClientFrame { Read = read };
                }, cancellationToken);
            }
            catch (ParleyException e) when (e.Code == ErrorCode.NotFound)
            {
                // The server has no record of these (older than its dedup window): the peer gets
                // no READ for them, but they are still read here.
            }
            foreach (var id in chunk)
            {
                if (_store.Advance(peer, peer, id, MessageStatus.Read) is { } changed)
                {
                    Raise(MessageStatusChanged, new MessageStatusChangedEventArgs(changed.Id, peer, MessageStatus.Read));
                }
            }
        }
    }

    /// <summary>
    /// Tells <paramref name="peer"/>'s online devices that this user is (or stopped) typing. Ephemeral: never queued.
    /// The server passes typing only between users with a conversation (a message either way); before that it is dropped.
    /// </summary>
    public async Task SetTypingAsync(string peer, bool typing, CancellationToken cancellationToken = default)
    {
        try
        {
            await RequestAsync(() => new ClientFrame { Typing = new Typing { Peer = peer, Typing_ = typing } }, cancellationToken);
        }
        catch (ParleyException e) when (e.Code == ErrorCode.Forbidden)
        {
            // No conversation with the peer yet: there is nobody to show it to.
        }
    }

    /// <summary>
    /// Sets who may see this user's presence and last seen: <see cref="PresenceVisibility.Contacts"/> (users this
    /// user has sent a message to; the default), <see cref="PresenceVisibility.Everyone"/> or <see cref="PresenceVisibility.Nobody"/>.
    /// Stored by the server for the account (all devices); returns once it is stored.
    /// </summary>
    public async Task SetPresenceVisibilityAsync(PresenceVisibility visibility, CancellationToken cancellationToken = default)
        => await RequestAsync(() => new ClientFrame { PresenceVisibility = new SetPresenceVisibility { Visibility = visibility } }, cancellationToken);

    /// <summary>
    /// Subscribes to the presence of <paramref name="users"/> (renewed on every reconnect) and returns
    /// their current state; later changes raise <see cref="PresenceChanged"/>.
    /// </summary>
    public async Task<IReadOnlyList<PresenceChangedEventArgs>> SubscribePresenceAsync(IEnumerable<string> users, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(users);
        var list = users.Distinct().ToArray();
        lock (_gate)
        {
            _presenceUsers.UnionWith(list);
        }
        while (true)
        {
            var session = await GetSessionAsync(cancellationToken);
            try
            {
                return await SubscribeOnAsync(session, list, cancellationToken);
            }
            catch (ParleyException e) when (e.IsConnectionLost)
            {
            }
        }
    }

    private async Task<IReadOnlyList<PresenceChangedEventArgs>> SubscribeOnAsync(Session session, string[] users, CancellationToken cancellationToken)
    {
        var subscribe = new SubscribePresence();
        subscribe.Users.AddRange(users);
        var answer = await session.Connection.RequestAsync(new ClientFrame { Presence = subscribe }, cancellationToken);
        var result = new List<PresenceChangedEventArgs>();
        foreach (var update in answer.PresenceSnapshot?.Users ?? [])
        {
            var args = ToPresence(update);
            result.Add(args);
            Raise(PresenceChanged, args);
        }
        return result;
    }

    private static PresenceChangedEventArgs ToPresence(PresenceUpdate update) =>
        new(update.User, update.Online, update.LastSeen > 0 ? FromUnixMs(update.LastSeen) : null);

    /// <summary>Makes a request on the current connection, retrying on a new one when the connection drops or the server asks to slow down.</summary>
    private Task<ServerFrame> RequestAsync(Func<ClientFrame> frame, CancellationToken cancellationToken) =>
        RequestAsync(afterAcks: false, frame, cancellationToken);

    private async Task<ServerFrame> RequestAsync(bool afterAcks, Func<ClientFrame> frame, CancellationToken cancellationToken)
    {
        while (true)
        {
            var session = await GetSessionAsync(cancellationToken);
            try
            {
                if (afterAcks)
                {
                    await session.AckedSoFarAsync().WaitAsync(cancellationToken);
                }
                return await session.Connection.RequestAsync(frame(), cancellationToken);
            }
            catch (ParleyException e) when (e.IsConnectionLost)
            {
            }
            catch (ParleyException e) when (e.Code == ErrorCode.RateLimited)
            {
                await Task.Delay(RetryDelay(e), _options.Time, cancellationToken);
            }
        }
    }

    // ───────────────────────── local store queries ─────────────────────────

    /// <summary>The stored message with this id, or null.</summary>
    public StoredMessage? FindMessage(string messageId) =>
        MessageId.Parse(messageId) is { } id ? _store.Find(id) : null;

    /// <summary>The last <paramref name="limit"/> messages with <paramref name="peer"/>, oldest first.</summary>
    public IReadOnlyList<StoredMessage> GetConversation(string peer, int limit = 50) => _store.Conversation(peer, limit);

    /// <summary>
    /// Messages that arrived and were not yet shown (of the conversation with <paramref name="peer"/>,
    /// or all), oldest first; each is returned once across calls and processes. Includes the copies of
    /// what this account sent from its other devices (<see cref="MessageDirection.Outgoing"/>), never
    /// what this device sent.
    /// </summary>
    public IReadOnlyList<StoredMessage> TakeUnshownMessages(string? peer = null) => _store.TakeUnshown(peer);

    /// <summary>Number of messages still waiting in the outbox for SENT.</summary>
    public int PendingSends => _store.OutboxCount();

    // ───────────────────────── receiving ─────────────────────────

    private async Task OnPushAsync(Session session, ServerFrame frame)
    {
        switch (frame.BodyCase)
        {
            case ServerFrame.BodyOneofCase.Envelope:
                await OnEnvelopeAsync(session, frame.Envelope);
                break;
            case ServerFrame.BodyOneofCase.QueueEmpty:
                session.Drained.TrySetResult();
                Raise(QueueDrained, EventArgs.Empty);
                break;
            case ServerFrame.BodyOneofCase.PresenceUpdate:
                Raise(PresenceChanged, ToPresence(frame.PresenceUpdate));
                break;
            case ServerFrame.BodyOneofCase.TypingUpdate:
                var t = frame.TypingUpdate;
                if (UserName.IsValid(t.User))
                {
                    Raise(TypingChanged, new TypingChangedEventArgs(t.User, t.DeviceId, t.Typing));
                }
                break;
            case ServerFrame.BodyOneofCase.PrekeysLow:
                OnPreKeysLow(session, frame.PrekeysLow);
                break;
            default:
                // Anything newer than this build: nothing to do.
                break;
        }
    }

    private async Task OnEnvelopeAsync(Session session, Envelope envelope)
    {
        switch (envelope.Kind)
        {
            case EnvelopeKind.Message when !envelope.GroupId.IsEmpty:
                // A group message is sender-key ciphertext, which this SDK does not open yet: never
                // try it as a 1:1 message (that would send the sender a pointless retry request).
                Ack(session, envelope.Seq);
                break;
            case EnvelopeKind.Message:
                StoredMessage? message;
                bool isNew;
                if (_e2e is not null)
                {
                    // Decrypted and stored in one transaction (or a retry request queued) before the ack.
                    (message, isNew) = ReceiveEncrypted(envelope);
                }
                else
                {
                    message = await OpenMessageAsync(envelope);
                    isNew = message is not null && _store.InsertReceived(message, envelope.MessageId.ToByteArray());
                }
                // Stored (or known to be unusable) before acking: nothing acked can be lost.
                Ack(session, envelope.Seq);
                if (isNew)
                {
                    Raise(MessageReceived, new MessageReceivedEventArgs(message!));
                }
                else if (message is not null)
                {
                    Interlocked.Increment(ref _duplicates);
                }
                break;
            case EnvelopeKind.DeliveryReceipt:
            case EnvelopeKind.ReadReceipt:
                var changes = ApplyReceipt(envelope);
                Ack(session, envelope.Seq);
                foreach (var change in changes)
                {
                    Raise(MessageStatusChanged, change);
                }
                break;
            case EnvelopeKind.RetryRequest:
                // The resend is queued durably before the ack.
                OnRetryRequest(envelope);
                Ack(session, envelope.Seq);
                break;
            default:
                Ack(session, envelope.Seq);
                break;
        }
    }

    private async Task<StoredMessage?> OpenMessageAsync(Envelope envelope)
    {
        if (envelope.MessageId.Length != WireLimits.MessageIdBytes || !UserName.IsValid(envelope.Sender))
        {
            return null;
        }
        var fromSelf = envelope.Sender == Me;
        var peer = fromSelf ? envelope.Conversation : envelope.Sender;
        if (!UserName.IsValid(peer) || peer == Me || (fromSelf && envelope.SenderDevice == Credentials.DeviceId))
        {
            return null;
        }
        Content content;
        try
        {
            var plain = await _options.Cipher!.DecryptAsync(envelope.Sender, envelope.SenderDevice, envelope.Payload.Memory, CancellationToken.None);
            content = Content.Parser.ParseFrom(plain);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Undecryptable or malformed: dropping it is all we can do until retry requests exist.
            return null;
        }
        return ShownText(content, out _) is { } text
            ? ReceivedText(MessageId.ToText(envelope.MessageId.Span), peer, fromSelf, envelope, text)
            : null;
    }

    // A text as it is stored on arrival: from a peer, or the sync copy of what another of our own
    // devices sent (outgoing, and already past the server).
    private static StoredMessage ReceivedText(string id, string peer, bool fromSelf, Envelope envelope, string text) => new(
        id,
        peer,
        fromSelf ? MessageDirection.Outgoing : MessageDirection.Incoming,
        envelope.Sender,
        envelope.SenderDevice,
        text,
        FromUnixMs(envelope.SentAt),
        fromSelf ? MessageStatus.Sent : MessageStatus.Delivered);

    private List<MessageStatusChangedEventArgs> ApplyReceipt(Envelope envelope)
    {
        var changes = new List<MessageStatusChangedEventArgs>();
        if (!UserName.IsValid(envelope.Sender))
        {
            return changes;
        }
        var status = envelope.Kind == EnvelopeKind.ReadReceipt ? MessageStatus.Read : MessageStatus.Delivered;
        foreach (var raw in envelope.ReceiptIds.Take(WireLimits.MaxIdsPerFrame))
        {
            if (raw.Length != WireLimits.MessageIdBytes)
            {
                continue;
            }
            // A resend travels under its own id: its receipts belong to the original message.
            var id = _store.ResendOriginal(raw.ToByteArray()) ?? raw.ToByteArray();
            StoredMessage? changed = null;
            if (envelope.Sender != Me)
            {
                // The peer's device got (or read) our message: only messages of that conversation move.
                changed = _store.Advance(Me, envelope.Sender, id, status);
            }
            else if (status == MessageStatus.Read && _store.Find(id) is { Direction: MessageDirection.Incoming } incoming)
            {
                // Another of our devices read a message from the peer.
                changed = _store.Advance(incoming.Sender, incoming.Peer, id, status);
            }
            if (changed is not null)
            {
                changes.Add(new MessageStatusChangedEventArgs(changed.Id, changed.Peer, changed.Status));
            }
        }
        return changes;
    }

    private void Ack(Session session, ulong seq)
    {
        if (AcksEnabled)
        {
            session.QueueAck(seq);
        }
    }

    /// <summary>How long to wait after RATE_LIMITED: what the server asked (bounded, it may be hostile), else a second.</summary>
    private TimeSpan RetryDelay(ParleyException e)
    {
        Interlocked.Increment(ref _rateLimited);
        return e.RetryAfter is { } wait && wait > TimeSpan.Zero ? TimeSpan.FromMilliseconds(Math.Min(wait.TotalMilliseconds, 60_000)) : TimeSpan.FromSeconds(1);
    }

    private static DateTimeOffset FromUnixMs(long ms) =>
        DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(ms, 0, DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()));

    private void Raise<T>(EventHandler<T>? handler, T args)
    {
        try
        {
            handler?.Invoke(this, args);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A failing handler must not break delivery: the message is already stored.
        }
    }

    private void Raise(EventHandler? handler, EventArgs args)
    {
        try
        {
            handler?.Invoke(this, args);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
        }
    }
}
