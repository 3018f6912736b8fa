using System.Diagnostics;
using System.Text.Json;
using Microsoft.Playwright;
using Parley.Client;

namespace Parley.Web.Bench;

/// <summary>
/// A chat with thousands of messages in the browser. Another user (the SDK, in this process) sends
/// them to a device that the SDK runs here too, recording its store (<see cref="RecordedDevice"/>);
/// the store is written into a fresh page's IndexedDB, and the page is reloaded (measured: the chat
/// list takes input), the chat opened (measured: a message row shows), reloaded and opened
/// again (read), and scrolled from the newest message up to the first, which loads the older pages.
/// </summary>
public static class LongChat
{
    // One animation frame per step: the browser renders each screenful it is scrolled to. Up from the
    // newest message until the top stays the top (no older page arrives) for 30 frames.
    private const string ScrollScript = """
        async () => {
          const box = document.querySelector('[data-testid=messages]');
          const frames = [];
          let last = performance.now();
          let running = true;
          const tick = t => { frames.push(t - last); last = t; if (running) requestAnimationFrame(tick); };
          requestAnimationFrame(tick);
          // A column-reverse list (the app's) starts at the bottom with scrollTop 0 and scrolls up into negative values.
          const reverse = getComputedStyle(box).flexDirection === 'column-reverse';
          const atTop = () => reverse ? box.scrollHeight - box.clientHeight + box.scrollTop <= 1 : box.scrollTop <= 0;
          let steps = 0, still = 0, height = box.scrollHeight;
          box.scrollTop = reverse ? 0 : box.scrollHeight;
          await new Promise(r => requestAnimationFrame(r));
          while (still < 30 && steps < 20000) {
            if (atTop() && box.scrollHeight === height) { still++; } else { still = 0; }
            height = box.scrollHeight;
            box.scrollTop -= box.clientHeight;
            steps++;
            await new Promise(r => requestAnimationFrame(r));
          }
          running = false;
          frames.sort((a, b) => a - b);
          const at = q => frames[Math.min(frames.length - 1, Math.floor(frames.length * q))];
          const first = document.querySelector('[data-testid=message] .text');
          return JSON.stringify({ steps, frames: frames.length, median: at(0.5), p95: at(0.95), max: frames[frames.length - 1],
            over50: frames.filter(f => f > 50).length, rendered: document.querySelectorAll('[data-testid=message]').length,
            top: first ? first.textContent : '' });
        }
        """;

    /// <summary>Fills, reloads, opens and scrolls; returns the times. <paramref name="repeats"/> reloads and opens are measured.</summary>
    public static async Task<LongChatTimes> MeasureAsync(BenchBrowser browser, Uri server, int count, int repeats)
    {
        ArgumentNullException.ThrowIfNull(browser);
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var me = "web" + suffix;
        var peer = "long" + suffix;
        var profile = Path.Combine(Path.GetTempPath(), "parley-web-bench-" + peer);
        var device = new RecordedDevice();
        var clock = Stopwatch.StartNew();
        try
        {
            await using var receiver = await ParleyClient.RegisterAsync(device, server, me, deviceName: "browser");
            await using var sender = await ParleyClient.RegisterAsync(profile, server, peer);
            var received = 0;
            var all = new TaskCompletionSource();
            receiver.MessageReceived += (_, _) =>
            {
                if (Interlocked.Increment(ref received) == count)
                {
                    all.TrySetResult();
                }
            };
            await receiver.ConnectAsync();
            await sender.ConnectAsync();
            for (var i = 1; i <= count; i++)
            {
                sender.QueueText(me, $"message {i} of {count}");
            }
            await all.Task.WaitAsync(TimeSpan.FromMinutes(30));
            // The last acks and the delivery receipts out before the device stops here for good.
            await Task.Delay(2000);
        }
        finally
        {
            if (Directory.Exists(profile))
            {
                Directory.Delete(profile, recursive: true);
            }
        }
        var filled = clock.Elapsed;

        var page = await browser.NewPageAsync();
        await page.GotoAsync(server.ToString());
        await page.GetByTestId("user").WaitForAsync(new() { Timeout = 120_000 });
        await device.WriteIntoAsync(page, [peer]);
        var chat = page.Locator($"[data-testid=chat-item][data-peer='{peer}']");

        var lists = new List<TimeSpan>();
        for (var i = 0; i < repeats; i++)
        {
            lists.Add(await ReloadAsync(page, chat));
        }

        // First open: all of it unread, so opening also marks every message read (and sends the receipts).
        var firstOpen = await OpenAsync(page, chat);

        // Then as a chat usually is: already read, after a reload.
        var opens = new List<TimeSpan>();
        for (var i = 0; i < repeats; i++)
        {
            await ReloadAsync(page, chat);
            opens.Add(await OpenAsync(page, chat));
        }

        var scroll = JsonSerializer.Deserialize<ScrollFrames>(await page.EvaluateAsync<string>(ScrollScript), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        return new LongChatTimes(filled, lists, firstOpen, opens, scroll);
    }

    private static async Task<TimeSpan> ReloadAsync(IPage page, ILocator chat)
    {
        var clock = Stopwatch.StartNew();
        await page.ReloadAsync();
        await chat.WaitForAsync(new() { Timeout = 300_000 });
        return clock.Elapsed;
    }

    private static async Task<TimeSpan> OpenAsync(IPage page, ILocator chat)
    {
        var clock = Stopwatch.StartNew();
        await chat.ClickAsync(new() { Timeout = 300_000 });
        await page.Locator("[data-testid=chat-view] [data-testid=message]").First.WaitForAsync(new() { Timeout = 300_000 });
        return clock.Elapsed;
    }
}

/// <summary>What <see cref="LongChat.MeasureAsync"/> measured.</summary>
/// <param name="Filled">From the SDK devices' registration until the recorded device had every message.</param>
/// <param name="ListInteractive">Each reload until the chat list showed the chat.</param>
/// <param name="FirstOpened">From the first click on the chat (every message unread: opening marks them read) until a message row was in the page.</param>
/// <param name="Opened">The same for the chat already read, each after another reload.</param>
/// <param name="Scroll">The frames of a scroll up through the whole chat.</param>
public sealed record LongChatTimes(TimeSpan Filled, IReadOnlyList<TimeSpan> ListInteractive, TimeSpan FirstOpened, IReadOnlyList<TimeSpan> Opened, ScrollFrames Scroll);

/// <summary>Frame times (ms) while the chat was scrolled a screenful per frame from the newest message to the first.</summary>
public sealed record ScrollFrames(int Steps, int Frames, double Median, double P95, double Max, int Over50, int Rendered, string Top);
