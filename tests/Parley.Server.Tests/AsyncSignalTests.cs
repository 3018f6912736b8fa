using Parley.Server.Gateway;

namespace Parley.Server.Tests;

/// <summary>
/// The send loop's wake-up. The group commit holds the signals it gives while it hands out a
/// commit's envelopes and answers, so a connection owed several things wakes once and writes once.
/// </summary>
public sealed class AsyncSignalTests
{
    [Fact]
    public async Task Signals_held_by_a_thread_wake_the_waiter_once_when_released_and_not_before()
    {
        var signal = new AsyncSignal();
        var waiting = signal.WaitAsync();
        Assert.False(waiting.IsCompleted);

        // The hold belongs to a thread: nothing inside it may await (that could resume elsewhere).
        AsyncSignal.HoldOnThisThread();
        try
        {
            signal.Signal();
            signal.Signal();
            signal.Signal();
            Thread.Sleep(50);
            Assert.False(waiting.IsCompleted); // held: the waiter has not been woken
        }
        finally
        {
            AsyncSignal.ReleaseHeld();
        }
        await waiting.AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        // Three signals in one hold are one wake-up: the next wait does not complete at once.
        var next = signal.WaitAsync();
        await Task.Delay(50);
        Assert.False(next.IsCompleted);
        signal.Signal();
        await next.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void A_signal_from_another_thread_is_not_held_by_a_holding_thread()
    {
        var signal = new AsyncSignal();
        var waiting = signal.WaitAsync();
        AsyncSignal.HoldOnThisThread();
        try
        {
            var other = new Thread(signal.Signal);
            other.Start();
            other.Join();
            Assert.True(SpinWait.SpinUntil(() => waiting.IsCompleted, TimeSpan.FromSeconds(10)));
        }
        finally
        {
            AsyncSignal.ReleaseHeld();
        }
    }

    [Fact]
    public void A_release_without_a_hold_does_nothing_and_later_signals_go_out_at_once()
    {
        var signal = new AsyncSignal();
        AsyncSignal.ReleaseHeld();
        signal.Signal();
        Assert.True(signal.WaitAsync().IsCompleted);
    }

    [Fact]
    public async Task A_release_of_few_signals_runs_the_waiters_on_the_releasing_thread()
    {
        var first = new AsyncSignal();
        var second = new AsyncSignal();
        var woken = new List<(int Thread, bool Inline)>();
        // Started off xunit's synchronization context, as a send loop runs (it would post the continuations).
        await Task.Run(() =>
        {
            _ = RecordWakeAsync(first, woken);
            _ = RecordWakeAsync(second, woken);
        });
        int releaser = 0;
        var commit = new Thread(() =>
        {
            releaser = Environment.CurrentManagedThreadId;
            AsyncSignal.HoldOnThisThread();
            first.Signal();
            second.Signal();
            AsyncSignal.ReleaseHeld(inlineUpTo: 2);
        });
        commit.Start();
        commit.Join();

        // Both ran to their next await before the release returned, on the releasing thread, told so.
        Assert.Equal([(releaser, true), (releaser, true)], woken);
        Assert.False(AsyncSignal.ReleasingInline);
    }

    [Fact]
    public async Task A_release_of_more_signals_than_the_inline_bound_wakes_the_waiters_on_the_thread_pool()
    {
        var signals = new[] { new AsyncSignal(), new AsyncSignal(), new AsyncSignal() };
        var woken = new List<(int Thread, bool Inline)>();
        var waiters = await Task.Run(() => signals.Select(s => RecordWakeAsync(s, woken)).ToList());
        int releaser = 0;
        var commit = new Thread(() =>
        {
            releaser = Environment.CurrentManagedThreadId;
            AsyncSignal.HoldOnThisThread();
            foreach (var signal in signals)
            {
                signal.Signal();
            }
            AsyncSignal.ReleaseHeld(inlineUpTo: 2);
        });
        commit.Start();
        commit.Join();
        await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(10));

        lock (woken)
        {
            Assert.Equal(3, woken.Count);
            Assert.All(woken, w => Assert.NotEqual(releaser, w.Thread));
            Assert.All(woken, w => Assert.False(w.Inline));
        }
    }

    private static async Task RecordWakeAsync(AsyncSignal signal, List<(int Thread, bool Inline)> woken)
    {
        await signal.WaitAsync();
        lock (woken)
        {
            woken.Add((Environment.CurrentManagedThreadId, AsyncSignal.ReleasingInline));
        }
    }
}
