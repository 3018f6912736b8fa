namespace Parley.Server.Gateway;

/// <summary>
/// What one connection's requests waiting for their answer may hold: a number of requests and a
/// number of bytes. The receive loop waits (stops reading, so TCP pushes back on the client)
/// while either is used up; a request larger than the whole byte budget still goes through alone,
/// so no frame the wire allows can wedge a connection.
/// </summary>
public sealed class RequestBudget(int maxRequests, long maxBytes)
{
    private readonly Lock _lock = new();
    private readonly AsyncSignal _freed = new();
    private int _requests;
    private long _bytes;

    /// <summary>Requests taken and not yet released.</summary>
    public int Requests
    {
        get
        {
            lock (_lock)
            {
                return _requests;
            }
        }
    }

    /// <summary>Bytes taken and not yet released.</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Takes room for one request of <paramref name="bytes"/>, waiting while the budget is used up. Only the receive loop waits.</summary>
    public async ValueTask TakeAsync(int bytes, CancellationToken token)
    {
        while (!TryTake(bytes))
        {
            await _freed.WaitAsync().AsTask().WaitAsync(token);
        }
    }

    /// <summary>Gives back what <see cref="TakeAsync"/> took for a request of <paramref name="bytes"/>.</summary>
    public void Release(int bytes)
    {
        lock (_lock)
        {
            _requests--;
            _bytes -= bytes;
        }
        _freed.Signal();
    }

    private bool TryTake(int bytes)
    {
        lock (_lock)
        {
            bool empty = _requests == 0;
            if (!empty && (_requests >= maxRequests || _bytes + bytes > maxBytes))
            {
                return false;
            }
            _requests++;
            _bytes += bytes;
            return true;
        }
    }
}
