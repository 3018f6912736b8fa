using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Accounts;
using Parley.Server.Configuration;
using Parley.Server.Groups;
using Parley.Server.Keys;
using Parley.Server.Limits;
using Parley.Server.Messaging;
using Parley.Server.Presence;
using Parley.Server.Push;

namespace Parley.Server.Gateway;

/// <summary>
/// Accepts WebSockets on /v1/ws, authenticates the device with Hello, then reads frames and
/// dispatches them. Every input is checked: size, type, rate, auth; a bad frame costs only its
/// own connection.
/// </summary>
public sealed partial class WebSocketGateway(
    ConnectionRegistry registry,
    AccountDirectory directory,
    MessageRouter router,
    IMessageStore store,
    PresenceHub presence,
    PreKeyService preKeys,
    ServerCapacity capacity,
    HelloThrottle helloThrottle,
    LimitMetrics limitMetrics,
    GroupAdministration groupAdministration,
    GroupFanout groupFanout,
    IOptions<ParleyOptions> options,
    TimeProvider time,
    ILogger<WebSocketGateway> logger,
    IFrameObserver? observer = null,
    PushSubscriptions? pushSubscriptions = null,
    PushScheduler? push = null)
{
    /// <summary>Requests of one connection waiting for their answer (mostly sends in group commit); reading pauses beyond it.</summary>
    private const int MaxPendingRequests = 256;

    /// <summary>
    /// How long a client closed for bad input may stay silent before we end the TCP connection: long
    /// enough for what it had in flight over a slow link to arrive; the close's 2 s grace bounds the whole wait.
    /// </summary>
    private static readonly TimeSpan LingerQuiet = TimeSpan.FromSeconds(1);

    private readonly LimitOptions _limits = options.Value.Limits;

    /// <summary>
    /// Serves one accepted WebSocket until it closes: capacity check, Hello, then frames.
    /// <paramref name="remote"/> is the client's address (behind a trusted proxy, the forwarded
    /// one); <paramref name="admission"/>, when given, is told once the device has authenticated.
    /// </summary>
    public async Task ServeAsync(PipeWebSocket socket, string remote, Admission? admission = null)
    {
        if (!registry.TryReserve(capacity.MaxConnections))
        {
            capacity.NoteRefused(logger);
            await CloseEarlyAsync(socket, CloseCodes.TryAgainLater, "server full, try again later");
            return;
        }
        try
        {
            await ServeAuthenticatedAsync(socket, remote, admission);
        }
        finally
        {
            registry.Release();
        }
    }

    private async Task ServeAuthenticatedAsync(PipeWebSocket socket, string remote, Admission? admission)
    {
        var hello = await ReadHelloAsync(socket, remote);
        if (hello is null)
        {
            return;
        }
        admission?.Authenticated(); // no longer counted against its address, no handshake deadline
        var (frame, account, deviceId) = hello.Value;
        var connection = new DeviceConnection(socket, account, deviceId, store, DeliveryLimits.From(_limits), time, observer);
        connection.TrySend(new ServerFrame
        {
            RequestId = frame.RequestId,
            Welcome = new Welcome
            {
                ProtocolVersion = ProtocolVersion.Negotiate(frame.Hello.ProtocolVersions)!.Value,
                User = account.User,
                DeviceId = deviceId,
                ServerTime = time.GetUtcNow().ToUnixTimeMilliseconds(),
                MaxFrameBytes = WireLimits.MaxFrameBytes,
            },
        });
        registry.Register(connection)?.RequestClose(CloseCodes.Replaced, "replaced by a newer connection of this device");
        if (preKeys.LowFor(connection.DeviceKey) is { } low)
        {
            connection.TrySend(new ServerFrame { PrekeysLow = low });
        }
        presence.DeviceOnline(connection);
        push?.OnConnected(connection.DeviceKey);
        LogConnected(logger, account.User, deviceId, remote);
        var sending = connection.RunSendLoopAsync();
        try
        {
            if (await ReceiveLoopAsync(socket, connection))
            {
                await LingerAsync(socket, connection.Closing.Token);
            }
        }
        finally
        {
            connection.RequestClose(CloseCodes.Normal, "bye");
            await sending;
            registry.Unregister(connection);
            presence.DeviceOffline(connection);
            LogDisconnected(logger, account.User, deviceId);
        }
    }

    /// <summary>Reads the first frame, which must be a Hello with good credentials and a common version.</summary>
    private async Task<(ClientFrame Frame, Account Account, uint DeviceId)?> ReadHelloAsync(PipeWebSocket socket, string remote)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(_limits.HelloTimeoutSeconds), time);
        ClientFrame? frame;
        (WebSocketCloseStatus Status, string Reason, ErrorCode Code)? problem;
        while (true)
        {
            var inbound = await socket.ReadAsync(timeout.Token);
            if (inbound.Kind == InboundKind.Ping)
            {
                socket.WritePong(inbound.Payload.Span); // no send loop yet: this is the only writer
                await socket.FlushAsync(timeout.Token);
                continue;
            }
            (frame, problem) = Parse(inbound);
            break;
        }
        if (frame is null)
        {
            if (problem is { } p)
            {
                await CloseEarlyAsync(socket, p.Status, p.Reason, p.Code);
            }
            else if (timeout.IsCancellationRequested)
            {
                await CloseEarlyAsync(socket, CloseCodes.Policy, "no Hello in time", ErrorCode.Unauthorized);
            }
            return null;
        }
        if (frame.BodyCase != ClientFrame.BodyOneofCase.Hello)
        {
            await CloseEarlyAsync(socket, CloseCodes.Policy, "the first frame must be Hello", ErrorCode.Unauthorized, frame.RequestId);
            return null;
        }
        if (!Thread.CurrentThread.IsThreadPoolThread)
        {
            // On an epoll thread (ParleyOptions.InlineSocketCompletions): the credential check blocks.
            await Task.Yield();
        }
        var hello = frame.Hello;
        if (ProtocolVersion.Negotiate(hello.ProtocolVersions) is null)
        {
            await CloseEarlyAsync(socket, CloseCodes.Policy,
                $"no common protocol version; this server speaks {ProtocolVersion.Oldest}-{ProtocolVersion.Current}", ErrorCode.UnsupportedVersion, frame.RequestId);
            return null;
        }
        if (helloThrottle.RetryAfterMs(remote, hello.User) is { } wait)
        {
            limitMetrics.Refused(LimitKind.HelloBackoff);
            await CloseEarlyAsync(socket, CloseCodes.Policy, "too many failed Hellos; wait", ErrorCode.RateLimited, frame.RequestId, wait);
            return null;
        }
        if (directory.Authenticate(hello.User, hello.DeviceId, hello.Password) is not { } auth)
        {
            helloThrottle.Failed(remote, hello.User); // counted and logged in aggregate, not per attempt
            await CloseEarlyAsync(socket, CloseCodes.Policy, "wrong credentials", ErrorCode.Unauthorized, frame.RequestId);
            return null;
        }
        helloThrottle.Succeeded(auth.Account);
        return (frame, auth.Account, auth.Device.Id);
    }

    /// <summary>Handles the connection's frames until it ends; true when it ended with a close of ours for the client's input (bad input, a frame flood).</summary>
    private async Task<bool> ReceiveLoopAsync(PipeWebSocket socket, DeviceConnection connection)
    {
        var token = connection.Closing.Token;
        var limiter = new FrameRateLimiter(_limits.FramesPerSecond, _limits.FrameBurst, time);
        var pending = new RequestBudget(MaxPendingRequests, _limits.MaxPendingRequestBytes);
        int refused = 0;
        try
        {
            while (!token.IsCancellationRequested)
            {
                // Completes at once for frames already buffered: a burst is handled without re-reading.
                var inbound = await socket.ReadAsync(token);
                if (inbound.Kind == InboundKind.Ping)
                {
                    connection.QueuePong(inbound.Payload.Span);
                }
                var (frame, problem) = Parse(inbound);
                if (frame is null && inbound.Kind != InboundKind.Ping)
                {
                    if (problem is { } p)
                    {
                        connection.TrySend(MessageRouter.Fail(p.Code, p.Reason));
                        connection.RequestClose(p.Status, p.Reason);
                        return true;
                    }
                    return false;
                }
                connection.Touch();
                if (frame is { BodyCase: ClientFrame.BodyOneofCase.Ack, RequestId: 0 } && frame.Ack.Seqs.Count <= WireLimits.MaxIdsPerFrame)
                {
                    // A fire-and-forget ack (the SDK's) is taken at once, in frame order, so a request
                    // read after it is stored after its delete and DELIVERY receipt. One that frees an
                    // envelope is not counted against the frame rate: it can only come after a delivery
                    // of ours, and refusing it would leave the envelope in flight with nobody to say so
                    // (no request id to answer). One that frees nothing is counted, and past the limit
                    // it counts towards closing the connection like any refused frame.
                    if (AcknowledgeNow(connection, frame.Ack) == 0 && !limiter.TryTake(out _) && ++refused > _limits.MaxRefusedFrames)
                    {
                        return CloseForFlood(connection);
                    }
                    continue;
                }
                if (!limiter.TryTake(out var retryAfter))
                {
                    if (++refused > _limits.MaxRefusedFrames)
                    {
                        return CloseForFlood(connection);
                    }
                    var error = new Error { Code = ErrorCode.RateLimited, Message = "slow down", RetryAfterMs = retryAfter };
                    connection.TrySend(new ServerFrame { RequestId = frame?.RequestId ?? 0, Error = error });
                    continue;
                }
                if (frame is null || AnswerInline(connection, frame))
                {
                    continue;
                }
                // Counted by its wire size: what the parsed request holds is of the same order.
                int bytes = inbound.Payload.Length;
                await pending.TakeAsync(bytes, token);
                switch (frame.BodyCase)
                {
                    case ClientFrame.BodyOneofCase.Send:
                    case ClientFrame.BodyOneofCase.SendGroup:
                        BeginSend(connection, frame, pending, bytes);
                        break;
                    case ClientFrame.BodyOneofCase.Ack:
                        BeginAck(connection, frame, pending, bytes);
                        break;
                    default:
                        _ = DispatchAsync(connection, frame, pending, bytes);
                        break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // We are closing.
        }
        return false;
    }

    private bool CloseForFlood(DeviceConnection connection)
    {
        LogFlood(logger, connection.Account.User, connection.DeviceId);
        connection.RequestClose(CloseCodes.Policy, "too many frames");
        return true;
    }

    /// <summary>
    /// A fire-and-forget ack, right on the receive loop: the delete (and receipts) are queued for
    /// the next group commit; if that failed, the envelope would simply be delivered again. Returns
    /// how many envelopes it freed; seqs not in flight here are answered with one NotFound.
    /// </summary>
    private int AcknowledgeNow(DeviceConnection c, Ack ack)
    {
        var (_, acked, unknown) = Acknowledge(c, ack);
        if (unknown is not null)
        {
            c.TrySend(MessageRouter.Fail(ErrorCode.NotFound, $"{unknown.Count} seqs were not delivered to this connection"));
        }
        return acked;
    }

    /// <summary>Handles, right on the receive loop, the requests that never wait (Ping, Sync): saves a task and a thread-pool hop.</summary>
    private bool AnswerInline(DeviceConnection c, ClientFrame frame)
    {
        switch (frame.BodyCase)
        {
            case ClientFrame.BodyOneofCase.Ping:
                c.TrySend(new ServerFrame
                {
                    RequestId = frame.RequestId,
                    Pong = new Pong { ClientTime = frame.Ping.ClientTime, ServerTime = time.GetUtcNow().ToUnixTimeMilliseconds() },
                });
                return true;
            case ClientFrame.BodyOneofCase.Sync when frame.RequestId == 0:
                // Its answer would be a second connect-time QueueEmpty: a Sync must be a request.
                c.TrySend(MessageRouter.Fail(ErrorCode.BadRequest, "Sync needs a request id"));
                return true;
            case ClientFrame.BodyOneofCase.Sync:
                if (!c.RequestSync(frame.RequestId))
                {
                    c.RequestClose(CloseCodes.Policy, "not reading responses");
                }
                return true;
            default:
                return false;
        }
    }

    /// <summary>Takes acked envelopes out of flight and queues their delete (and receipts) for the next commit.</summary>
    private (Task Stored, int Acked, List<ulong>? Unknown) Acknowledge(DeviceConnection c, Ack ack)
    {
        var (acked, unknown) = c.TakeAcked(ack.Seqs);
        return (acked.Count > 0 ? router.AckAsync(c.Account, c.DeviceId, acked) : Task.CompletedTask, acked.Count, unknown);
    }

    /// <summary>Starts a send; SENT goes out once the group commit has it.</summary>
    private void BeginSend(DeviceConnection connection, ClientFrame frame, RequestBudget pending, int bytes)
    {
        bool group = frame.BodyCase == ClientFrame.BodyOneofCase.SendGroup;
        var answer = new SentAnswer(router, group ? frame.SendGroup.MessageId : frame.Send.MessageId, logger, connection, frame.RequestId, pending, bytes);
        try
        {
            var failed = group
                ? groupFanout.BeginSend(connection.Account, connection.DeviceId, frame.SendGroup, out var stored)
                : router.BeginSend(connection.Account, connection.DeviceId, frame.Send, out stored);
            if (failed is { } failure)
            {
                answer.Answer(failure);
                return;
            }
            answer.After(stored);
        }
        catch (Exception e)
        {
            LogRequestFailed(logger, e, frame.BodyCase.ToString());
            answer.Answer(MessageRouter.ServerError());
        }
    }

    /// <summary>An ack that wants an AckResult: answered once its deletes (and receipts) are durable.</summary>
    private void BeginAck(DeviceConnection connection, ClientFrame frame, RequestBudget pending, int bytes)
    {
        var seqs = frame.Ack.Seqs;
        if (seqs.Count > WireLimits.MaxIdsPerFrame)
        {
            new AckAnswer(0, null, logger, connection, frame.RequestId, pending, bytes)
                .Answer(MessageRouter.Fail(ErrorCode.TooLarge, $"at most {WireLimits.MaxIdsPerFrame} seqs per ack"));
            return;
        }
        try
        {
            var (stored, acked, unknown) = Acknowledge(connection, frame.Ack);
            new AckAnswer(acked, unknown, logger, connection, frame.RequestId, pending, bytes).After(stored);
        }
        catch (Exception e)
        {
            LogRequestFailed(logger, e, nameof(ClientFrame.BodyOneofCase.Ack));
            new AckAnswer(0, null, logger, connection, frame.RequestId, pending, bytes).Answer(MessageRouter.ServerError());
        }
    }

    private async Task DispatchAsync(DeviceConnection connection, ClientFrame frame, RequestBudget pending, int bytes)
    {
        if (!Thread.CurrentThread.IsThreadPoolThread)
        {
            // On an epoll thread (ParleyOptions.InlineSocketCompletions): these requests read SQLite.
            await Task.Yield();
        }
        try
        {
            var answer = await AnswerAsync(connection, frame);
            if (answer is not null)
            {
                answer.RequestId = frame.RequestId;
                if (!connection.TrySend(answer))
                {
                    connection.RequestClose(CloseCodes.Policy, "not reading responses");
                }
            }
        }
        catch (Exception e)
        {
            LogRequestFailed(logger, e, frame.BodyCase.ToString());
            var error = MessageRouter.ServerError();
            error.RequestId = frame.RequestId;
            connection.TrySend(error);
        }
        finally
        {
            pending.Release(bytes);
        }
    }

    /// <summary>
    /// Removes a device of the asker's account: the primary may remove any other, a device itself.
    /// Its record goes first (so it cannot log in again), then its open connection, then its queue.
    /// </summary>
    private async ValueTask<ServerFrame> RemoveDeviceAsync(DeviceConnection c, uint deviceId)
    {
        if (deviceId == PrimaryDeviceId)
        {
            return MessageRouter.Fail(ErrorCode.BadRequest, "the primary device cannot be removed");
        }
        if (c.DeviceId != PrimaryDeviceId && c.DeviceId != deviceId)
        {
            return MessageRouter.Fail(ErrorCode.NotPrimary, "only the primary device can remove another device");
        }
        if (!directory.RemoveDevice(c.Account, deviceId))
        {
            return MessageRouter.Fail(ErrorCode.NotFound, "no such device");
        }
        var key = new DeviceAddress(c.Account.Id, deviceId).Key;
        if (key != c.DeviceKey)
        {
            registry.Find(key)?.RequestClose(CloseCodes.Policy, "device removed");
        }
        // Acking everything it holds reuses the store's own bookkeeping (shared group bodies, tallies).
        while (store.ReadQueue(key, 0, 500) is { Count: > 0 } held)
        {
            await store.AckAsync(key, [.. held.Select(e => e.Seq)], []);
        }
        LogDeviceRemoved(logger, c.Account.User, deviceId);
        // The primary (when another device removed itself) publishes the next list on hearing it; the others check theirs.
        await router.NotifyOwnDevicesAsync(c.Account, c.DeviceId);
        return new ServerFrame { Ok = new Ok() };
    }

    // The registering device; it holds the account key, so it is the one that may remove others.
    private const uint PrimaryDeviceId = 1;

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId} of {User} removed")]
    private static partial void LogDeviceRemoved(ILogger logger, string user, uint deviceId);

    /// <summary>The answer to one frame; null when the frame needs none.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ServerFrame?> AnswerAsync(DeviceConnection c, ClientFrame frame)
    {
        switch (frame.BodyCase)
        {
            case ClientFrame.BodyOneofCase.Read when frame.Read.GroupId.IsEmpty:
                return await router.ReadAsync(c.Account, c.DeviceId, frame.Read);

            case ClientFrame.BodyOneofCase.Read:
                return await groupFanout.ReadAsync(c.Account, c.DeviceId, frame.Read);

            case ClientFrame.BodyOneofCase.CreateGroup:
                return await groupAdministration.CreateAsync(c.Account, c.DeviceId, frame.CreateGroup);

            case ClientFrame.BodyOneofCase.ChangeGroup:
                return await groupAdministration.ChangeAsync(c.Account, c.DeviceId, frame.ChangeGroup);

            case ClientFrame.BodyOneofCase.GetGroup:
                return groupAdministration.Get(c.Account, frame.GetGroup);

            case ClientFrame.BodyOneofCase.ListGroups:
                return groupAdministration.List(c.Account);

            case ClientFrame.BodyOneofCase.GroupInvite:
                return await groupAdministration.SetInviteAsync(c.Account, c.DeviceId, frame.GroupInvite);

            case ClientFrame.BodyOneofCase.JoinGroup:
                return await groupAdministration.JoinAsync(c.Account, c.DeviceId, frame.JoinGroup);

            case ClientFrame.BodyOneofCase.AnswerJoin:
                return await groupAdministration.AnswerJoinAsync(c.Account, c.DeviceId, frame.AnswerJoin);

            case ClientFrame.BodyOneofCase.Typing:
                return ForwardTyping(c, frame.Typing);

            case ClientFrame.BodyOneofCase.Presence:
                if (frame.Presence.Users.Count > PresenceHub.MaxWatchedPerConnection)
                {
                    return MessageRouter.Fail(ErrorCode.TooLarge, $"at most {PresenceHub.MaxWatchedPerConnection} users");
                }
                return new ServerFrame { PresenceSnapshot = presence.Subscribe(c, frame.Presence.Users) };

            case ClientFrame.BodyOneofCase.GetDevices:
                return router.Devices(frame.GetDevices.User, c.Account);

            case ClientFrame.BodyOneofCase.PublishDeviceList:
                return await router.PublishDeviceListAsync(c.Account, c.DeviceId, frame.PublishDeviceList);

            case ClientFrame.BodyOneofCase.RemoveDevice:
                return await RemoveDeviceAsync(c, frame.RemoveDevice.DeviceId);

            case ClientFrame.BodyOneofCase.UploadPrekeys:
                return preKeys.Upload(c.Account, c.DeviceId, frame.UploadPrekeys);

            case ClientFrame.BodyOneofCase.GetBundles:
                var (bundles, ranLow) = preKeys.Fetch(c.Account, c.DeviceId, frame.GetBundles);
                foreach (var (deviceKey, lowKeys) in ranLow)
                {
                    registry.Find(deviceKey)?.TrySend(new ServerFrame { PrekeysLow = lowKeys });
                }
                return bundles;

            case ClientFrame.BodyOneofCase.PresenceVisibility:
                return presence.SetVisibility(c.Account, frame.PresenceVisibility);

            case ClientFrame.BodyOneofCase.Hello:
                return MessageRouter.Fail(ErrorCode.BadRequest, "already authenticated");

            case ClientFrame.BodyOneofCase.SetPush or ClientFrame.BodyOneofCase.RemovePush or ClientFrame.BodyOneofCase.GetPush when pushSubscriptions is not null:
                return pushSubscriptions.Answer(c.DeviceKey, frame);

            default:
                return MessageRouter.Fail(ErrorCode.UnknownType, "unknown frame type");
        }
    }

    private ServerFrame ForwardTyping(DeviceConnection c, Protocol.Typing typing)
    {
        if (!typing.GroupId.IsEmpty)
        {
            // Group typing: to the other members' online devices, members only; never stored.
            if (groupFanout.OtherMembers(c.Account, typing.GroupId) is not { } members)
            {
                return GroupAdministration.NotAMember();
            }
            var groupUpdate = new ServerFrame { TypingUpdate = new TypingUpdate { User = c.Account.User, DeviceId = c.DeviceId, Typing = typing.Typing_, GroupId = typing.GroupId } };
            foreach (var member in members)
            {
                foreach (var device in member.Devices)
                {
                    registry.Find(new DeviceAddress(member.Id, device.Id).Key)?.TrySend(groupUpdate);
                }
            }
            return new ServerFrame { Ok = new Ok() };
        }
        if (!UserName.IsValid(typing.Peer) || directory.Find(typing.Peer) is not { } peer)
        {
            return MessageRouter.Fail(ErrorCode.UnknownUser, "no such user");
        }
        if (!presence.MayType(c.Account, peer))
        {
            limitMetrics.Refused(LimitKind.TypingForbidden);
            return MessageRouter.Fail(ErrorCode.Forbidden, "typing goes only to users you have a conversation with");
        }
        var update = new ServerFrame { TypingUpdate = new TypingUpdate { User = c.Account.User, DeviceId = c.DeviceId, Typing = typing.Typing_ } };
        foreach (var device in peer.Devices)
        {
            registry.Find(new DeviceAddress(peer.Id, device.Id).Key)?.TrySend(update);
        }
        return new ServerFrame { Ok = new Ok() };
    }

    /// <summary>
    /// The ClientFrame in one inbound message. Null frame with a problem: the frame was bad (the
    /// caller closes); null without a problem: the peer closed or went away (or it was a ping).
    /// </summary>
    private (ClientFrame? Frame, (WebSocketCloseStatus Status, string Reason, ErrorCode Code)? Problem) Parse(InboundFrame inbound)
    {
        switch (inbound.Kind)
        {
            case InboundKind.Message:
                var bytes = inbound.Payload.Span;
                try
                {
                    observer?.OnFrame(inbound: true, bytes);
                    return (ClientFrame.Parser.ParseFrom(bytes), null);
                }
                catch (InvalidProtocolBufferException)
                {
                    return (null, (CloseCodes.UnsupportedData, "frame is not a valid ClientFrame", ErrorCode.BadRequest));
                }
            case InboundKind.Violation:
                return (null, (inbound.CloseStatus ?? WebSocketCloseStatus.ProtocolError, inbound.Reason, inbound.Code));
            default:
                return (null, null);
        }
    }

    /// <summary>
    /// After a close of ours for the client's input, discards what it still sends (at most two
    /// frames' worth, until it goes quiet or the close's grace ends) so that our error and close
    /// frame are not lost to a TCP reset; a client that keeps sending past that is dropped.
    /// </summary>
    private static async Task LingerAsync(PipeWebSocket socket, CancellationToken token)
    {
        if (!await socket.DrainAsync(2L * WireLimits.MaxFrameBytes, LingerQuiet, token))
        {
            socket.Abort();
        }
    }

    /// <summary>Closes a connection that never got a send loop (before or during Hello).</summary>
    private async Task CloseEarlyAsync(PipeWebSocket socket, WebSocketCloseStatus status, string reason, ErrorCode? code = null, ulong requestId = 0, uint retryAfterMs = 0)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            if (code is { } c)
            {
                socket.Write(new ServerFrame { RequestId = requestId, Error = new Error { Code = c, Message = reason, RetryAfterMs = retryAfterMs } }, observer);
            }
            socket.WriteClose(status, reason);
            await socket.FlushAsync(timeout.Token);
            // Wait briefly for the peer's close so the connection ends cleanly.
            while ((await socket.ReadAsync(timeout.Token)).Kind is InboundKind.Message or InboundKind.Ping)
            {
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            socket.Abort();
        }
    }

    [LoggerMessage(LogLevel.Debug, "Device {User}.{Device} connected from {Remote}")]
    private static partial void LogConnected(ILogger logger, string user, uint device, string remote);

    [LoggerMessage(LogLevel.Debug, "Device {User}.{Device} disconnected")]
    private static partial void LogDisconnected(ILogger logger, string user, uint device);

    [LoggerMessage(LogLevel.Warning, "Closing {User}.{Device}: frame flood")]
    private static partial void LogFlood(ILogger logger, string user, uint device);

    [LoggerMessage(LogLevel.Error, "Request {Kind} failed")]
    private static partial void LogRequestFailed(ILogger logger, Exception e, string kind);
}
