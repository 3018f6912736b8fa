using System.Threading.Tasks.Sources;

namespace Parley.Server.Gateway;

/// <summary>
/// An auto-reset wake-up for one waiting loop: many Signal() calls before the loop wakes fold
/// into one, and a Signal() after the loop starts waiting is never lost. Allocation-free (a
/// reusable value-task source), because every idle connection keeps one waiting.
/// A thread may hold its signals (<see cref="HoldOnThisThread"/>) and release them together: the
/// group commit does, so that what one commit owes one connection (its SENT, receipts and
/// envelopes) wakes its send loop once and goes out in one write, not one per item.
/// A release of only a few signals may run the waiters on the releasing thread (see
/// <see cref="ReleaseHeld(int)"/>): at everyday load that saves each woken send loop a
/// thread-pool work item and, more costly, the wake-up of a sleeping worker.
/// </summary>
public sealed class AsyncSignal : IValueTaskSource
{
    private const int Idle = 0, Signaled = 1, Waiting = 2;

    /// <summary>Signals held by this thread until <see cref="ReleaseHeld"/>; null while not holding.</summary>
    [ThreadStatic]
    private static List<AsyncSignal>? t_held;

    /// <summary>The emptied list of the last release, reused by the next hold (the commit loop holds once per commit).</summary>
    [ThreadStatic]
    private static List<AsyncSignal>? t_spare;

    /// <summary>True while this thread runs a waiter's continuation inline from <see cref="ReleaseHeld(int)"/>.</summary>
    [ThreadStatic]
    private static bool t_releasingInline;

    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private int _state;
    private int _held; // 1 while in a holding thread's list: a second Signal() there adds nothing

    /// <summary>Wakes the waiter (now, or when this thread releases what it holds).</summary>
    public void Signal()
    {
        if (t_held is { } held)
        {
            if (Interlocked.Exchange(ref _held, 1) == 0)
            {
                held.Add(this);
            }
            return;
        }
        SignalNow();
    }

    /// <summary>From now until <see cref="ReleaseHeld"/>, Signal() calls made on this thread are held and folded, one per signal.</summary>
    public static void HoldOnThisThread()
    {
        if (t_held is null)
        {
            t_held = t_spare ?? [];
            t_spare = null;
        }
    }

    /// <summary>
    /// True on a thread that runs a woken waiter inline from <see cref="ReleaseHeld(int)"/> (the
    /// group-commit writer): the waiter must hop to the thread pool before anything that blocks.
    /// </summary>
    public static bool ReleasingInline => t_releasingInline;

    /// <summary>
    /// Delivers the signals this thread held, each once, and stops holding. When at most
    /// <paramref name="inlineUpTo"/> were held, each waiter's continuation runs on this thread,
    /// one after the other, up to its next await; otherwise (and always for 0) on the thread pool.
    /// </summary>
    public static void ReleaseHeld(int inlineUpTo = 0)
    {
        if (t_held is not { } held)
        {
            return;
        }
        t_held = null;
        bool inline = held.Count <= inlineUpTo;
        t_releasingInline = inline;
        try
        {
            foreach (var signal in held)
            {
                // Cleared first: a Signal() racing with this one is then either folded in here or delivered on its own.
                Volatile.Write(ref signal._held, 0);
                signal.SignalNow(inline);
            }
        }
        finally
        {
            t_releasingInline = false;
            held.Clear();
            t_spare = held;
        }
    }

    private void SignalNow(bool inline = false)
    {
        while (true)
        {
            switch (Volatile.Read(ref _state))
            {
                case Signaled:
                    return;
                case Idle when Interlocked.CompareExchange(ref _state, Signaled, Idle) == Idle:
                    return;
                case Waiting when Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting:
                    // The waiter's continuation runs on the thread pool, never on the signaller's
                    // thread (which may be the group-commit writer), unless a release asked for it
                    // (the waiter then hops off before blocking: ReleasingInline). Set before each
                    // completion: only the one signaller that wins the exchange above touches it.
                    _core.RunContinuationsAsynchronously = !inline;
                    _core.SetResult(true);
                    return;
            }
        }
    }

    /// <summary>Completes at the next signal (at once if one is pending). One waiter at a time.</summary>
    public ValueTask WaitAsync()
    {
        if (Interlocked.CompareExchange(ref _state, Idle, Signaled) == Signaled)
        {
            return ValueTask.CompletedTask;
        }
        _core.Reset();
        if (Interlocked.CompareExchange(ref _state, Waiting, Idle) != Idle)
        {
            Volatile.Write(ref _state, Idle); // signaled in between
            return ValueTask.CompletedTask;
        }
        return new ValueTask(this, _core.Version);
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
