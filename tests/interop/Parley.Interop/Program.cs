using Parley.Interop;

// Runs every interop check against libsignal (oracle.js beside this project) and exits non-zero on any failure.
string script = args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "oracle.js");
await using Oracle oracle = Oracle.Start(script);
var versions = await oracle.CallAsync("ping");
Console.WriteLine($"libsignal-client {versions["versions"]!["current"]} and {versions["versions"]!["legacy"]} (X3DH)");

var runner = new CheckRunner();
await SignatureChecks.RunAsync(runner, oracle);
await FingerprintChecks.RunAsync(runner, oracle);
await SenderKeyChecks.RunAsync(runner, oracle);

Console.WriteLine($"{runner.Passed} passed, {runner.Failed} failed");
return runner.Failed > 0 ? 1 : 0;
