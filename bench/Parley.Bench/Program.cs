using Parley.Bench;
using Parley.Bench.Diagnostics;
using Parley.Bench.Hosting;
using Parley.Bench.Scenarios;

// Load generator for the Parley server: speaks the wire protocol directly over WebSockets.
// See docs/performance.md for the scenarios and the figures they produced.

if (args.Length > 0 && args[0] == LiveHeap.Verb)
{
    return LiveHeap.Run(args);
}
if (args.Length > 0 && args[0] == GcReport.Verb)
{
    return GcReport.Run(args);
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

if (options.Scenario == ConnectionsWorker.Verb)
{
    return await ConnectionsWorker.RunAsync(options, cancel.Token);
}

Func<BenchOptions, ServerUnderTest, CancellationToken, Task<ResultReport>>? scenario = options.Scenario switch
{
    "one-to-one" => OneToOneScenario.RunAsync,
    "connections" => ConnectionsScenario.RunAsync,
    "idle" => ConnectionsScenario.RunIdleAsync,
    "offline-drain" => OfflineDrainScenario.RunAsync,
    "media" => MediaScenario.RunAsync,
    "group-fanout" => GroupFanoutScenario.RunAsync,
    _ => null,
};
if (scenario is null)
{
    Console.Error.WriteLine($"unknown scenario '{options.Scenario}'\n{BenchOptions.Usage}");
    return 2;
}

ProfileWindow.Command = options.ProfileWindow;
await CpuWindow.MeasureBusyBeforeRunAsync(cancel.Token);
var serverArgs = options.ServerSettings.Select(s => "--" + s).ToList();
await using var server = options.Server is Uri url
    ? await ServerUnderTest.AttachAsync(url, options.ServerPid, cancel.Token)
    : await ServerUnderTest.StartAsync(serverArgs, cancel.Token, options.Tls);
Console.Error.WriteLine($"server {server.BaseUri} pid {server.Pid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"}");
try
{
    var report = await scenario(options, server, cancel.Token);
    report.Print(Console.Out);
    return 0;
}
catch (Exception ex) when (ex is not OperationCanceledException)
{
    Console.Error.WriteLine($"{options.Scenario} failed: {ex}");
    Console.Error.WriteLine("server output (last lines):\n" + server.RecentOutput());
    return 1;
}
