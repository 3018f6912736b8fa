namespace Parley.Server.Configuration;

/// <summary>Everything an operator can set, bound from the "Parley" configuration section.</summary>
public sealed class ParleyOptions
{
    /// <summary>Folder for the embedded database; created when missing.</summary>
    public string DataDir { get; set; } = "./data";

    /// <summary>Token for admin endpoints (invites); admin endpoints are off while it is empty.</summary>
    public string AdminToken { get; set; } = "";

    /// <summary>
    /// Addresses ("10.0.0.5") or ranges ("10.0.0.0/8") of reverse proxies whose X-Forwarded-For
    /// header is believed (nginx, Caddy, HAProxy in front of the server). Limits per address then
    /// see the client's address, not the proxy's. Empty (the default): the header is ignored,
    /// since any client could forge it.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>TLS certificate (PEM, or PFX) and key (PEM) paths; both empty: Kestrel's own certificate configuration, if any.</summary>
    public TlsOptions Tls { get; set; } = new();

    /// <summary>
    /// Frames WebSockets with System.Net.WebSockets (over the same connection pipes) instead of
    /// the hand-written framing. Off: it exists for the comparison in docs/performance.md.
    /// </summary>
    public bool StandardWebSockets { get; set; }

    /// <summary>
    /// Runs the code that reads a socket's bytes on the thread that received them, and a send
    /// loop's socket write on the send loop's thread (Kestrel's UnsafePreferInlineScheduling),
    /// instead of handing each to another thread-pool work item. On (the default): it saves two
    /// hand-offs per frame each way (docs/performance.md, "Cuts"). Safe here because the socket
    /// completions themselves still run on the thread pool, never on the epoll thread, and
    /// nothing on the read path blocks. Off exists for the comparison.
    /// </summary>
    public bool InlineSocketScheduling { get; set; } = true;

    /// <summary>
    /// A group commit that wakes at most this many send loops runs their passes itself, on the
    /// commit thread, right after the commit, instead of handing each to the thread pool: at
    /// everyday load (a few messages per commit) that saves a work item and the wake-up of a
    /// sleeping worker per connection served. A pass only writes frames already in memory and
    /// hands them to the socket (which never blocks); one that has to read the durable queue hops
    /// to the thread pool first. 64 covers a commit of the 10 ms interval at 1,000 msgs/s (10–16
    /// would send most of them to the thread pool) and keeps the commit thread from becoming the
    /// send thread when commits grow with load (256 measured no better at 3,000 msgs/s and
    /// doubled the tail at 10,000); 0 turns it off. On by default since the A/B on the idle VM
    /// (docs/performance.md, "Fewer wake-ups per message").
    /// </summary>
    public int InlineSendWakes { get; set; } = 64;

    /// <summary>
    /// Runs socket completions on the runtime's epoll threads (one per core) instead of handing
    /// each to the thread pool (DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1, set by the server
    /// at start unless the variable is set already; the runtime reads it once per process, so a
    /// process that hosts the server shares the setting with its own sockets): with
    /// <see cref="InlineSocketScheduling"/> a frame is then read and parsed without a work item.
    /// Whatever may block hops to the thread pool first (HTTP requests, the Hello's credential
    /// check, requests other than send, ack and ping); the server's timers never run there. On by
    /// default: 14–25% less CPU per message at 1,000 msgs/s on the idle VM (four pairs over two
    /// stops). A process that runs other code on its sockets (the test suites that host servers
    /// in-process) sets the variable to 0 first: its continuations would share those threads
    /// (docs/performance.md, "Socket completions on the epoll threads, on by default").
    /// </summary>
    public bool InlineSocketCompletions { get; set; } = true;

    public RegistrationOptions Registration { get; set; } = new();

    public LimitOptions Limits { get; set; } = new();

    public StorageOptions Storage { get; set; } = new();

    public PushOptions Push { get; set; } = new();

    public MediaOptions Media { get; set; } = new();
}
