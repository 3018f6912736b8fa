using System.Security.Cryptography;
using Microsoft.Playwright;

namespace Parley.Web.Tests;

/// <summary>Files go browser to browser (1:1 and in a group) through the media store: progress both ways, an image preview, bytes unchanged.</summary>
public sealed class FileTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    // A 1×1 PNG: the browser decodes it whatever follows its IEND chunk.
    private static readonly byte[] Pixel = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");

    // Records the phase of every progress bar that appears, however briefly, in the page.
    private const string WatchProgress = """
        () => {
          window.parleyPhases = new Set();
          const isBar = el => el.nodeType === 1 && el.matches('[data-testid=file-progress]');
          const note = el => { if (isBar(el)) { window.parleyPhases.add(el.dataset.phase); } };
          new MutationObserver(records => {
            for (const r of records) {
              note(r.target);
              if (r.attributeName === 'data-phase' && r.oldValue && isBar(r.target)) { window.parleyPhases.add(r.oldValue); }
              for (const n of r.addedNodes) {
                if (n.nodeType === 1) { note(n); n.querySelectorAll('[data-testid=file-progress]').forEach(note); }
              }
            }
          }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeOldValue: true, attributeFilter: ['data-phase', 'value'] });
        }
        """;

    [Fact]
    public async Task Image_and_other_file_go_browser_to_browser_with_progress_a_preview_and_equal_bytes()
    {
        await using var alice = await AppPage.OpenAsync(app);
        await using var bob = await AppPage.OpenAsync(app);
        var a = Users.New("alice");
        var b = Users.New("bob");
        await alice.RegisterAsync(a);
        await bob.RegisterAsync(b);
        await alice.OpenChatAsync(b);
        await alice.SendAsync("files follow");
        await bob.ChatItem(a).ClickAsync();
        await Assertions.Expect(bob.Message("files follow")).ToHaveCountAsync(1);
        await alice.Page.EvaluateAsync(WatchProgress);
        await bob.Page.EvaluateAsync(WatchProgress);

        // Big enough for several progress steps (the SDK reports every 256 KiB).
        byte[] image = [.. Pixel, .. RandomNumberGenerator.GetBytes(900 * 1024)];
        byte[] document = RandomNumberGenerator.GetBytes(700 * 1024);
        await alice.Page.GetByTestId("file-input").SetInputFilesAsync(new FilePayload { Name = "pixel.png", MimeType = "image/png", Buffer = image });
        var sentImage = alice.Page.Locator("[data-testid=message] [data-testid=file][data-name='pixel.png']");
        await Assertions.Expect(sentImage).ToHaveAttributeAsync("data-phase", "Ready");
        await alice.Page.GetByTestId("file-input").SetInputFilesAsync(new FilePayload { Name = "notes.bin", MimeType = "application/octet-stream", Buffer = document });
        await Assertions.Expect(alice.Page.Locator("[data-testid=message] [data-testid=file][data-name='notes.bin']")).ToHaveAttributeAsync("data-phase", "Ready");
        await Assertions.Expect(alice.Page.GetByTestId("file-sending")).ToHaveCountAsync(0);
        await Assertions.Expect(sentImage.GetByTestId("file-preview")).ToBeVisibleAsync();

        // The image is fetched and previewed by itself; the other file waits for the user.
        var image2 = bob.Page.Locator("[data-testid=file][data-name='pixel.png']");
        await Assertions.Expect(image2).ToHaveAttributeAsync("data-phase", "Ready");
        var preview = image2.GetByTestId("file-preview");
        await Assertions.Expect(preview).ToBeVisibleAsync();
        Assert.Equal(1, await preview.EvaluateAsync<int>("img => img.naturalWidth"));
        Assert.StartsWith("blob:", await preview.GetAttributeAsync("src"), StringComparison.Ordinal);
        Assert.Equal(image, await SaveAsync(bob.Page, image2));

        var other = bob.Page.Locator("[data-testid=file][data-name='notes.bin']");
        await Assertions.Expect(other).ToHaveAttributeAsync("data-phase", "Offered");
        await Assertions.Expect(other.GetByTestId("file-preview")).ToHaveCountAsync(0);
        await other.GetByTestId("file-fetch").ClickAsync();
        await Assertions.Expect(other).ToHaveAttributeAsync("data-phase", "Ready");
        Assert.Equal(document, await SaveAsync(bob.Page, other));

        var sent = await alice.Page.EvaluateAsync<string[]>("() => [...window.parleyPhases]");
        var received = await bob.Page.EvaluateAsync<string[]>("() => [...window.parleyPhases]");
        Assert.Contains("Uploading", sent);
        Assert.Contains("Encrypting", sent);
        Assert.Contains("Downloading", received);
        Assert.Empty(alice.Errors);
        Assert.Empty(bob.Errors);
    }

    [Fact]
    public async Task Files_sent_from_the_browser_to_a_group_reach_a_browser_and_a_cli_member_with_progress_a_preview_and_the_sender_name()
    {
        var a = Users.New("alice");
        var b = Users.New("bob");
        var c = Users.New("carol");
        var carolProfile = GroupTests.NewProfile();
        try
        {
            await using var alice = await AppPage.OpenAsync(app);
            await using var bob = await AppPage.OpenAsync(app);
            await alice.RegisterAsync(a);
            await bob.RegisterAsync(b);
            await GroupTests.RegisterCliAsync(app, c, carolProfile);
            await GroupTests.CreateGroupAsync(alice, "Trip photos", $"{b}, {c}");
            await alice.SendAsync("photos follow");
            await GroupTests.GroupItem(bob, "Trip photos").ClickAsync();
            await Assertions.Expect(bob.Message("photos follow")).ToHaveCountAsync(1);
            await alice.Page.EvaluateAsync(WatchProgress);
            await bob.Page.EvaluateAsync(WatchProgress);

            byte[] image = [.. Pixel, .. RandomNumberGenerator.GetBytes(900 * 1024)];
            byte[] document = RandomNumberGenerator.GetBytes(700 * 1024);
            await alice.Page.GetByTestId("file-input").SetInputFilesAsync(new FilePayload { Name = "pixel.png", MimeType = "image/png", Buffer = image });
            var sentImage = FileMessage(alice, "pixel.png");
            await Assertions.Expect(sentImage.GetByTestId("file")).ToHaveAttributeAsync("data-phase", "Ready");
            await alice.Page.GetByTestId("file-input").SetInputFilesAsync(new FilePayload { Name = "notes.bin", MimeType = "application/octet-stream", Buffer = document });
            await Assertions.Expect(FileMessage(alice, "notes.bin").GetByTestId("file")).ToHaveAttributeAsync("data-phase", "Ready");
            await Assertions.Expect(alice.Page.GetByTestId("file-sending")).ToHaveCountAsync(0);
            await Assertions.Expect(sentImage.GetByTestId("file-preview")).ToBeVisibleAsync();

            // The other browser member: the image previewed by itself, with who sent it; the other file on request.
            var atBob = FileMessage(bob, "pixel.png");
            await Assertions.Expect(atBob.GetByTestId("file")).ToHaveAttributeAsync("data-phase", "Ready");
            await Assertions.Expect(atBob.GetByTestId("sender")).ToHaveTextAsync(a);
            var preview = atBob.GetByTestId("file-preview");
            await Assertions.Expect(preview).ToBeVisibleAsync();
            Assert.Equal(1, await preview.EvaluateAsync<int>("img => img.naturalWidth"));
            Assert.Equal(image, await SaveAsync(bob.Page, atBob.GetByTestId("file")));
            var other = FileMessage(bob, "notes.bin");
            await Assertions.Expect(other.GetByTestId("file")).ToHaveAttributeAsync("data-phase", "Offered");
            await other.GetByTestId("file-fetch").ClickAsync();
            await Assertions.Expect(other.GetByTestId("file")).ToHaveAttributeAsync("data-phase", "Ready");
            Assert.Equal(document, await SaveAsync(bob.Page, other.GetByTestId("file")));

            // The CLI member gets both, shown with the group's name, byte for byte; then the sender sees ✓✓.
            var media = Path.Combine(carolProfile, "inbox");
            var carol = await Cli.RunAsync("receive", "--media-dir", media, "--profile", carolProfile, "--json");
            Assert.Equal(0, carol.ExitCode);
            var files = carol.Json.Where(m => m.TryGetProperty("file", out _)).ToList();
            Assert.Equal(["notes.bin", "pixel.png"], files.Select(f => f.GetProperty("file").GetString()).Order(StringComparer.Ordinal));
            Assert.All(files, f => Assert.Equal((a, "Trip photos"), (f.GetProperty("from").GetString(), f.GetProperty("group").GetString())));
            Assert.Equal(image, await File.ReadAllBytesAsync(files.Single(f => f.GetProperty("file").GetString() == "pixel.png").GetProperty("path").GetString()!));
            Assert.Equal(document, await File.ReadAllBytesAsync(files.Single(f => f.GetProperty("file").GetString() == "notes.bin").GetProperty("path").GetString()!));
            await Assertions.Expect(sentImage.GetByTestId("ticks")).ToHaveAttributeAsync("data-status", "Delivered");

            // A member's image comes back the other way, previewed with its sender's name.
            await bob.Page.GetByTestId("file-input").SetInputFilesAsync(new FilePayload { Name = "reply.png", MimeType = "image/png", Buffer = Pixel });
            var reply = FileMessage(alice, "reply.png");
            await Assertions.Expect(reply.GetByTestId("file-preview")).ToBeVisibleAsync();
            await Assertions.Expect(reply.GetByTestId("sender")).ToHaveTextAsync(b);

            var sent = await alice.Page.EvaluateAsync<string[]>("() => [...window.parleyPhases]");
            var received = await bob.Page.EvaluateAsync<string[]>("() => [...window.parleyPhases]");
            Assert.Contains("Uploading", sent);
            Assert.Contains("Encrypting", sent);
            Assert.Contains("Downloading", received);
            Assert.Empty(alice.Errors);
            Assert.Empty(bob.Errors);
        }
        finally
        {
            GroupTests.DeleteProfile(carolProfile);
        }
    }

    // The message (bubble) that carries the file named name.
    private static ILocator FileMessage(AppPage page, string name) =>
        page.Page.GetByTestId("message").Filter(new() { Has = page.Page.Locator($"[data-testid=file][data-name='{name}']") });

    private static async Task<byte[]> SaveAsync(IPage page, ILocator file)
    {
        var download = await page.RunAndWaitForDownloadAsync(() => file.GetByTestId("file-save").ClickAsync());
        var path = await download.PathAsync();
        return await File.ReadAllBytesAsync(path);
    }
}
