using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Parley.Client;
using Xunit.Abstractions;

namespace Parley.EndToEnd.Tests;

/// <summary>Runs alone: it holds 19,000 sockets, close to the 20,000 descriptors a process may open.</summary>
[CollectionDefinition(nameof(LockOutTests), DisableParallelization = true)]
public sealed class LockOutCollection;

[Collection(nameof(LockOutTests))]
public sealed class LockOutTests(ITestOutputHelper output)
{
    private const int SilentSockets = 19_000;
    private const string AdminToken = "lockout-test-admin-token";

    [Fact]
    public async Task Silent_sockets_from_one_address_do_not_lock_out_clients_from_another()
    {
        var root = Path.Combine(Path.GetTempPath(), "parley-lockout-" + Guid.NewGuid().ToString("N"));
        var silent = new List<Socket>(SilentSockets);
        try
        {
            // The server in its own process (its descriptors apart from the test's), with a short
            // upgrade deadline so the test sees the silent sockets go.
            await using var server = await ServerProcess.StartAsync(Path.Combine(root, "data"),
                "--Parley:Limits:UpgradeTimeoutSeconds=2", "--Parley:Limits:HelloTimeoutSeconds=2", "--Parley:AdminToken=" + AdminToken);
            using var http = new HttpClient { BaseAddress = server.BaseUri };
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);

            // The attacker: 19,000 sockets from 127.0.0.2 that connect and never send a byte,
            // opened while a client from 127.0.0.1 registers, connects and sends.
            var attacker = new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0);
            var target = new IPEndPoint(IPAddress.Loopback, server.Port);
            var attack = Task.Run(async () =>
            {
                for (int opened = 0; opened < SilentSockets; opened += 500)
                {
                    var batch = Enumerable.Range(0, Math.Min(500, SilentSockets - opened)).Select(_ => OpenSilentAsync(attacker, target)).ToList();
                    var connected = (await Task.WhenAll(batch)).OfType<Socket>();
                    lock (silent)
                    {
                        silent.AddRange(connected);
                    }
                }
            });
            await UntilAsync(async () => (await MetricsAsync(http))["parley_sockets_unauthenticated_refused_total"] > 1000,
                "the attack under way: the per-address cap refusing sockets");

            var clock = Stopwatch.StartNew();
            await using var alice = await ParleyClient.RegisterAsync(Path.Combine(root, "alice"), server.BaseUri, "alice", options: Wait.Options());
            await using var bob = await ParleyClient.RegisterAsync(Path.Combine(root, "bob"), server.BaseUri, "bob", options: Wait.Options());
            var registered = clock.ElapsedMilliseconds;
            var inbox = new Inbox(bob);
            await bob.ConnectAsync(Wait.Token());
            var id = await alice.SendTextAsync("bob", "still here", Wait.Token());
            await Wait.UntilAsync(() => inbox.Messages.Count == 1, "bob receives alice's message");
            output.WriteLine($"during the attack: two registrations (with key generation) {registered} ms, then connect, send and delivery {clock.ElapsedMilliseconds - registered} ms");
            Assert.Equal([(id, "still here")], inbox.Messages.Select(m => (m.Id, m.Text)));
            await attack;
            output.WriteLine($"{silent.Count} of {SilentSockets} silent sockets still open when their connect returned");

            // Beyond the per-address cap (64) the server drops them as it accepts them; the ones it
            // took are dropped at the upgrade deadline (making room for more of them meanwhile).
            await UntilAsync(async () =>
            {
                var m = await MetricsAsync(http);
                return m["parley_sockets_unauthenticated_refused_total"] + m["parley_sockets_handshake_timeouts_total"] == SilentSockets;
            }, "every silent socket refused at accept or dropped at its deadline");

            // The silent sockets the server took are dropped at the upgrade deadline: the server
            // counts none left (but the connection of the metrics request itself), and every one
            // of them is closed on the attacker's side too.
            await UntilAsync(async () => (await MetricsAsync(http))["parley_sockets_unauthenticated"] == 1,
                "no socket without Hello left on the server");
            await Wait.UntilAsync(() => silent.All(IsClosedByPeer), "every silent socket closed by the server");
        }
        finally
        {
            lock (silent)
            {
                foreach (var socket in silent)
                {
                    socket.Dispose();
                }
            }
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Wait.Limit;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for: {what}");
            await Task.Delay(100);
        }
    }

    // A connected socket that will never send; null when the server dropped it before connect returned.
    private static async Task<Socket?> OpenSilentAsync(IPEndPoint from, IPEndPoint to)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(from);
            await socket.ConnectAsync(to);
            return socket;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionRefused)
        {
            socket.Dispose();
            return null;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    // Readable with nothing to read, or reset: the server has closed its side.
    private static bool IsClosedByPeer(Socket socket)
    {
        try
        {
            return socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    /// <summary>The admin-only Prometheus scrape as series name → value (series without labels only).</summary>
    private static async Task<Dictionary<string, double>> MetricsAsync(HttpClient http)
    {
        using var response = await http.GetAsync(new Uri("/v1/metrics", UriKind.Relative));
        response.EnsureSuccessStatusCode();
        var series = new Dictionary<string, double>();
        foreach (var line in (await response.Content.ReadAsStringAsync()).Split('\n'))
        {
            var parts = line.Split(' ');
            var name = parts[0].EndsWith("{}", StringComparison.Ordinal) ? parts[0][..^2] : parts[0]; // the exporter writes empty label sets
            if (parts.Length >= 2 && !line.StartsWith('#') && !name.Contains('{', StringComparison.Ordinal))
            {
                series[name] = double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return series;
    }
}
