using Parley.Interop;

// Runs every interop check against libsignal (oracle.js beside this project) and exits non-zero on any failure.
// INTEROP_STRICT=1 also fails the run on known gaps.
string script = args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "oracle.js");
await using Oracle oracle = Oracle.Start(script);
var versions = (await oracle.CallAsync("ping"))["versions"]!;
Console.WriteLine($"libsignal-client {versions["current"]} (newest), {versions["pqxdh"]} (PQXDH, SPQR optional), {versions["legacy"]} (X3DH)");

var runner = new CheckRunner(strict: Environment.GetEnvironmentVariable("INTEROP_STRICT") == "1");
await SignatureChecks.RunAsync(runner, oracle);
await FingerprintChecks.RunAsync(runner, oracle);
await AttachmentChecks.RunAsync(runner, oracle);
await SenderKeyChecks.RunAsync(runner, oracle);
await SessionChecks.RunAsync(runner, oracle);

if (runner.Gaps > 0)
{
    Console.WriteLine($"{runner.Gaps} known gap(s), see GAP lines; INTEROP_STRICT=1 counts them as failures");
}

Console.WriteLine($"{runner.Passed} passed, {runner.Failed} failed");
return runner.Failed > 0 ? 1 : 0;
