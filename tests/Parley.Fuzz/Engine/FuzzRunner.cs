using System.Collections.Concurrent;
using System.Diagnostics;

namespace Parley.Fuzz.Engine;

/// <summary>
/// Runs a fixed number of inputs through a target, libFuzzer style but in-process and without
/// coverage: each input is a seed or a kept input, mutated; an input that produces an outcome
/// never seen before is kept (outcomes stand in for coverage). Fixed seed: the same run makes
/// the same inputs (per worker). A watchdog reports an input that runs longer than the hang
/// limit as a finding and ends the run.
/// </summary>
public static class FuzzRunner
{
    private const int MaxKeptFindings = 10;
    private const int MaxCorpus = 1024;

    /// <summary>Runs <paramref name="inputs"/> inputs; findings are also written to <paramref name="crashDirectory"/> when given.</summary>
    public static async Task<FuzzReport> RunAsync(IFuzzTarget target, long inputs, int seed, TimeSpan hangLimit,
        string? crashDirectory = null, Action<string>? progress = null)
    {
        var outcomes = new ConcurrentDictionary<string, long>();
        var findings = new ConcurrentQueue<FuzzFinding>();
        long findingCount = 0, next = 0, done = 0;
        var corpus = new List<byte[]>(target.Seeds);
        var corpusLock = new Lock();
        var hung = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new long[target.Workers];
        var current = new byte[target.Workers][];
        var clock = Stopwatch.StartNew();

        void Record(byte[] input, string problem)
        {
            long n = Interlocked.Increment(ref findingCount);
            if (n <= MaxKeptFindings)
            {
                findings.Enqueue(new FuzzFinding(input, problem));
                if (crashDirectory is not null)
                {
                    Directory.CreateDirectory(crashDirectory);
                    File.WriteAllBytes(Path.Combine(crashDirectory, $"{target.Name}-crash-{n}.bin"), input);
                    File.WriteAllText(Path.Combine(crashDirectory, $"{target.Name}-crash-{n}.txt"), problem);
                }
            }
        }

        async Task WorkAsync(int worker)
        {
            var mutator = new Mutator(unchecked((seed * 7919) + worker));
            var random = mutator.Random;
            while (Interlocked.Increment(ref next) <= inputs && !hung.Task.IsCompleted)
            {
                byte[] parent, other;
                lock (corpusLock)
                {
                    parent = corpus[random.Next(corpus.Count)];
                    other = corpus[random.Next(corpus.Count)];
                }
                // Now and then a seed as it is, or noise: the mutations must not drift away from either.
                var input = random.Next(64) switch
                {
                    0 => parent,
                    1 => Noise(random),
                    _ => target.Mutate(parent, other, mutator),
                };
                current[worker] = input;
                Volatile.Write(ref started[worker], Stopwatch.GetTimestamp());
                string outcome;
                try
                {
                    outcome = await target.ExecuteAsync(input, worker);
                }
                catch (Exception e)
                {
                    Record(input, e.ToString());
                    outcome = "finding " + e.GetType().Name;
                }
                Volatile.Write(ref started[worker], 0);
                if (outcomes.AddOrUpdate(outcome, 1, (_, c) => c + 1) == 1)
                {
                    lock (corpusLock)
                    {
                        if (corpus.Count < MaxCorpus)
                        {
                            corpus.Add(input);
                        }
                    }
                }
                long finished = Interlocked.Increment(ref done);
                if (progress is not null && finished % 100_000 == 0)
                {
                    progress($"{target.Name}: {finished:N0} inputs, {clock.Elapsed.TotalSeconds:F0} s, {Interlocked.Read(ref findingCount)} crashes");
                }
            }
        }

        using var stop = new CancellationTokenSource();
        var watchdog = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(250, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                for (int w = 0; w < started.Length; w++)
                {
                    long since = Volatile.Read(ref started[w]);
                    if (since != 0 && Stopwatch.GetElapsedTime(since) > hangLimit && !hung.Task.IsCompleted)
                    {
                        Record(current[w], $"hang: no outcome after {hangLimit.TotalSeconds} s");
                        hung.TrySetResult();
                    }
                }
            }
        });
        var workers = Enumerable.Range(0, target.Workers).Select(w => Task.Run(() => WorkAsync(w))).ToArray();
        var all = Task.WhenAll(workers);
        await Task.WhenAny(all, hung.Task);
        await stop.CancelAsync();
        await watchdog;
        if (!hung.Task.IsCompleted)
        {
            await all; // a fault of the fuzzer itself (a mutator, say) surfaces here, not as a short run
        }
        clock.Stop();
        lock (corpusLock)
        {
            return new FuzzReport(target.Name, Math.Min(Interlocked.Read(ref done), inputs), clock.Elapsed, Interlocked.Read(ref findingCount),
                [.. findings], new Dictionary<string, long>(outcomes), corpus.Count);
        }
    }

    private static byte[] Noise(Random random)
    {
        var bytes = new byte[random.Next(0, 256)];
        random.NextBytes(bytes);
        return bytes;
    }
}
