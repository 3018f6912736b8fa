using System.Text;
using System.Threading.Channels;
using Parley.Client;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary>
/// The chat view. Interactive: redraws the whole screen on every change (messages with ticks
/// updating in place, presence, "is typing…", the input line) from one UI loop fed by a channel,
/// so client events and key presses never race. Line mode (redirected or --json): prints events
/// as lines and sends each input line.
/// </summary>
internal sealed class ChatScreen
{
    /// <summary>How long a peer's "typing" shows without a fresh update (the peer may have left without saying).</summary>
    private static readonly TimeSpan TypingShownFor = TimeSpan.FromSeconds(6);

    /// <summary>How often our own "typing" is repeated while keys keep coming, and how long idle before "stopped".</summary>
    private static readonly TimeSpan TypingRepeat = TimeSpan.FromSeconds(4);

    private readonly ParleyClient _client;
    private readonly string _peer;
    private readonly CliOutput _output;
    private readonly Channel<Input> _inputs = Channel.CreateUnbounded<Input>();
    private readonly StringBuilder _line = new();
    private readonly HashSet<string> _printed = new(StringComparer.Ordinal);
    // Line mode: messages raised while the chat syncs, printed after the history (so the first line
    // printed means synced); null once the history is out. Guarded by _printed.
    private List<StoredMessage>? _early = [];
    private readonly string? _group;
    private DateTimeOffset? _peerTypingAt;
    private string _typingUser = "";
    private bool _peerOnline;
    private DateTimeOffset? _peerLastSeen;
    private DateTimeOffset? _typingSentAt;
    private DateTimeOffset _lastKeyAt;
    private string? _notice;
    private int _marking;
    private int _markAgain;
    private Task _markTask = Task.CompletedTask;

    /// <summary>A chat with <paramref name="peer"/>, or with the group <paramref name="groupId"/> (then peer is its conversation, <c>#</c> and the id).</summary>
    public ChatScreen(ParleyClient client, string peer, CliOutput output, string? groupId = null)
    {
        _client = client;
        _peer = peer;
        _output = output;
        _group = groupId;
    }

    private string Title => _group is null ? _peer : TypedGroup.Name(_client, _peer);

    private string Queue(string text) => _group is null ? _client.QueueText(_peer, text) : _client.QueueGroupText(_group, text);

    private Task SetTypingAsync(bool typing, CancellationToken cancellationToken) =>
        _group is null ? _client.SetTypingAsync(_peer, typing, cancellationToken) : _client.SetGroupTypingAsync(_group, typing, cancellationToken);

    private enum InputKind
    {
        Key,
        Refresh,
        Tick,
        Line,
        End,
    }

    private readonly record struct Input(InputKind Kind, ConsoleKeyInfo Key = default, string? Text = null);

    public async Task<int> RunInteractiveAsync(CancellationToken cancellationToken)
    {
        Subscribe(refreshOnly: true);
        if (_group is null)
        {
            var snapshot = await _client.SubscribePresenceAsync([_peer], cancellationToken);
            ApplyPresence(snapshot.FirstOrDefault(p => p.User == _peer));
        }
        await _client.SyncAsync(cancellationToken);
        MarkShownRead(cancellationToken);

        Console.TreatControlCAsInput = true;
        _ = Task.Run(() =>
        {
            while (true)
            {
                _inputs.Writer.TryWrite(new Input(InputKind.Key, Console.ReadKey(intercept: true)));
            }
        }, CancellationToken.None);
        using var ticker = new Timer(_ => _inputs.Writer.TryWrite(new Input(InputKind.Tick)), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        try
        {
            Draw();
            await foreach (var input in _inputs.Reader.ReadAllAsync(cancellationToken))
            {
                if (input.Kind == InputKind.Key && !OnKey(input.Key, cancellationToken))
                {
                    break;
                }
                if (input.Kind == InputKind.Refresh)
                {
                    MarkShownRead(cancellationToken);
                }
                if (input.Kind == InputKind.Tick)
                {
                    OnTick(cancellationToken);
                }
                Draw();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            Console.TreatControlCAsInput = false;
            Console.Out.Write("\n");
        }
        if (_typingSentAt is not null && _client.State == ConnectionState.Connected)
        {
            // Quitting is never held up by the network: a second at most, then the peer's screen times it out.
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await Quietly(() => SetTypingAsync(false, bounded.Token));
        }
        return ExitCodes.Ok;
    }

    public async Task<int> RunLinesAsync(CancellationToken cancellationToken)
    {
        Subscribe(refreshOnly: false);
        await _client.SyncAsync(cancellationToken);
        lock (_printed)
        {
            foreach (var m in _client.GetConversation(_peer, 20).Concat(_early!))
            {
                PrintMessage(m);
            }
            _early = null;
        }
        _client.TakeUnshownMessages(_peer);
        MarkShownRead(cancellationToken);
        var sends = new List<Task>();
        _ = Task.Run(async () =>
        {
            while (await Console.In.ReadLineAsync(cancellationToken) is { } line)
            {
                _inputs.Writer.TryWrite(new Input(InputKind.Line, Text: line));
            }
            _inputs.Writer.TryWrite(new Input(InputKind.End));
        }, CancellationToken.None);
        await foreach (var input in _inputs.Reader.ReadAllAsync(cancellationToken))
        {
            if (input.Kind == InputKind.End)
            {
                break;
            }
            if (input.Kind == InputKind.Refresh)
            {
                MarkShownRead(cancellationToken);
            }
            if (input.Kind == InputKind.Line && !string.IsNullOrWhiteSpace(input.Text))
            {
                string id;
                try
                {
                    id = Queue(input.Text);
                }
                catch (ArgumentException e)
                {
                    _output.Error(ExitCodes.Usage, CliContext.ForPeople(e), "usage");
                    continue;
                }
                _output.Result(new { @event = "queued", id, status = "pending" }, $"[grey]{CliContext.Pending} {id}[/]");
                sends.Add(ReportSentAsync(id, cancellationToken));
            }
        }
        // Input is over: stay until what was typed has left (Ctrl+C leaves it queued for the next run).
        await Task.WhenAll(sends);
        await Volatile.Read(ref _markTask);
        return ExitCodes.Ok;
    }

    private async Task ReportSentAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            await _client.WaitUntilSentAsync(id, cancellationToken);
            _output.Result(new { @event = "sent", id, status = "sent" }, $"[grey]✓ sent {id}[/]");
        }
        catch (ParleyException e)
        {
            _output.Result(new { @event = "failed", id, status = "failed", error = e.Message }, $"[red]✗ not sent {id}: {Markup.Escape(e.Message)}[/]");
        }
    }

    private void Subscribe(bool refreshOnly)
    {
        _client.MessageReceived += (_, e) =>
        {
            if (e.Message.Peer != _peer)
            {
                return;
            }
            if (!refreshOnly)
            {
                lock (_printed)
                {
                    if (_early is { } early)
                    {
                        early.Add(e.Message);
                    }
                    else
                    {
                        PrintMessage(e.Message);
                    }
                }
                _client.TakeUnshownMessages(_peer);
            }
            SaveFileInBackground(e.Message, lineMode: !refreshOnly);
            _inputs.Writer.TryWrite(new Input(InputKind.Refresh));
        };
        _client.MessageStatusChanged += (_, e) =>
        {
            if (e.Peer != _peer)
            {
                return;
            }
            if (!refreshOnly)
            {
                _output.Result(new { @event = "status", id = e.MessageId, status = CliContext.StatusName(e.Status) },
                    $"[grey]{e.MessageId} is {CliContext.StatusName(e.Status)}[/]");
            }
            _inputs.Writer.TryWrite(new Input(InputKind.Refresh));
        };
        _client.TypingChanged += (_, e) =>
        {
            if (_group is null ? e.User != _peer || e.GroupId is not null : e.GroupId != _group)
            {
                return;
            }
            _typingUser = e.User;
            _peerTypingAt = e.Typing ? DateTimeOffset.UtcNow : null;
            if (!refreshOnly)
            {
                _output.Result(new { @event = "typing", user = e.User, typing = e.Typing }, $"[grey]{Markup.Escape(e.User)} {(e.Typing ? "is typing…" : "stopped typing")}[/]");
            }
            _inputs.Writer.TryWrite(new Input(InputKind.Refresh));
        };
        _client.PresenceChanged += (_, e) =>
        {
            if (e.User == _peer)
            {
                ApplyPresence(e);
                _inputs.Writer.TryWrite(new Input(InputKind.Refresh));
            }
        };
        _client.ConnectionStateChanged += (_, _) => _inputs.Writer.TryWrite(new Input(InputKind.Refresh));
        _client.IdentityChanged += (_, e) =>
        {
            if (e.Peer == _peer)
            {
                WarnIdentityChanged(e.Warning, refreshOnly);
            }
        };
        _client.AccountDeviceChanged += (_, e) =>
        {
            var notice = TerminalText.Printable(e.Notice);
            if (!refreshOnly)
            {
                _output.Result(new { @event = e.Change == Client.Devices.DeviceChange.Linked ? "device_linked" : "device_removed", device_id = e.DeviceId, name = e.Name },
                    $"[yellow]{Markup.Escape(notice)}[/]");
            }
            _notice = notice;
            _inputs.Writer.TryWrite(new Input(InputKind.Refresh));
        };
        if (_group is null && _client.HasUnacceptedIdentityChange(_peer))
        {
            // The change was seen earlier (another command, an earlier chat) and not yet accepted or verified.
            WarnIdentityChanged($"safety number with {_peer} changed", refreshOnly);
        }
    }

    /// <summary>Downloads a received file into the profile's media folder, then shows its path (a line, or on the next redraw).</summary>
    private void SaveFileInBackground(StoredMessage m, bool lineMode)
    {
        if (m.Direction != MessageDirection.Incoming || _client.FindAttachment(m.Id) is not { SavedPath: null })
        {
            return;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                var path = await _client.DownloadAttachmentAsync(m.Id);
                if (lineMode)
                {
                    _output.Result(new { @event = "saved", id = m.Id, path }, $"[grey]saved {Markup.Escape(path)}[/]");
                }
            }
            catch (Exception e) when (e is ParleyException or IOException or HttpRequestException)
            {
                _notice = $"file not saved: {e.Message}";
            }
            _inputs.Writer.TryWrite(new Input(InputKind.Refresh));
        });
    }

    /// <summary>Shows the identity-change warning: an event line in line mode, the notice line on screen.</summary>
    private void WarnIdentityChanged(string warning, bool refreshOnly)
    {
        if (!refreshOnly)
        {
            _output.Result(new { @event = "identity_changed", peer = _peer, warning },
                $"[yellow]⚠ {Markup.Escape(warning)}[/] [grey](compare with `parley safety-number {Markup.Escape(_peer)}`, then `parley verify {Markup.Escape(_peer)}`)[/]");
        }
        _notice = "⚠ " + warning;
        _inputs.Writer.TryWrite(new Input(InputKind.Refresh));
    }

    private void ApplyPresence(Client.Events.PresenceChangedEventArgs? presence)
    {
        if (presence is null)
        {
            return;
        }
        _peerOnline = presence.Online;
        _peerLastSeen = presence.LastSeen;
        if (!presence.Online)
        {
            _peerTypingAt = null;
        }
    }

    /// <summary>Prints a message line once: the history and the live event of the same message may both offer it.</summary>
    private void PrintMessage(StoredMessage m)
    {
        lock (_printed)
        {
            if (!_printed.Add(m.Id))
            {
                return;
            }
            _output.Result(
                new { @event = "message", id = m.Id, from = m.Sender, text = TransferDisplay.Describe(_client, m), sent_at = CliOutput.Time(m.SentAt), status = CliContext.StatusName(m.Status) },
                $"[grey]{m.SentAt.ToLocalTime():HH:mm}[/] [bold]{Markup.Escape(m.Sender)}[/]: {Markup.Escape(TerminalText.Printable(TransferDisplay.Describe(_client, m)))}");
        }
    }

    /// <summary>
    /// Sends READ for what is shown in the background, one run at a time (a request made meanwhile
    /// runs once more after it): the screen, the input and Esc never wait on the network, and a
    /// READ that waits for the connection to come back holds up nothing.
    /// </summary>
    private void MarkShownRead(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _markAgain, 1);
        if (Interlocked.Exchange(ref _marking, 1) != 0)
        {
            return;
        }
        Volatile.Write(ref _markTask, Task.Run(async () =>
        {
            while (Interlocked.Exchange(ref _markAgain, 0) == 1)
            {
                await MarkShownReadAsync(cancellationToken);
            }
            Volatile.Write(ref _marking, 0);
            if (Volatile.Read(ref _markAgain) == 1)
            {
                // Asked again between the last run and the release: take it on.
                MarkShownRead(cancellationToken);
            }
        }, CancellationToken.None));
    }

    /// <summary>An open chat shows the peer's messages, so they count as read: send READ for the ones not yet read.</summary>
    private async Task MarkShownReadAsync(CancellationToken cancellationToken)
    {
        var unread = _client.GetConversation(_peer, 200)
            .Where(m => m.Direction == MessageDirection.Incoming && m.Status != MessageStatus.Read)
            .Select(m => m.Id)
            .ToList();
        if (unread.Count > 0 && _client.State == ConnectionState.Connected)
        {
            await Quietly(() => _group is null ? _client.MarkReadAsync(_peer, unread, cancellationToken) : _client.MarkGroupReadAsync(_group, unread, cancellationToken));
        }
    }

    private bool OnKey(ConsoleKeyInfo key, CancellationToken cancellationToken)
    {
        var ctrl = key.Modifiers.HasFlag(ConsoleModifiers.Control);
        if (key.Key == ConsoleKey.Escape || (ctrl && key.Key is ConsoleKey.C or ConsoleKey.D))
        {
            return false;
        }
        if (key.Key == ConsoleKey.Enter)
        {
            var text = _line.ToString().Trim();
            _line.Clear();
            if (text == "/quit")
            {
                return false;
            }
            if (text.Length > 0)
            {
                try
                {
                    // In the outbox and on screen with a clock at once, connected or not; the
                    // client sends it when it can and the ticks move on their own.
                    Queue(text);
                }
                catch (ArgumentException e)
                {
                    _notice = CliContext.ForPeople(e);
                }
            }
            if (_typingSentAt is not null)
            {
                _typingSentAt = null;
                SendTyping(false, cancellationToken);
            }
            return true;
        }
        if (key.Key == ConsoleKey.Backspace)
        {
            if (_line.Length > 0)
            {
                _line.Length--;
            }
        }
        else if (!char.IsControl(key.KeyChar))
        {
            _line.Append(key.KeyChar);
        }
        else
        {
            return true;
        }
        _lastKeyAt = DateTimeOffset.UtcNow;
        if (_line.Length > 0 && (_typingSentAt is null || _lastKeyAt - _typingSentAt > TypingRepeat))
        {
            _typingSentAt = _lastKeyAt;
            SendTyping(true, cancellationToken);
        }
        return true;
    }

    /// <summary>
    /// Typing is ephemeral: sent only while connected and never awaited, so a dead link cannot hold
    /// up the keyboard (a request waits for a connection, and the UI loop must not).
    /// </summary>
    private void SendTyping(bool typing, CancellationToken cancellationToken)
    {
        if (_client.State == ConnectionState.Connected)
        {
            _ = Quietly(() => SetTypingAsync(typing, cancellationToken));
        }
    }

    private void OnTick(CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        if (_peerTypingAt is { } at && now - at > TypingShownFor)
        {
            _peerTypingAt = null;
        }
        if (_typingSentAt is not null && now - _lastKeyAt > TypingRepeat)
        {
            _typingSentAt = null;
            SendTyping(false, cancellationToken);
        }
    }

    private async Task Quietly(Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (Exception e) when (e is ParleyException or OperationCanceledException or InvalidOperationException)
        {
            _notice = e.Message;
            _inputs.Writer.TryWrite(new Input(InputKind.Refresh));
        }
    }

    private void Draw()
    {
        var height = Math.Max(Console.WindowHeight, 8);
        var width = Math.Max(Console.WindowWidth, 20);
        var me = _client.Credentials.User;
        var lines = new List<string>();
        var presence = _group is not null
            ? $"[grey]{_client.FindGroup(_group)?.Members.Count ?? 0} members[/]"
            : _peerOnline
            ? "[green]● online[/]"
            : _peerLastSeen is { } seen ? $"[grey]○ last seen {seen.ToLocalTime():HH:mm}[/]" : "[grey]○ offline[/]";
        var link = _client.State switch
        {
            ConnectionState.Connected => "",
            ConnectionState.Connecting => " [yellow]connecting…[/]",
            _ => " [red](disconnected, retrying)[/]",
        };
        lines.Add($"[bold]{Markup.Escape(Title)}[/] {presence}{link} [grey](you are {Markup.Escape(me)}; Esc quits)[/]");
        lines.Add($"[grey]{new string('─', width - 1)}[/]");
        var room = height - 5;
        var messages = _client.GetConversation(_peer, room);
        _client.TakeUnshownMessages(_peer); // on screen now: `parley receive` need not print them again
        for (var i = messages.Count; i < room; i++)
        {
            lines.Add("");
        }
        foreach (var m in messages)
        {
            var who = m.Direction == MessageDirection.Outgoing ? $"[bold cyan]{Markup.Escape(me)}[/]" : $"[bold]{Markup.Escape(m.Sender)}[/]";
            var ticks = m.Direction == MessageDirection.Incoming ? "" : " " + Ticks(m.Status);
            var text = TerminalText.Printable(TransferDisplay.Describe(_client, m));
            var budget = width - m.Sender.Length - 14;
            if (text.Length > budget && budget > 1)
            {
                text = text[..(budget - 1)] + "…";
            }
            lines.Add($"[grey]{m.SentAt.ToLocalTime():HH:mm}[/] {who}: {Markup.Escape(text)}{ticks}");
        }
        lines.Add(_peerTypingAt is not null ? $"[italic grey]{Markup.Escape(_typingUser)} is typing…[/]" : _notice is { } n ? $"[red]{Markup.Escape(n)}[/]" : "");
        lines.Add($"[grey]{new string('─', width - 1)}[/]");
        var input = _line.ToString();
        if (input.Length > width - 3)
        {
            input = input[^(width - 3)..];
        }

        // Home, then overwrite every line and clear what is left of it: no full-screen clear, so no flicker.
        var console = Console.Out;
        console.Write("\x1b[H");
        foreach (var line in lines)
        {
            AnsiConsole.Markup(line);
            console.Write("\x1b[K\n");
        }
        AnsiConsole.Markup("[bold]>[/] " + Markup.Escape(input));
        console.Write("\x1b[K\x1b[J");
        console.Flush();
    }

    private static string Ticks(MessageStatus status) => status switch
    {
        MessageStatus.Pending => CliContext.Pending,
        MessageStatus.Sent => "[grey]✓[/]",
        MessageStatus.Delivered => "[grey]✓✓[/]",
        MessageStatus.Read => "[blue]✓✓[/]",
        _ => "[red]✗ not sent[/]",
    };
}
