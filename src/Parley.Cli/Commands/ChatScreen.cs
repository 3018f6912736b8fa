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
    private DateTimeOffset? _peerTypingAt;
    private bool _peerOnline;
    private DateTimeOffset? _peerLastSeen;
    private DateTimeOffset? _typingSentAt;
    private DateTimeOffset _lastKeyAt;
    private string? _notice;

    public ChatScreen(ParleyClient client, string peer, CliOutput output)
    {
        _client = client;
        _peer = peer;
        _output = output;
    }

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
        var snapshot = await _client.SubscribePresenceAsync([_peer], cancellationToken);
        ApplyPresence(snapshot.FirstOrDefault(p => p.User == _peer));
        await _client.SyncAsync(cancellationToken);
        await MarkShownReadAsync(cancellationToken);

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
                if (input.Kind == InputKind.Key && !await OnKeyAsync(input.Key, cancellationToken))
                {
                    break;
                }
                if (input.Kind == InputKind.Refresh)
                {
                    await MarkShownReadAsync(cancellationToken);
                }
                if (input.Kind == InputKind.Tick)
                {
                    await OnTickAsync(cancellationToken);
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
        await Quietly(() => _client.SetTypingAsync(_peer, false, CancellationToken.None));
        return ExitCodes.Ok;
    }

    public async Task<int> RunLinesAsync(CancellationToken cancellationToken)
    {
        Subscribe(refreshOnly: false);
        await _client.SyncAsync(cancellationToken);
        foreach (var m in _client.GetConversation(_peer, 20))
        {
            PrintMessage(m);
        }
        _client.TakeUnshownMessages(_peer);
        await MarkShownReadAsync(cancellationToken);
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
                await MarkShownReadAsync(cancellationToken);
            }
            if (input.Kind == InputKind.Line && input.Text is { Length: > 0 } text)
            {
                var id = await _client.SendTextAsync(_peer, text, cancellationToken);
                _output.Result(new { @event = "sent", id, status = "sent" }, $"[grey]✓ sent {id}[/]");
            }
        }
        return ExitCodes.Ok;
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
                PrintMessage(e.Message);
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
            if (e.User != _peer)
            {
                return;
            }
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
        if (_client.HasUnacceptedIdentityChange(_peer))
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
                $"[grey]{m.SentAt.ToLocalTime():HH:mm}[/] [bold]{Markup.Escape(m.Sender)}[/]: {Markup.Escape(TransferDisplay.Describe(_client, m))}");
        }
    }

    /// <summary>An open chat shows the peer's messages, so they count as read: send READ for the ones not yet read.</summary>
    private async Task MarkShownReadAsync(CancellationToken cancellationToken)
    {
        var unread = _client.GetConversation(_peer, 200)
            .Where(m => m.Direction == MessageDirection.Incoming && m.Status != MessageStatus.Read)
            .Select(m => m.Id)
            .ToList();
        if (unread.Count > 0)
        {
            await Quietly(() => _client.MarkReadAsync(_peer, unread, cancellationToken));
        }
    }

    private async Task<bool> OnKeyAsync(ConsoleKeyInfo key, CancellationToken cancellationToken)
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
                // The message is in the outbox (and on screen with a pending mark) before the first await.
                _ = Quietly(() => _client.SendTextAsync(_peer, text, cancellationToken));
            }
            if (_typingSentAt is not null)
            {
                _typingSentAt = null;
                _ = Quietly(() => _client.SetTypingAsync(_peer, false, cancellationToken));
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
            await Quietly(() => _client.SetTypingAsync(_peer, true, cancellationToken));
        }
        return true;
    }

    private async Task OnTickAsync(CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        if (_peerTypingAt is { } at && now - at > TypingShownFor)
        {
            _peerTypingAt = null;
        }
        if (_typingSentAt is not null && now - _lastKeyAt > TypingRepeat)
        {
            _typingSentAt = null;
            await Quietly(() => _client.SetTypingAsync(_peer, false, cancellationToken));
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
        var presence = _peerOnline
            ? "[green]● online[/]"
            : _peerLastSeen is { } seen ? $"[grey]○ last seen {seen.ToLocalTime():HH:mm}[/]" : "[grey]○ offline[/]";
        var link = _client.State switch
        {
            ConnectionState.Connected => "",
            ConnectionState.Connecting => " [yellow]connecting…[/]",
            _ => " [red](disconnected, retrying)[/]",
        };
        lines.Add($"[bold]{Markup.Escape(_peer)}[/] {presence}{link} [grey](you are {Markup.Escape(me)}; Esc quits)[/]");
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
            var text = TransferDisplay.Describe(_client, m).ReplaceLineEndings(" ");
            var budget = width - m.Sender.Length - 14;
            if (text.Length > budget && budget > 1)
            {
                text = text[..(budget - 1)] + "…";
            }
            lines.Add($"[grey]{m.SentAt.ToLocalTime():HH:mm}[/] {who}: {Markup.Escape(text)}{ticks}");
        }
        lines.Add(_peerTypingAt is not null ? $"[italic grey]{Markup.Escape(_peer)} is typing…[/]" : _notice is { } n ? $"[red]{Markup.Escape(n)}[/]" : "");
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
        MessageStatus.Pending => "[grey]…[/]",
        MessageStatus.Sent => "[grey]✓[/]",
        MessageStatus.Delivered => "[grey]✓✓[/]",
        MessageStatus.Read => "[blue]✓✓[/]",
        _ => "[red]✗ not sent[/]",
    };
}
