using System.Globalization;

namespace Parley.Bench;

/// <summary>The command line of one bench run.</summary>
internal sealed class BenchOptions
{
    public required string Scenario { get; init; }

    /// <summary>Measured seconds (after warm-up).</summary>
    public double? Duration { get; init; }

    public double? Warmup { get; init; }

    /// <summary>One-to-one: seconds of idle baseline (connected, nothing sent) before the load; 0 skips it.</summary>
    public double? Idle { get; init; }

    /// <summary>One-to-one: each user sends only to this many fixed peers (null: anyone).</summary>
    public int? Peers { get; init; }

    public int? Users { get; init; }

    /// <summary>Target total send rate in messages/s; null means flat out.</summary>
    public double? Rate { get; init; }

    public int? Conns { get; init; }

    /// <summary>An already running server; null starts one here.</summary>
    public Uri? Server { get; init; }

    /// <summary>The pid of <see cref="Server"/>, for its CPU and RSS figures.</summary>
    public int? ServerPid { get; init; }

    public int? Messages { get; init; }

    /// <summary>Sends in flight per connection (flat out), or per connection cap (with --rate).</summary>
    public int? Window { get; init; }

    /// <summary>One-to-one: event-loop threads driving the devices.</summary>
    public int? Loops { get; init; }

    /// <summary>One-to-one: give every Ack a request id so the server answers it with an AckResult (default: fire-and-forget).</summary>
    public bool AckRequests { get; init; }

    /// <summary>
    /// One-to-one and group-fanout: hold the acks of receipt envelopes until a pass writes a message
    /// ack or a send anyway (or 1 s passed, or 64 are held), as the SDK does; false acks every
    /// envelope in the next pass.
    /// </summary>
    public bool LazyReceiptAcks { get; init; } = true;

    /// <summary>Lazy receipt acks: the longest one is held, in ms (default 1000, the SDK's ReceiptAckDelay).</summary>
    public long ReceiptAckDelayMs { get; init; } = 1000;

    /// <summary>The server started here speaks TLS (https://, a self-signed certificate); the clients reach it through a relay in this process.</summary>
    public bool Tls { get; init; }

    /// <summary>A command run over each measured window (see <see cref="Diagnostics.ProfileWindow"/>); null: none.</summary>
    public string? ProfileWindow { get; init; }

    /// <summary>Extra server configuration, KEY=VALUE, passed as --KEY=VALUE to a server started here.</summary>
    public IReadOnlyList<string> ServerSettings { get; init; } = [];

    /// <summary>The rest of the arguments, for the hidden worker verb.</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = new Dictionary<string, string>();

    public const string Usage =
        "usage: dotnet run -c Release --project bench/Parley.Bench -- SCENARIO [options]\n" +
        "scenarios: one-to-one | idle | connections | offline-drain | media | group-fanout\n" +
        "options: --duration SECONDS  --warmup SECONDS  --users N  --rate MSGS_PER_S  --window N\n" +
        "         --conns N  --messages K  --server URL [--server-pid PID]  --set Parley:Section:Key=VALUE\n" +
        "         --acks fire-and-forget|requests  --receipt-acks lazy|eager (lazy: receipt acks ride with the next ack or send, as the SDK's)\n" +
        "         --receipt-ack-delay MS (lazy: the longest a receipt ack is held; 1000)\n" +
        "         --tls 1 (the server started here speaks TLS; clients go through a relay in this process)\n" +
        "         --profile-window CMD (run over each measured window with PARLEY_SERVER_PID, PARLEY_WINDOW; stopped by SIGINT)\n" +
        "one-to-one: --idle SECONDS (3: idle baseline before the load)  --peers K (each user sends to K fixed peers)\n" +
        "media:   --files N  --size-mib S  --concurrent K\n" +
        "group-fanout: --groups G (4)  --members M (1024)  --senders S per group (8)  --rate GROUP_MSGS_PER_S  --window N  --loops L";

    /// <summary>Parses the arguments; throws <see cref="ArgumentException"/> with a message for the user.</summary>
    public static BenchOptions Parse(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith('-'))
        {
            throw new ArgumentException(Usage);
        }
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var settings = new List<string>();
        for (int i = 1; i < args.Length; i++)
        {
            var name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"expected --name value at '{name}'\n{Usage}");
            }
            var value = args[++i];
            if (name == "--set")
            {
                settings.Add(value);
            }
            else
            {
                values[name[2..]] = value;
            }
        }

        var known = new HashSet<string>(StringComparer.Ordinal)
        {
            "duration", "warmup", "users", "rate", "conns", "server", "server-pid", "messages", "window", "loops", "acks", "receipt-acks", "receipt-ack-delay", "idle", "peers", "profile-window", "tls",
        };
        return new BenchOptions
        {
            Scenario = args[0],
            Duration = Number(values, "duration"),
            Warmup = Number(values, "warmup"),
            Idle = Number(values, "idle"),
            Peers = Integer(values, "peers"),
            Users = Integer(values, "users"),
            Rate = Number(values, "rate"),
            Conns = Integer(values, "conns"),
            Server = values.TryGetValue("server", out var url) ? new Uri(url.EndsWith('/') ? url : url + "/") : null,
            ServerPid = Integer(values, "server-pid"),
            Messages = Integer(values, "messages"),
            Window = Integer(values, "window"),
            Loops = Integer(values, "loops"),
            AckRequests = values.GetValueOrDefault("acks", "fire-and-forget") switch
            {
                "fire-and-forget" => false,
                "requests" => true,
                var other => throw new ArgumentException($"--acks: fire-and-forget or requests, not {other}"),
            },
            LazyReceiptAcks = values.GetValueOrDefault("receipt-acks", "lazy") switch
            {
                "lazy" => true,
                "eager" => false,
                var other => throw new ArgumentException($"--receipt-acks: lazy or eager, not {other}"),
            },
            ReceiptAckDelayMs = Integer(values, "receipt-ack-delay") is int delay ? Math.Max(1, delay) : 1000,
            ProfileWindow = values.GetValueOrDefault("profile-window"),
            Tls = values.GetValueOrDefault("tls", "0") switch
            {
                "0" => false,
                "1" => true,
                var other => throw new ArgumentException($"--tls: 0 or 1, not {other}"),
            },
            ServerSettings = settings,
            Extra = values.Where(kv => !known.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value),
        };
    }

    private static double? Number(Dictionary<string, string> values, string name) =>
        values.TryGetValue(name, out var v)
            ? double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= 0 ? d : throw new ArgumentException($"--{name}: not a number: {v}")
            : null;

    private static int? Integer(Dictionary<string, string> values, string name) =>
        values.TryGetValue(name, out var v)
            ? int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n : throw new ArgumentException($"--{name}: not a whole number: {v}")
            : null;
}
