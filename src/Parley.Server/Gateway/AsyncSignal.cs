namespace Parley.Server.Gateway;

/// <summary>
/// An auto-reset wake-up for one waiting loop: many Signal() calls before the loop wakes fold
/// into one, and a Signal() after the loop resets is never lost.
/// </summary>
public sealed class AsyncSignal
{
    private readonly SemaphoreSlim _semaphore = new(0, 1);
    private int _signaled;

    public void Signal()
    {
        if (Interlocked.Exchange(ref _signaled, 1) == 0)
        {
            _semaphore.Release();
        }
    }

    /// <summary>Waits for a signal; the caller must look for work after this returns.</summary>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        await _semaphore.WaitAsync(cancellationToken);
        Volatile.Write(ref _signaled, 0);
    }
}
