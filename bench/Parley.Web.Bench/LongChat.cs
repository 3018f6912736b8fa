using System.Diagnostics;
using System.Text.Json;
using Microsoft.Playwright;
using Parley.Client;

namespace Parley.Web.Bench;

/// <summary>
/// A chat with thousands of messages in the browser: another user (the SDK, in this process) sends
/// them, the page receives and stores them all, then the page is reloaded and the chat opened and
/// scrolled. The message list is virtualized, so opening and scrolling should not grow with the count.
/// </summary>
public static class LongChat
{
    // One animation frame per step: the browser renders each screenful it is scrolled to.
    private const string ScrollScript = """
        async () => {
          const box = document.querySelector('[data-testid=messages]');
          const frames = [];
          let last = performance.now();
          let running = true;
          const tick = t => { frames.push(t - last); last = t; if (running) requestAnimationFrame(tick); };
          requestAnimationFrame(tick);
          let steps = 0;
          box.scrollTop = 0;
          await new Promise(r => requestAnimationFrame(r));
          while (box.scrollTop + box.clientHeight < box.scrollHeight - 2 && steps < 2000) {
            box.scrollTop += box.clientHeight;
            steps++;
            await new Promise(r => requestAnimationFrame(r));
          }
          running = false;
          frames.sort((a, b) => a - b);
          const at = q => frames[Math.min(frames.length - 1, Math.floor(frames.length * q))];
          return JSON.stringify({ steps, frames: frames.length, median: at(0.5), p95: at(0.95), max: frames[frames.length - 1],
            over50: frames.filter(f => f > 50).length, rendered: document.querySelectorAll('[data-testid=message]').length });
        }
        """;

    /// <summary>Fills, reloads, opens and scrolls; returns the times.</summary>
    public static async Task<LongChatTimes> MeasureAsync(IPage page, Uri server, int count)
    {
        var me = await page.GetByTestId("me").TextContentAsync() ?? throw new InvalidOperationException("not registered");
        var peer = "long" + Guid.NewGuid().ToString("N")[..8];
        var profile = Path.Combine(Path.GetTempPath(), "parley-web-bench-" + peer);
        var clock = Stopwatch.StartNew();
        try
        {
            await using var sender = await ParleyClient.RegisterAsync(profile, server, peer);
            await sender.ConnectAsync();
            var last = "";
            for (var i = 1; i <= count; i++)
            {
                last = $"message {i} of {count}";
                sender.QueueText(me, last);
            }
            var item = page.Locator($"[data-testid=chat-item][data-peer='{peer}'] [data-testid=last-message]");
            await Assertions.Expect(item).ToHaveTextAsync(last, new() { Timeout = 30 * 60_000 });
        }
        finally
        {
            if (Directory.Exists(profile))
            {
                Directory.Delete(profile, recursive: true);
            }
        }
        var filled = clock.Elapsed;

        clock.Restart();
        await page.ReloadAsync();
        var chat = page.Locator($"[data-testid=chat-item][data-peer='{peer}']");
        await chat.WaitForAsync(new() { Timeout = 120_000 });
        var listInteractive = clock.Elapsed;

        // First open: all of it unread, so opening also marks 5,000 messages read (and sends the receipts).
        var firstOpen = await OpenAsync(page, chat);

        // Then as a chat usually is: already read, after a reload.
        await page.ReloadAsync();
        await chat.WaitForAsync(new() { Timeout = 120_000 });
        var opened = await OpenAsync(page, chat);

        var scroll = JsonSerializer.Deserialize<ScrollFrames>(await page.EvaluateAsync<string>(ScrollScript), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        return new LongChatTimes(filled, listInteractive, firstOpen, opened, scroll);
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
/// <param name="Filled">From the first send until the browser showed the last message.</param>
/// <param name="ListInteractive">From the reload until the chat list showed the chat.</param>
/// <param name="FirstOpened">From the first click on the chat (every message unread: opening marks them read) until its first message was in the page.</param>
/// <param name="Opened">The same for the chat already read, after another reload.</param>
/// <param name="Scroll">The frames of a scroll through the whole chat.</param>
public sealed record LongChatTimes(TimeSpan Filled, TimeSpan ListInteractive, TimeSpan FirstOpened, TimeSpan Opened, ScrollFrames Scroll);

/// <summary>Frame times (ms) while the chat was scrolled a screenful per frame from top to bottom.</summary>
public sealed record ScrollFrames(int Steps, int Frames, double Median, double P95, double Max, int Over50, int Rendered);
