using System.Text.Json;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using Parley.Client;
using Parley.Client.Browser;
using Parley.Client.Events;
using Parley.Client.Groups;
using Parley.Protocol;

namespace Parley.Web.Session;

/// <summary>
/// This browser's Parley device as the UI sees it: one <see cref="ParleyClient"/> (the same SDK,
/// outbox and inbox rules as the CLI) and the chats built from its events. Every change is made on
/// the UI's synchronization context and announced by <see cref="Changed"/>.
/// </summary>
public sealed partial class ChatSession : IAsyncDisposable
{
    // The SDK has no list of conversations yet: the app keeps the peers it has seen.
    private const string PeersKey = "parley.peers";

    private readonly NavigationManager _navigation;
    private readonly IJSRuntime _js;
    private IJSObjectReference? _paintModule;
    private readonly Dictionary<string, Conversation> _chats = new(StringComparer.Ordinal);
    private SynchronizationContext? _ui;
    private IndexedDbPersistence? _persistence;
    private ParleyClient? _client;
    private DateTimeOffset _typingSentAt;
    private bool _summariesStale = true;

    // A chat opens with its newest page; each scroll to the top loads the next one. 100 rows of 48 px
    // fill a few screens, so the first screen and each page cost little whatever the chat's length.
    private const int PageSize = 100;

    /// <summary>Creates the session; <see cref="StartAsync"/> opens it.</summary>
    public ChatSession(NavigationManager navigation, IJSRuntime js)
    {
        _navigation = navigation;
        _js = js;
    }

    /// <summary>Something shown changed: re-render.</summary>
    public event Action? Changed;

    /// <summary>The whole-page screen to show.</summary>
    public AppScreen Screen { get; private set; }

    /// <summary>For an error screen: what happened, in words for people.</summary>
    public string? Problem { get; private set; }

    /// <summary>This account's user name once registered.</summary>
    public string? Me => _client?.Credentials.User;

    /// <summary>The link to the server.</summary>
    public ConnectionState Connection { get; private set; }

    /// <summary>Why the last connection attempt failed, when it did (shown as the connection's tooltip).</summary>
    public string? ConnectionProblem { get; private set; }

    /// <summary>The chats, the most recent first, with the store's last message and unread count.</summary>
    public IEnumerable<Conversation> Chats
    {
        get
        {
            RefreshSummaries();
            return _chats.Values.OrderByDescending(c => c.Last?.SentAt ?? DateTimeOffset.MaxValue).ThenBy(c => c.Peer, StringComparer.Ordinal);
        }
    }

    /// <summary>The chat shown beside (or, on a phone, instead of) the list.</summary>
    public Conversation? Open { get; private set; }

    /// <summary>Messages waiting in the outbox for a connection.</summary>
    public int PendingSends => _client?.PendingSends ?? 0;

    /// <summary>The server: the origin this app was loaded from.</summary>
    public Uri Server => new(new Uri(_navigation.BaseUri).GetLeftPart(UriPartial.Authority) + "/");

    /// <summary>Opens the stored profile and connects, or shows the welcome screen when there is none.</summary>
    public async Task StartAsync()
    {
        _ui = SynchronizationContext.Current;
        try
        {
            _persistence = await IndexedDbPersistence.OpenAsync();
            if (await ParleyClient.OpenAsync(_persistence) is not { } client)
            {
                Show(AppScreen.Welcome);
                return;
            }
            await AttachAsync(client);
        }
        catch (Exception e) when (IsStorageFailure(e))
        {
            Fail(AppScreen.StorageFull, e.Message);
        }
    }

    /// <summary>Registers <paramref name="user"/> on this server (generating the keys here) and connects.</summary>
    public async Task<string?> RegisterAsync(string user)
    {
        if (!UserName.IsValid(user))
        {
            return $"\"{user}\" is not a user name: {UserName.Rules}.";
        }
        try
        {
            var persistence = _persistence ?? throw new InvalidOperationException("The store is not open.");
            await AttachAsync(await ParleyClient.RegisterAsync(persistence, Server, user, deviceName: "browser"));
            return null;
        }
        catch (ParleyException e) when (IsStorageFailure(e))
        {
            Fail(AppScreen.StorageFull, e.Message);
            return null;
        }
        catch (ParleyException e)
        {
            return e.ApiCode == "user_taken" ? $"\"{user}\" is taken: choose another name." : e.Message;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            Fail(AppScreen.ServerUnreachable, e.Message);
            return null;
        }
        catch (Exception e) when (IsStorageFailure(e))
        {
            Fail(AppScreen.StorageFull, e.Message);
            return null;
        }
    }

    /// <summary>Opens (starting if new) the chat with <paramref name="peer"/> at its newest page; the view marks its messages read once shown.</summary>
    public async Task<string?> OpenChatAsync(string peer)
    {
        peer = peer.Trim();
        if (GroupConversation.IsGroup(peer))
        {
            return await OpenGroupAsync(peer);
        }
        if (!UserName.IsValid(peer))
        {
            return $"\"{peer}\" is not a user name: {UserName.Rules}.";
        }
        if (peer == Me)
        {
            return "Your other devices get a copy of every message: choose another user.";
        }
        var chat = Chat(peer);
        ShowChat(chat);
        await SubscribeAsync([peer]);
        return null;
    }

    /// <summary>Loads the page of messages before the first loaded one of <paramref name="chat"/>, when the store has one.</summary>
    public void LoadOlder(Conversation chat)
    {
        ArgumentNullException.ThrowIfNull(chat);
        if (_client is null || !chat.Loaded || !chat.HasOlder || chat.Messages.Count == 0)
        {
            return;
        }
        var older = _client.GetConversationBefore(chat.Peer, chat.Messages[0].Id, PageSize);
        chat.Prepend(older, hasOlder: older.Count == PageSize);
        Notify();
    }

    /// <summary>Marks the incoming messages of <paramref name="chat"/> read when it is the open chat (the view calls it once it shows the chat).</summary>
    public Task MarkReadAsync(Conversation chat) => chat == Open ? MarkOpenReadAsync() : Task.CompletedTask;

    /// <summary>
    /// Completes once the browser has painted what was rendered (at most about 100 ms later): the
    /// one thread of the app then does slow work (marking thousands of messages read) after the
    /// user sees the screen, not before it.
    /// </summary>
    public async Task AfterNextPaintAsync()
    {
        try
        {
            _paintModule ??= await _js.InvokeAsync<IJSObjectReference>("import", "./js/paint.js");
            await _paintModule.InvokeVoidAsync("afterNextPaint");
        }
        catch (JSException)
        {
            // The module could not be fetched (offline before it was ever loaded): only a yield then.
            await Task.Yield();
        }
    }

    /// <summary>Back to the list (on a phone, the list replaces the chat).</summary>
    public void CloseChat()
    {
        Open = null;
        Notify();
    }

    /// <summary>Queues <paramref name="text"/> to the open chat: shown at once with a clock, sent when connected.</summary>
    public string? Send(string text)
    {
        if (Open is null || _client is null || string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        try
        {
            var id = Open.GroupId is { } group ? _client.QueueGroupText(group, text) : _client.QueueText(Open.Peer, text);
            if (_client.FindMessage(id) is { } stored)
            {
                Open.Add(stored);
            }
            _typingSentAt = default;
            Notify();
            return null;
        }
        catch (Exception e) when (e is ArgumentException or ParleyException)
        {
            return e.Message;
        }
        catch (Exception e) when (IsStorageFailure(e))
        {
            Fail(AppScreen.StorageFull, e.Message);
            return null;
        }
    }

    /// <summary>The user typed in the open chat: tells the peer, at most every few seconds.</summary>
    public async Task TypedAsync()
    {
        var now = DateTimeOffset.UtcNow;
        if (Open is null || _client is null || Connection != ConnectionState.Connected || now - _typingSentAt < TimeSpan.FromSeconds(3))
        {
            return;
        }
        _typingSentAt = now;
        await Quietly(Open.GroupId is { } group ? _client.SetGroupTypingAsync(group, typing: true) : _client.SetTypingAsync(Open.Peer, typing: true));
    }

    /// <summary>The safety number with <paramref name="peer"/> (60 digits), fetching keys when needed.</summary>
    public async Task<string> SafetyNumberAsync(string peer) =>
        await (_client ?? throw new InvalidOperationException("Not registered.")).GetSafetyNumberAsync(peer);

    /// <summary>Marks <paramref name="peer"/>'s current identity verified.</summary>
    public async Task MarkVerifiedAsync(string peer)
    {
        await (_client ?? throw new InvalidOperationException("Not registered.")).MarkVerifiedAsync(peer);
        var chat = Chat(peer);
        chat.Verified = true;
        chat.IdentityChanged = false;
        Notify();
    }

    /// <summary>Accepts <paramref name="peer"/>'s new identity key without verifying it.</summary>
    public async Task AcceptIdentityAsync(string peer)
    {
        await (_client ?? throw new InvalidOperationException("Not registered.")).AcceptIdentityAsync(peer);
        var chat = Chat(peer);
        chat.IdentityChanged = false;
        chat.Verified = false;
        Notify();
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }
        await ReleaseFilesAsync();
        await ReleasePushAsync();
        if (_paintModule is not null)
        {
            await _paintModule.DisposeAsync();
        }
    }

    private async Task AttachAsync(ParleyClient client)
    {
        _client = client;
        client.MessageReceived += (_, e) => OnUi(() => Received(e.Message));
        client.MessageStatusChanged += (_, e) => OnUi(() => StatusChanged(e));
        client.PresenceChanged += (_, e) => OnUi(() => Presence(e));
        client.TypingChanged += (_, e) => OnUi(() => Typing(e));
        client.IdentityChanged += (_, e) => OnUi(() => { Chat(e.Peer).IdentityChanged = true; Notify(); });
        client.ConnectionStateChanged += (_, e) => OnUi(() => ConnectionChanged(e));
        client.StorageFailed += (_, e) => OnUi(() => Fail(AppScreen.StorageFull, e.Error.Message));
        client.QueueDrained += (_, _) => OnUi(() => _ = SubscribeAsync([.. _chats.Keys]));
        client.GroupChanged += (_, e) => OnUi(() => GroupChanged(e));
        client.TransferProgress += (_, e) => OnUi(() => TransferMoved(e));
        // The list comes from the store's summaries (last message, unread count); messages load when a chat opens.
        foreach (var summary in client.GetConversations())
        {
            Chat(summary.Conversation, remember: false).Summarize(summary.LastMessage, summary.UnreadCount);
        }
        _summariesStale = false;
        foreach (var peer in await KnownPeersAsync())
        {
            Chat(peer, remember: false);
        }
        foreach (var chat in _chats.Values.Where(c => !c.IsGroup))
        {
            chat.Verified = client.IsVerified(chat.Peer);
            chat.IdentityChanged = client.HasUnacceptedIdentityChange(chat.Peer);
        }
        LoadGroups(client);
        // Messages stored while no UI was listening (for example before a reload) are in the store already.
        client.TakeUnshownMessages();
        Show(AppScreen.Chats);
        _ = StartPushAsync();
        _ = ConnectAsync(client);
    }

    private async Task ConnectAsync(ParleyClient client)
    {
        try
        {
            await client.ConnectAsync();
        }
        catch (Exception e) when (e is ParleyException or HttpRequestException or System.Net.WebSockets.WebSocketException or OperationCanceledException)
        {
            // The client keeps reconnecting by itself; the reason is shown on the connection status.
            ConnectionProblem = e.Message;
            Notify();
        }
    }

    private void Received(StoredMessage message)
    {
        var chat = Chat(message.Peer);
        if (message.Direction == MessageDirection.Incoming)
        {
            chat.Typing = false;
        }
        if (chat.Add(message) && chat == Open)
        {
            _ = MarkOpenReadAsync();
        }
        _summariesStale = true;
        Notify();
    }

    private void StatusChanged(MessageStatusChangedEventArgs e)
    {
        if (_chats.TryGetValue(e.Peer, out var chat))
        {
            chat.Advance(e.MessageId, e.Status);
            // Reads change unread counts, of loaded messages or not: the list asks the store again.
            _summariesStale = true;
            Notify();
        }
    }

    private void Presence(PresenceChangedEventArgs e)
    {
        if (_chats.TryGetValue(e.User, out var chat))
        {
            chat.Online = e.Online;
            chat.LastSeen = e.LastSeen ?? chat.LastSeen;
            Notify();
        }
    }

    private void Typing(TypingChangedEventArgs e)
    {
        if (_chats.TryGetValue(e.GroupId is { } group ? GroupConversation.Prefix + group : e.User, out var chat))
        {
            chat.Typing = e.Typing;
            chat.TypingUser = e.GroupId is null || !e.Typing ? null : e.User;
            Notify();
        }
    }

    private void ConnectionChanged(ConnectionStateChangedEventArgs e)
    {
        Connection = e.State;
        ConnectionProblem = e.Error?.Message ?? (e.State == ConnectionState.Connected ? null : ConnectionProblem);
        if (e.Error is ParleyException { Code: ErrorCode.Unauthorized } expired)
        {
            Fail(AppScreen.SessionExpired, expired.Message);
            return;
        }
        if (e.State == ConnectionState.Connected && Open is not null)
        {
            _ = MarkOpenReadAsync();
        }
        Notify();
    }

    private async Task MarkOpenReadAsync()
    {
        if (Open is not { } chat || _client is null || Connection != ConnectionState.Connected)
        {
            return;
        }
        // Every unread message of the chat, loaded or not: opening it reads them all.
        var unread = _client.GetUnread(chat.Peer).Select(m => m.Id).ToList();
        if (unread.Count > 0)
        {
            await Quietly(chat.GroupId is { } group ? _client.MarkGroupReadAsync(group, unread) : _client.MarkReadAsync(chat.Peer, unread));
            _summariesStale = true;
            Notify();
        }
    }

    private async Task SubscribeAsync(IReadOnlyList<string> peers)
    {
        peers = [.. peers.Where(p => !GroupConversation.IsGroup(p))];
        if (_client is null || peers.Count == 0 || Connection != ConnectionState.Connected)
        {
            return;
        }
        try
        {
            foreach (var state in await _client.SubscribePresenceAsync(peers))
            {
                Presence(state);
            }
        }
        catch (ParleyException)
        {
            // Presence is a nicety: the next connection subscribes again.
        }
    }

    // Shows `chat`, reading its newest page from the store the first time.
    private void ShowChat(Conversation chat)
    {
        if (!chat.Loaded && _client is not null)
        {
            var newest = _client.GetConversation(chat.Peer, PageSize);
            chat.Load(newest, hasOlder: newest.Count == PageSize);
        }
        Open = chat;
        Notify();
    }

    private void RefreshSummaries()
    {
        if (!_summariesStale || _client is null)
        {
            return;
        }
        _summariesStale = false;
        foreach (var summary in _client.GetConversations())
        {
            Chat(summary.Conversation, remember: false).Summarize(summary.LastMessage, summary.UnreadCount);
        }
    }

    private Conversation Chat(string peer, bool remember = true)
    {
        if (!_chats.TryGetValue(peer, out var chat))
        {
            chat = new Conversation(peer) { Group = GroupConversation.IsGroup(peer) ? _client?.FindGroup(peer) : null };
            _chats[peer] = chat;
            if (remember)
            {
                _ = RememberPeersAsync();
            }
        }
        return chat;
    }

    private async Task<IReadOnlyList<string>> KnownPeersAsync()
    {
        var json = await _js.InvokeAsync<string?>("localStorage.getItem", PeersKey);
        return json is null ? [] : JsonSerializer.Deserialize<string[]>(json) ?? [];
    }

    private async Task RememberPeersAsync()
    {
        try
        {
            await _js.InvokeVoidAsync("localStorage.setItem", PeersKey, JsonSerializer.Serialize(_chats.Keys.ToArray()));
        }
        catch (JSException e) when (IsStorageFailure(e))
        {
            Fail(AppScreen.StorageFull, e.Message);
        }
    }

    private void Show(AppScreen screen)
    {
        Screen = screen;
        Notify();
    }

    private void Fail(AppScreen screen, string problem)
    {
        Problem = problem;
        Show(screen);
    }

    private void Notify() => Changed?.Invoke();

    private void OnUi(Action action)
    {
        if (_ui is null || SynchronizationContext.Current == _ui)
        {
            action();
        }
        else
        {
            _ui.Post(_ => action(), null);
        }
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (ParleyException)
        {
            // A lost connection: the SDK retries what must be retried (the outbox) on reconnect.
        }
    }

    // IndexedDB refusals (QuotaExceededError when full; no IndexedDB in some private modes) and disk errors.
    private static bool IsStorageFailure(Exception e) =>
        e is IOException or JSException or System.Runtime.InteropServices.JavaScript.JSException or ParleyException { ApiCode: "storage_failed" }
        || e.Message.Contains("Quota", StringComparison.OrdinalIgnoreCase)
        || e.InnerException is { } inner && IsStorageFailure(inner);
}
