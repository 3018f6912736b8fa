using System.Diagnostics;
using System.Runtime.InteropServices;
using Parley.Bench.Wire;

namespace Parley.Bench.Scenarios;

/// <summary>
/// One thread that drives a shard of the one-to-one devices over Linux epoll: each pass waits
/// (at most 1 ms), reads every readable socket and handles its frames, hands out paced send
/// tokens, then flushes every device touched in the pass with one send() each. Flat out, a device
/// refills its window as SENTs arrive; paced, it spends the tokens it was given. With lazy receipt
/// acks, a sweep every tenth of the deadline flushes the devices whose held acks reached their
/// deadline, and every held ack goes once sending stops.
/// </summary>
internal sealed unsafe class DeviceLoop : IDisposable
{
    private const int MaxEvents = 512;


    private readonly ChatDevice[] _devices;
    private readonly ChatDevice[] _everyone;
    private readonly double _rate;
    private readonly int _epoll;
    private readonly Random _random;
    private readonly Thread _thread;
    private readonly List<ChatDevice> _dirty;
    private byte[] _input = new byte[256 * 1024];
    private volatile bool _sending = true;
    private volatile bool _pingRequested;
    private volatile bool _stopRequested;
    private Exception? _failure;

    /// <param name="devices">The devices this loop owns (connected, non-blocking).</param>
    /// <param name="everyone">Every device of the run: the recipients to pick from.</param>
    /// <param name="traffic">This loop's counters.</param>
    /// <param name="rate">This loop's share of the offered messages/s; 0 for flat out.</param>
    /// <param name="seed">For the choice of recipients and of who gets a send token.</param>
    public DeviceLoop(ChatDevice[] devices, ChatDevice[] everyone, ChatTraffic traffic, double rate, int seed)
    {
        _devices = devices;
        _everyone = everyone;
        Traffic = traffic;
        _rate = rate;
        _random = new Random(seed);
        _dirty = new List<ChatDevice>(devices.Length);
        _epoll = Libc.EpollCreate(Libc.EpollCloexec);
        if (_epoll < 0)
        {
            throw new IOException($"epoll_create1: errno {Marshal.GetLastPInvokeError()}");
        }
        for (int i = 0; i < devices.Length; i++)
        {
            devices[i].Attach(_epoll, (uint)i);
        }
        _thread = new Thread(Run) { IsBackground = true, Name = $"device loop {seed}" };
    }

    public ChatTraffic Traffic { get; }

    /// <summary>Paced runs: tokens handed out but not yet spent on a send.</summary>
    public long Backlog => Volatile.Read(ref Traffic.TokensIssued) - Volatile.Read(ref Traffic.TokensSpent);

    public void Start() => _thread.Start();

    /// <summary>No new sends from now on; acks and everything else go on.</summary>
    public void StopSending() => _sending = false;

    /// <summary>Asks the loop to send a Ping on every open connection in its next pass.</summary>
    public void PingAll() => _pingRequested = true;

    /// <summary>Closes every connection (close 1000), ends the thread and waits for it; rethrows what broke the loop, if anything.</summary>
    public void Stop()
    {
        _stopRequested = true;
        _thread.Join();
        if (_failure is not null)
        {
            throw new InvalidOperationException("device loop failed", _failure);
        }
    }

    /// <summary>What ended the loop's thread early, if anything.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    public void Dispose()
    {
        foreach (var device in _devices)
        {
            device.Dispose();
        }
        Libc.Close(_epoll);
    }

    private void Run()
    {
        byte* events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * Libc.EpollEventBytes));
        try
        {
            var clock = Stopwatch.StartNew();
            // How often the loop looks for devices whose held receipt acks reached their deadline: a
            // tenth of it, so a held ack goes at most 10% late, for ten scans of the shard per deadline.
            long sweepMs = Math.Max(1, Traffic.ReceiptAckDelayMs / 10);
            long nextSweepMs = sweepMs;
            bool releasedHeld = false;
            bool paced = _rate > 0;
            if (!paced)
            {
                foreach (var device in _devices)
                {
                    MarkDirty(device); // fill every window
                }
            }
            while (!_stopRequested)
            {
                int n = Libc.EpollWait(_epoll, events, MaxEvents, _dirty.Count > 0 ? 0 : 1);
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Libc.EIntr)
                    {
                        continue;
                    }
                    throw new IOException($"epoll_wait: errno {errno}");
                }
                for (int i = 0; i < n; i++)
                {
                    byte* ev = events + (i * Libc.EpollEventBytes);
                    var device = _devices[*(uint*)(ev + Libc.EpollDataOffset)];
                    if ((*(int*)ev & (Libc.EpollIn | Libc.EpollErr | Libc.EpollHup | Libc.EpollRdHup)) != 0)
                    {
                        device.Receive(ref _input);
                    }
                    MarkDirty(device); // acks to write, window slots freed, or EPOLLOUT: room to write
                }
                if (_pingRequested)
                {
                    _pingRequested = false;
                    foreach (var device in _devices)
                    {
                        device.QueuePing();
                        MarkDirty(device);
                    }
                }
                bool sending = _sending;
                long clockMs = clock.ElapsedMilliseconds;
                if (clockMs >= nextSweepMs || (!sending && !releasedHeld))
                {
                    // Held receipt acks past their deadline (or all of them, once sending stopped) go in this pass.
                    nextSweepMs = clockMs + sweepMs;
                    releasedHeld = !sending;
                    foreach (var device in _devices)
                    {
                        if (device.HeldSinceMs >= 0 && (!sending || clockMs - device.HeldSinceMs >= Traffic.ReceiptAckDelayMs))
                        {
                            MarkDirty(device);
                        }
                    }
                }
                if (sending && paced)
                {
                    long due = (long)(clock.Elapsed.TotalSeconds * _rate) - Traffic.TokensIssued;
                    for (; due > 0; due--)
                    {
                        var device = _devices[_random.Next(_devices.Length)];
                        device.Tokens++;
                        Traffic.TokensIssued++;
                        MarkDirty(device);
                    }
                }
                long nowMs = _dirty.Count > 0 ? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() : 0;
                foreach (var device in _dirty)
                {
                    device.Dirty = false;
                    device.Flush(sending, paced, _everyone, _random, nowMs, clockMs);
                }
                _dirty.Clear();
            }
            foreach (var device in _devices)
            {
                device.Close();
            }
        }
        catch (Exception ex)
        {
            Volatile.Write(ref _failure, ex);
        }
        finally
        {
            NativeMemory.Free(events);
        }
    }

    private void MarkDirty(ChatDevice device)
    {
        if (!device.Dirty)
        {
            device.Dirty = true;
            _dirty.Add(device);
        }
    }
}
