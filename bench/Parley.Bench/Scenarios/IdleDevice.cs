using System.Collections.Concurrent;
using System.Net;
using Parley.Bench.Wire;
using Parley.Protocol;

namespace Parley.Bench.Scenarios;

/// <summary>An authenticated connection that sends nothing but Pings, and notices when the server closes it.</summary>
internal sealed class IdleDevice : IAsyncDisposable
{
    private readonly WireConnection _connection;
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource> _pings = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _receiving = Task.CompletedTask;
    private volatile bool _closed;

    private IdleDevice(WireConnection connection) => _connection = connection;

    public bool IsOpen => !_closed;

    /// <summary>Connects, says Hello and waits for QueueEmpty; throws <see cref="ServerFullException"/> when refused as full.</summary>
    public static async Task<IdleDevice> OpenAsync(Uri server, IPAddress? source, DeviceCredentials device, CancellationToken ct)
    {
        var connection = await WireConnection.ConnectAsync(server, source, 1024, ct);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(60));
            await connection.HelloAsync(device, timeout.Token);
            while (true)
            {
                var frame = await connection.ReceiveAsync(timeout.Token);
                if (frame is null)
                {
                    throw (int?)connection.CloseStatus == 1013
                        ? new ServerFullException("close 1013 after Welcome")
                        : new IOException($"closed before QueueEmpty: {(int?)connection.CloseStatus}");
                }
                if (frame.BodyCase == ServerFrame.BodyOneofCase.QueueEmpty)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            await connection.DisposeAsync();
            throw new TimeoutException("no QueueEmpty within 60 s");
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        var idle = new IdleDevice(connection);
        idle._receiving = Task.Run(idle.ReceiveLoopAsync, CancellationToken.None);
        return idle;
    }

    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (await _connection.ReceiveAsync(_stop.Token) is { } frame)
            {
                if (frame.BodyCase == ServerFrame.BodyOneofCase.Pong && _pings.TryRemove(frame.RequestId, out var waiter))
                {
                    waiter.TrySetResult();
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // stopped, or the socket broke: either way the device is closed
        }
        _closed = true;
    }

    /// <summary>The heartbeat: a Ping whose Pong nobody waits for.</summary>
    public async ValueTask SendPingAsync(CancellationToken ct)
    {
        if (_closed)
        {
            return;
        }
        try
        {
            await _connection.SendAsync(new ClientFrame { RequestId = _connection.NextRequestId(), Ping = new Ping() }, ct);
        }
        catch (Exception ex) when (ex is IOException or System.Net.WebSockets.WebSocketException or ObjectDisposedException)
        {
            _closed = true;
        }
    }

    /// <summary>True when a Ping is answered by its Pong within <paramref name="limit"/>.</summary>
    public async Task<bool> PingAsync(TimeSpan limit, CancellationToken ct)
    {
        ulong id = _connection.NextRequestId();
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pings[id] = waiter;
        try
        {
            await _connection.SendAsync(new ClientFrame { RequestId = id, Ping = new Ping { ClientTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() } }, ct);
            await waiter.Task.WaitAsync(limit, ct);
            return true;
        }
        catch (Exception ex) when (ex is IOException or System.Net.WebSockets.WebSocketException or ObjectDisposedException or TimeoutException)
        {
            return false;
        }
        finally
        {
            _pings.TryRemove(id, out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _closed = true;
        await _connection.DisposeAsync(); // polite close first; the pending receive then ends by itself
        await _stop.CancelAsync();
        await _receiving;
        _stop.Dispose();
    }
}
