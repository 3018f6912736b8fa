// Parley Web's speed figures in Debian's Chromium, headless, against the real server on loopback
// (docs/performance.md). Prints figures; asserts nothing.
//   dotnet run -c Release --project bench/Parley.Web.Bench [-- --messages 5000]
using Parley.Web.Bench;

var messages = args.SkipWhile(a => a != "--messages").Skip(1).Select(int.Parse).FirstOrDefault(5000);
await using var server = await BenchServer.StartAsync();
await using var browser = await BenchBrowser.LaunchAsync();
Console.WriteLine($"server {server.BaseUri}, chromium {browser.Version}");

var load = await browser.ColdLoadAsync(server.BaseUri);
Console.WriteLine($"first load: {load.Bytes / 1024.0 / 1024.0:F2} MB transferred (compressed, {load.Requests} requests), welcome screen interactive after {load.Interactive.TotalMilliseconds:F0} ms");

var crypto = await BenchBrowser.MeasureCryptoAsync(load.Page, 500);
Console.WriteLine($"message crypto in the browser: {crypto:F3} ms per encrypt + decrypt of 200 B (mean of 500, PQXDH session)");

var register = await BenchBrowser.RegisterAsync(load.Page, "bench" + Guid.NewGuid().ToString("N")[..8]);
Console.WriteLine(register is { } r ? $"registration (keys made in the browser, account created, connected): {r.TotalMilliseconds:F0} ms" : "registration: failed (see the page's error)");
_ = messages;
