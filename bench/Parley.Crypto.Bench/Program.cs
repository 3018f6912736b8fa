using BenchmarkDotNet.Running;

// dotnet run -c Release -- --filter '*'   (see compare.sh for the side-by-side with libsignal)
BenchmarkSwitcher.FromAssembly(typeof(Parley.Crypto.Bench.SenderKeyBenchmarks).Assembly).Run(args);
