using System.Net.WebSockets;
using System.Threading.Channels;
using Parley.Client.Provisioning;
using Parley.Protocol;

namespace Parley.Client.Connection;

/// <summary>
/// Keeps one authenticated connection of a device alive: connects on demand, says Hello, runs the
/// per-connection loops (acks, heartbeat, and those the client adds: outbox, presence), and
/// reconnects with jittered exponential backoff until stopped or refused for good (bad
/// credentials, no common protocol version, replaced by another connection of the device).
/// Acks go out only after <paramref name="persist"/> completes: what is acked is durable.
/// Every member is safe to call from any thread.
/// </summary>
internal sealed class ConnectionSupervisor(
    DeviceCredentialsProfile credentials,
    ParleyClientOptions options,
    Func<Session, ServerFrame, Task> onPush,
    Func<CancellationToken, Task> persist,
    IReadOnlyList<Func<Session, CancellationToken, Task>> sessionLoops,
    Action<ConnectionState, Exception?> stateChanged)
{
    private readonly Lock _gate = new();
    private CancellationTokenSource? _runCts;
    private Task? _runTask;
    private TaskCompletionSource<Session> _sessionReady = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Session? _session;
    private bool _closed;
    private int _rateLimited;

    /// <summary>The current connection state.</summary>
    public ConnectionState State { get; private set; }

    /// <summary>Why the last connection attempt or connection failed; null after a clean connect.</summary>
    public Exception? LastConnectionError { get; private set; }

    /// <summary>How many times the server answered RATE_LIMITED and this client waited.</summary>
    public int RateLimitedCount => Volatile.Read(ref _rateLimited);

    /// <summary>From now on <see cref="GetSessionAsync"/> throws <see cref="ObjectDisposedException"/> (the client is being disposed).</summary>
    public void Close() => _closed = true;

    /// <summary>Drops the live connection without a close handshake, as a network failure would (a test hook).</summary>
    public void Drop() => _session?.Connection.Abort();

    /// <summary>
    /// Closes the connection cleanly (acks already queued are sent first) and stops reconnecting.
    /// True when a connection run was stopped, false when none was running.
    /// </summary>
    public async Task<bool> StopAsync()
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
            return false;
        }
        await cts.CancelAsync();
        await run;
        cts.Dispose();
        return true;
    }

    /// <summary>Starts the connection (if not running) and waits until one is authenticated.</summary>
    public async Task<Session> GetSessionAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_closed, typeof(ParleyClient));
        AccountProvisioning.RequireSecureTransport(credentials.Server, options);
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

    /// <summary>Makes a request on the current connection, retrying on a new one when the connection drops or the server asks to slow down.</summary>
    public Task<ServerFrame> RequestAsync(Func<ClientFrame> frame, CancellationToken cancellationToken) =>
        RequestAsync(afterAcks: false, frame, cancellationToken);

    /// <summary>As <see cref="RequestAsync(Func{ClientFrame}, CancellationToken)"/>; with <paramref name="afterAcks"/>, first waits until the acks queued so far are written (so the request is taken after them).</summary>
    public async Task<ServerFrame> RequestAsync(bool afterAcks, Func<ClientFrame> frame, CancellationToken cancellationToken)
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
                await Task.Delay(RetryDelay(e), options.Time, cancellationToken);
            }
        }
    }

    /// <summary>How long to wait after RATE_LIMITED: what the server asked (bounded, it may be hostile), else a second.</summary>
    public TimeSpan RetryDelay(ParleyException e)
    {
        Interlocked.Increment(ref _rateLimited);
        return e.RetryAfter is { } wait && wait > TimeSpan.Zero ? TimeSpan.FromMilliseconds(Math.Min(wait.TotalMilliseconds, 60_000)) : TimeSpan.FromSeconds(1);
    }

    /// <summary>The Hello of this device, offering every protocol version this build speaks.</summary>
    public static Hello NewHello(DeviceCredentialsProfile credentials, ParleyClientOptions options)
    {
        var hello = new Hello { User = credentials.User, DeviceId = credentials.DeviceId, Password = credentials.Password, Client = options.ClientName };
        for (var v = ProtocolVersion.Oldest; v <= ProtocolVersion.Current; v++)
        {
            hello.ProtocolVersions.Add(v);
        }
        return hello;
    }

    /// <summary>The WebSocket address of <paramref name="server"/>; throws when credentials may not go there in clear.</summary>
    public static Uri WebSocketUri(Uri server, ParleyClientOptions options)
    {
        AccountProvisioning.RequireSecureTransport(server, options);
        var builder = new UriBuilder(new Uri(server, RegistrationApi.WebSocket))
        {
            Scheme = server.Scheme == Uri.UriSchemeHttps ? "wss" : "ws",
        };
        return builder.Uri;
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var backoff = new ReconnectBackoff(options.ReconnectInitialDelay, options.ReconnectMaxDelay);
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
                await RunSessionAsync(session, stop);
                failure = session.Connection.Failure
                    ?? (session.Connection.LastPushedError is { } err ? ParleyException.FromError(err) : null);
                if (session.Connection.CloseStatus == (WebSocketCloseStatus)4001)
                {
                    var replaced = new ParleyException(ErrorCode.Unavailable, "This device connected again elsewhere; this connection was replaced.");
                    if (options.ReplacedRetryDelay is { } wait)
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
                await Task.Delay(delay > minimumDelay ? delay : minimumDelay, options.Time, stop);
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
        var uri = WebSocketUri(credentials.Server, options);
        session.Connection = await FrameConnection.OpenAsync(uri, frame => onPush(session, frame), stop);
        lock (_gate)
        {
            // Known before Welcome: the stored queue starts arriving right behind it.
            _session = session;
        }
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
            timeout.CancelAfter(options.HelloTimeout);
            var hello = NewHello(credentials, options);
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

    private async Task RunSessionAsync(Session session, CancellationToken stop)
    {
        using var sessionCts = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var token = sessionCts.Token;
        var ackPump = Guard(session, AckPumpAsync(session, CancellationToken.None));
        var others = new List<Task> { Guard(session, HeartbeatAsync(session, token)) };
        foreach (var loop in sessionLoops)
        {
            others.Add(Guard(session, loop(session, token)));
        }
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

    /// <summary>
    /// Sends the acks of stored envelopes, as many per Ack frame as are queued. A receipt's ack
    /// (which produces nothing and may come again harmlessly) is held back to ride with the next
    /// message ack; it goes alone only once the oldest held one is <see cref="ParleyClientOptions.ReceiptAckDelay"/>
    /// old, when <see cref="ParleyClientOptions.HeldReceiptAcksMax"/> are held, or when the queue
    /// is completed (a clean close, or the connection ended).
    /// </summary>
    private async Task AckPumpAsync(Session session, CancellationToken cancellationToken)
    {
        var reader = session.Acks.Reader;
        var held = new List<ulong>();
        long heldSince = 0;
        var open = true;
        while (true)
        {
            var ack = new Ack();
            var urgent = 0;
            while (ack.Seqs.Count + held.Count < WireLimits.MaxIdsPerFrame && reader.TryRead(out var pending))
            {
                if (!pending.CanWait)
                {
                    ack.Seqs.Add(pending.Seq);
                    urgent++;
                }
                else
                {
                    if (held.Count == 0)
                    {
                        heldSince = options.Time.GetTimestamp();
                    }
                    held.Add(pending.Seq);
                }
            }
            var heldDue = held.Count > 0 && (urgent > 0 || !open || held.Count >= Math.Min(options.HeldReceiptAcksMax, WireLimits.MaxIdsPerFrame)
                                             || options.Time.GetElapsedTime(heldSince) >= options.ReceiptAckDelay);
            if (heldDue)
            {
                ack.Seqs.AddRange(held);
                held.Clear();
            }
            if (ack.Seqs.Count > 0)
            {
                await SendAckAsync(session, ack, urgent, cancellationToken);
                continue;
            }
            if (!open)
            {
                return;
            }
            open = held.Count == 0
                ? await reader.WaitToReadAsync(cancellationToken)
                : await WaitToReadAsync(reader, options.ReceiptAckDelay - options.Time.GetElapsedTime(heldSince), cancellationToken);
        }
    }

    /// <summary>Waits until more acks are queued (true), the queue is completed (false), or <paramref name="limit"/> passed (true).</summary>
    private async Task<bool> WaitToReadAsync(ChannelReader<PendingAck> reader, TimeSpan limit, CancellationToken cancellationToken)
    {
        if (limit <= TimeSpan.Zero)
        {
            return true;
        }
        using var deadline = new CancellationTokenSource(limit, options.Time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return await reader.WaitToReadAsync(either.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return true;
        }
    }

    /// <summary>
    /// Sends one Ack once the store is durable; <paramref name="urgent"/> of its seqs count for
    /// <see cref="Session.AckedSoFarAsync"/> once it is written. Fire and forget: the server takes an
    /// ack in frame order, before anything sent after it, and never refuses one that frees an
    /// envelope, so an AckResult would tell nothing worth an extra frame per message (docs/protocol.md,
    /// "Delivery (DELIVERED)"). An ack lost with its connection only means the envelope comes again, and is
    /// recognised as a duplicate.
    /// </summary>
    private async Task SendAckAsync(Session session, Ack ack, int urgent, CancellationToken cancellationToken)
    {
        // The envelopes acked here must survive a crash (or a closed tab) before the server forgets them.
        await persist(cancellationToken);
        await session.Connection.PostAsync(new ClientFrame { Ack = ack }, cancellationToken);
        session.Acked(urgent);
    }

    private async Task HeartbeatAsync(Session session, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.PingInterval, options.Time);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.ResponseTimeout);
            try
            {
                var ping = new Ping { ClientTime = options.Time.GetUtcNow().ToUnixTimeMilliseconds() };
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

    private void SetState(ConnectionState state, Exception? error)
    {
        if (State == state && error is null)
        {
            return;
        }
        State = state;
        stateChanged(state, error);
    }
}
