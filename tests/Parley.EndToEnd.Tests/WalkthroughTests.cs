using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// The newcomer's path: runs every <c>sh</c> block of docs/walkthrough.md as written (the CLI as a
/// process, one environment per terminal), and checks that the output blocks after them still come
/// out. Only the port, the /tmp/parley-demo folder, ids, clock times and safety digits may differ.
/// </summary>
public sealed partial class WalkthroughTests
{
    private const string DocUrl = "http://127.0.0.1:8080";
    private const string DocRoot = "/tmp/parley-demo";

    [Fact]
    public async Task Walkthrough_commands_run_as_written_and_print_what_it_shows()
    {
        var steps = WalkthroughStep.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "docs", "walkthrough.md")));
        var root = Path.Combine(Path.GetTempPath(), "parley-walkthrough-" + Guid.NewGuid().ToString("N"));
        var run = new Walkthrough(root, $"http://127.0.0.1:{FreePort()}");
        try
        {
            foreach (var step in steps)
            {
                await run.DoAsync(step);
            }
            // Stopping and restarting the server, and the send in between, are the point of this test.
            Assert.Equal(2, run.ServerStarts);
            Assert.Contains(steps, s => s.Commands.Any(c => c.Contains("exit code $?", StringComparison.Ordinal)));
            // Bob got the message sent while the server was down once: it is not shown again.
            var again = await Cli.RunAsync(new Dictionary<string, string> { ["PARLEY_PROFILE"] = Path.Combine(root, "bob") }, "receive", "--json");
            Assert.Equal(0, again.ExitCode);
            Assert.DoesNotContain(again.Json, m => m.GetProperty("text").GetString() == "are you there?");
        }
        finally
        {
            await run.StopServerAsync();
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The state of the reader's terminals while the walkthrough runs.</summary>
    private sealed partial class Walkthrough(string root, string url)
    {
        private readonly Dictionary<string, Dictionary<string, string>> _terminals = [];
        private readonly Dictionary<string, string> _ids = [];
        private Process? _server;

        public int ServerStarts { get; private set; }

        public async Task DoAsync(WalkthroughStep step)
        {
            if (step.StopsServer)
            {
                await StopServerAsync();
                return;
            }
            var env = _terminals.TryGetValue(step.Terminal, out var known) ? known : _terminals[step.Terminal] = [];
            var lines = new List<string>();
            var exitCodes = new List<int>();
            foreach (var command in step.Commands)
            {
                var (line, exitCode) = await RunAsync(step.Terminal, env, command);
                lines.AddRange(line);
                if (exitCode is { } code)
                {
                    exitCodes.Add(code);
                }
            }
            var expectedExit = ExpectedExitCode(step.Output);
            Assert.All(exitCodes, code => Assert.True(code == expectedExit,
                $"`{string.Join(" && ", step.Commands)}` exited {code}, the walkthrough expects {expectedExit}:\n{string.Join('\n', lines)}"));
            Match(step, lines);
        }

        public async Task StopServerAsync()
        {
            if (_server is not { } server)
            {
                return;
            }
            _server = null;
            if (!server.HasExited)
            {
                // Ctrl+C, as the reader does.
                using var interrupt = Process.Start("kill", ["-INT", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                await interrupt.WaitForExitAsync();
                using var limit = new CancellationTokenSource(Wait.Limit);
                try
                {
                    await server.WaitForExitAsync(limit.Token);
                }
                catch (OperationCanceledException)
                {
                    server.Kill(entireProcessTree: true);
                }
            }
            server.Dispose();
        }

        private async Task<(IReadOnlyList<string> Lines, int? ExitCode)> RunAsync(string terminal, Dictionary<string, string> env, string command)
        {
            var text = command;
            var echoExit = text.EndsWith("; echo \"exit code $?\"", StringComparison.Ordinal);
            if (echoExit)
            {
                text = text[..text.IndexOf("; echo", StringComparison.Ordinal)];
            }
            string? stdin = null;
            if (PipedEcho().Match(text) is { Success: true } piped)
            {
                stdin = Words(piped.Groups[1].Value).Single() + "\n";
                text = piped.Groups[2].Value;
            }
            text = Substitute(text);
            if (text.StartsWith("export ", StringComparison.Ordinal))
            {
                var (name, value) = (text[7..text.IndexOf('=', StringComparison.Ordinal)], text[(text.IndexOf('=', StringComparison.Ordinal) + 1)..]);
                if (name != "PATH")
                {
                    env[name] = Words(value).Single();
                }
                return ([], null);
            }
            if (text.StartsWith("dotnet build ", StringComparison.Ordinal))
            {
                return ([], null); // built already: the test runs the same parley.dll
            }
            var words = Words(text);
            Assert.True(words[0] == "parley", $"The walkthrough runs `{command}`, which this test cannot follow.");
            if (words[1] == "server")
            {
                Assert.True(terminal.StartsWith("terminal 1", StringComparison.Ordinal), "The server runs in terminal 1.");
                await StartServerAsync(env, words[1..]);
                return ([], null);
            }
            using var process = Cli.Start(env, words[1..]);
            await using var stop = new ProcessKiller(process);
            if (stdin is not null)
            {
                await process.StandardInput.WriteAsync(stdin);
            }
            var result = await Cli.FinishAsync(process);
            var lines = result.Lines.Concat(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
            if (echoExit)
            {
                lines.Add($"exit code {result.ExitCode}");
                return (lines, null);
            }
            return (lines, result.ExitCode);
        }

        private async Task StartServerAsync(Dictionary<string, string> env, string[] args)
        {
            Assert.Null(_server);
            var server = Cli.Start(env, args);
            server.OutputDataReceived += (_, _) => { };
            server.ErrorDataReceived += (_, _) => { };
            server.BeginOutputReadLine();
            server.BeginErrorReadLine();
            _server = server;
            ServerStarts++;
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            await Wait.UntilAsync(() =>
            {
                Assert.False(server.HasExited, "parley server exited");
                try
                {
                    return http.GetAsync(new Uri(url + "/v1/health")).GetAwaiter().GetResult().IsSuccessStatusCode;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    return false;
                }
            }, "the server to answer /v1/health");
        }

        /// <summary>The doc's port, folder and (once seen) ids, turned into this run's.</summary>
        private string Substitute(string text)
        {
            text = text.Replace(DocUrl, url, StringComparison.Ordinal).Replace(DocRoot, root, StringComparison.Ordinal);
            return Id().Replace(text, m => _ids.TryGetValue(m.Value, out var actual) ? actual : m.Value);
        }

        /// <summary>
        /// Every line of the output block must come out, as often as shown (so a message shown once is
        /// printed once); lines differ only in ids, dates, clock times and digits. Binds the doc's ids to the
        /// real ones on the way, so later commands use them, and checks ids seen before.
        /// </summary>
        private void Match(WalkthroughStep step, IReadOnlyList<string> actualLines)
        {
            var actual = actualLines.Select(l => l.Replace(url, DocUrl, StringComparison.Ordinal).Replace(root, DocRoot, StringComparison.Ordinal)).ToList();
            var expected = step.Output.Where(l => l.Trim().Length > 0).Select(l => l.Trim()).ToList();
            foreach (var group in expected.GroupBy(Normalize))
            {
                var found = actual.Where(a => Normalize(a) == group.Key).ToList();
                Assert.True(found.Count == group.Count(),
                    $"After `{string.Join(" && ", step.Commands)}` the walkthrough shows {group.Count()} line(s) like\n  {group.First()}\nbut it printed {found.Count}:\n{string.Join('\n', actual)}");
                foreach (var (doc, real) in group.Zip(found))
                {
                    foreach (var (docId, realId) in Id().Matches(doc).Select(m => m.Value).Zip(Id().Matches(real).Select(m => m.Value)))
                    {
                        if (_ids.TryGetValue(docId, out var bound))
                        {
                            Assert.True(bound == realId, $"The walkthrough shows {docId} again, but the product printed {realId}, not {bound}: `{real}`");
                        }
                        else
                        {
                            _ids[docId] = realId;
                        }
                    }
                }
            }
        }

        private static int ExpectedExitCode(IReadOnlyList<string> output) =>
            output.Select(l => ExitCodeField().Match(l)).FirstOrDefault(m => m.Success) is { } m ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;

        private static string Normalize(string line)
        {
            line = Id().Replace(line.Trim(), "<id>");
            line = IsoTime().Replace(line, "<time>");
            line = Date().Replace(line, "<date>");
            line = SafetyDigits().Replace(line, "<digits>");
            return ClockTime().Replace(line, "<hh:mm>");
        }

        /// <summary>Splits a command line into words as sh does for plain and quoted words (no expansions).</summary>
        private static string[] Words(string text)
        {
            var words = new List<string>();
            foreach (Match m in Word().Matches(text))
            {
                words.Add(m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Value);
            }
            return [.. words];
        }

        [GeneratedRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
        private static partial Regex Id();

        [GeneratedRegex(@"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")]
        private static partial Regex IsoTime();

        [GeneratedRegex(@"\b\d{4}-\d{2}-\d{2}\b")]
        private static partial Regex Date();

        [GeneratedRegex(@"\b\d{2}:\d{2}\b")]
        private static partial Regex ClockTime();

        [GeneratedRegex(@"\d{5}( \d{5}){5}")]
        private static partial Regex SafetyDigits();

        [GeneratedRegex("\"exit_code\":(\\d+)")]
        private static partial Regex ExitCodeField();

        [GeneratedRegex("^echo (.+?) \\| (parley .+)$")]
        private static partial Regex PipedEcho();

        [GeneratedRegex("\"([^\"]*)\"|'([^']*)'|(\\S+)")]
        private static partial Regex Word();
    }
}
