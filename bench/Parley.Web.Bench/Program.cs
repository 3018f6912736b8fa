// Parley Web's speed figures in Debian's Chromium, headless, against the real server on loopback
// (docs/performance.md). Prints figures; asserts nothing.
//   dotnet run -c Release --project bench/Parley.Web.Bench [-- --messages 5000 --repeats 3]
// PARLEY_SERVER_URL=http://127.0.0.1:8080/ measures a server already running there (for example the
// README's `dotnet run -c Release --project src/Parley.Server`) instead of starting the built one.
using Parley.Web.Bench;

var messages = args.SkipWhile(a => a != "--messages").Skip(1).Select(int.Parse).FirstOrDefault(5000);
var repeats = args.SkipWhile(a => a != "--repeats").Skip(1).Select(int.Parse).FirstOrDefault(1);
await using var server = Environment.GetEnvironmentVariable("PARLEY_SERVER_URL") is { Length: > 0 } running
    ? BenchServer.Running(new Uri(running))
    : await BenchServer.StartAsync();
await using var browser = await BenchBrowser.LaunchAsync();
Console.WriteLine($"server {server.BaseUri}, chromium {browser.Version}");

var load = await browser.ColdLoadAsync(server.BaseUri);
Console.WriteLine($"first load: {load.Bytes / 1024.0 / 1024.0:F2} MiB ({load.Bytes:N0} bytes) transferred (compressed, {load.Requests} requests), welcome screen interactive after {load.Interactive.TotalMilliseconds:F0} ms");

var crypto = await BenchBrowser.MeasureCryptoAsync(load.Page, 500);
Console.WriteLine($"message crypto in the browser: {crypto:F3} ms per encrypt + decrypt of 200 B (mean of 500, PQXDH session)");

var boot = await BenchBrowser.ReloadAsync(load.Page, "[data-testid=user]");
Console.WriteLine($"a reload before registering (an empty store; the cache is disabled in this context, so files are fetched again) took input in {boot.TotalMilliseconds:F0} ms");

var register = await BenchBrowser.RegisterAsync(load.Page, "bench" + Guid.NewGuid().ToString("N")[..8]);
Console.WriteLine(register is { } r ? $"registration (keys made in the browser, account created, connected): {r.TotalMilliseconds:F0} ms" : "registration: failed (see the page's error)");
if (register is null || messages <= 0)
{
    return;
}
var chat = await LongChat.MeasureAsync(browser, server.BaseUri, messages, repeats);
static string Ms(IEnumerable<TimeSpan> times) => string.Join(", ", times.Select(t => $"{t.TotalMilliseconds:F0}"));
Console.WriteLine($"a {messages}-message chat: received by the SDK device in {chat.Filled.TotalSeconds:F0} s; after a reload the chat list took input in {Ms(chat.ListInteractive)} ms; "
    + $"the chat opened (a message row shown) in {chat.FirstOpened.TotalMilliseconds:F0} ms with every message unread (marking them read), "
    + $"{Ms(chat.Opened)} ms once read (each after another reload)");
Console.WriteLine($"scrolling it up from the newest message to the first, a screen per frame ({chat.Scroll.Steps} steps): {chat.Scroll.Frames} frames, median {chat.Scroll.Median:F1} ms, "
    + $"p95 {chat.Scroll.P95:F1} ms, max {chat.Scroll.Max:F1} ms, {chat.Scroll.Over50} frames over 50 ms; {chat.Scroll.Rendered} message rows in the page at the end, the top one \"{chat.Scroll.Top}\"");
