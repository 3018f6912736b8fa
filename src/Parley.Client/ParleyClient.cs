using System.Text;
using Google.Protobuf;
using Parley.Client.Connection;
using Parley.Client.Encryption;
using Parley.Client.Events;
using Parley.Client.Provisioning;
using Parley.Client.Receiving;
using Parley.Client.Sending;
using Parley.Client.Storage;
using Parley.Protocol;

namespace Parley.Client;

/// <summary>
/// One device of one account, backed by its store: a profile folder's SQLite database (opened through
/// Parley.Client.Sqlite's <c>ParleyClient.Open(folder)</c>) or the browser's IndexedDB (<see cref="OpenAsync"/>). Keeps a connection to the
/// server (reconnecting with jittered exponential backoff), sends through a durable outbox (resent on
/// every connect until SENT), stores every incoming message before acking it, and raises each
/// message once however often it is delivered. Every payload is end-to-end encrypted per device with
/// the Signal protocol (see ParleyClient.Encryption.cs). Every method is safe to call from any thread.
/// Events are raised on the connection's receive loop: handlers must return quickly and not block on this client.
/// </summary>
/// <remarks>
/// A facade over collaborators: <see cref="AccountProvisioning"/> (register, link),
/// <see cref="ConnectionSupervisor"/> (the connection and its loops), <see cref="Outbox"/> (durable
/// sends), <see cref="InboundProcessor"/> (what the server pushes) and the store behind
/// <see cref="IClientStore"/>. Encryption and media are this class's partial files.
/// </remarks>
public sealed partial class ParleyClient : IAsyncDisposable
{
    /// <summary>The default profile folder: <c>~/.parley</c>.</summary>
    public static readonly string DefaultProfileDirectory =
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".parley");

    private readonly IClientStore _store;
    private readonly ParleyClientOptions _options;
    private readonly Lock _gate = new();
    private readonly HashSet<string> _presenceUsers = new(StringComparer.Ordinal);
    private readonly ConnectionSupervisor _connection;
    private readonly Outbox _outbox;
    private readonly InboundProcessor _inbound;
    private bool _disposed;

    private ParleyClient(string profileDirectory, IClientStore store, DeviceCredentialsProfile credentials, ParleyClientOptions? options)
    {
        ProfileDirectory = profileDirectory;
        _store = store;
        Credentials = credentials;
        _options = options ?? new ParleyClientOptions();
        _inbound = new InboundProcessor(store, credentials, _options, this);
        _connection = new ConnectionSupervisor(credentials, _options, _inbound.OnPushAsync, store.FlushAsync,
            [(session, token) => _outbox!.PumpAsync(session, token), ResubscribeAsync, DeviceListUpkeepAsync, ResumeHistoryAsync],
            (state, error) => Raise(ConnectionStateChanged, new ConnectionStateChangedEventArgs(state, error)));
        _outbox = new Outbox(store, _options, credentials, _connection, BuildSendAsync,
            args => Raise(MessageStatusChanged, args), TrustListForOutbox);
        _outbox.SendGroup = SendGroupEntryAsync;
        Testing = new ClientTestSurface(this, _connection, _outbox, _inbound);
        _historyPending = store.PendingHistory() is not null;
        StartEncryption();
    }

    /// <summary>A message was stored for the first time (raised once per message, never for a duplicate).</summary>
    public event EventHandler<MessageReceivedEventArgs>? MessageReceived;

    /// <summary>A message's status moved forward (sent → delivered → read); never raised backwards.</summary>
    public event EventHandler<MessageStatusChangedEventArgs>? MessageStatusChanged;

    /// <summary>A subscribed user came online or went offline (also raised for each snapshot entry).</summary>
    public event EventHandler<PresenceChangedEventArgs>? PresenceChanged;

    /// <summary>A peer started or stopped typing.</summary>
    public event EventHandler<TypingChangedEventArgs>? TypingChanged;

    /// <summary>The stored queue of this connection has been received and stored; what follows is live.</summary>
    public event EventHandler? QueueDrained;

    /// <summary>The connection changed state.</summary>
    public event EventHandler<ConnectionStateChangedEventArgs>? ConnectionStateChanged;

    /// <summary>
    /// The device's storage refused a write (the browser's store: IndexedDB full or unavailable).
    /// The changes stay queued and are retried; show it, it lasts until storage is freed.
    /// Never raised for a SQLite profile, whose writes fail where they are made.
    /// </summary>
    public event EventHandler<StorageFailedEventArgs>? StorageFailed;

    /// <summary>This device's credentials.</summary>
    public DeviceCredentialsProfile Credentials { get; }

    /// <summary>The profile folder this client's store lives in.</summary>
    public string ProfileDirectory { get; }

    /// <summary>The current connection state.</summary>
    public ConnectionState State => _connection.State;

    /// <summary>Why the last connection attempt or connection failed; null after a clean connect.</summary>
    public Exception? LastConnectionError => _connection.LastConnectionError;

    /// <summary>Hooks and counters for tests only: never part of the product API.</summary>
    internal ClientTestSurface Testing { get; }

    /// <summary>The local store (for the test surface).</summary>
    internal IClientStore Store => _store;

    private string Me => Credentials.User;

    // ───────────────────────── profiles, registration, linking ─────────────────────────

    // The profile-folder entry points (IsRegistered, Open, RegisterAsync, RequestLinkAsync and
    // LinkDeviceAsync with a folder) live in Parley.Client.Sqlite (ProfileFolder), which opens the
    // SQLite store: the browser app references only this assembly and so never downloads SQLite.

    /// <summary>A client over an opened store that holds <paramref name="credentials"/>.</summary>
    internal static ParleyClient OverStore(string profileDirectory, IClientStore store, DeviceCredentialsProfile credentials, ParleyClientOptions? options) =>
        new(profileDirectory, store, credentials, options);

    /// <summary>
    /// Creates an account on <paramref name="server"/> and saves this device's credentials in the
    /// store <paramref name="openStore"/> opens (once the server has accepted). Does not connect.
    /// </summary>
    internal static async Task<ParleyClient> RegisterProfileAsync(
        string profileDirectory, Func<IClientStore> openStore, Uri server, string user, string? code, string? invite,
        string? deviceName, ParleyClientOptions? options, CancellationToken cancellationToken)
    {
        var creds = await AccountProvisioning.RegisterAsync(server, user, code, invite, deviceName, options, cancellationToken);
        var client = SaveProfile(profileDirectory, openStore(), server, creds, options);
        if (client._e2e is not null)
        {
            client.CreateAccountKey();
        }
        await client.PublishFirstKeysAsync(null, cancellationToken);
        return client;
    }

    /// <summary>
    /// Opens the device kept in <paramref name="persistence"/> (in the browser: IndexedDB, through
    /// Parley.Client.Browser), loading its whole store into memory; null when it holds no account
    /// yet. Does not connect. Changes are written back in batches, and always before anything that
    /// depends on them leaves the device (an ack, a send, a key upload).
    /// </summary>
    public static async Task<ParleyClient?> OpenAsync(IKeyValuePersistence persistence, ParleyClientOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var store = await KeyValueClientStore.LoadAsync(persistence, cancellationToken);
        if (store.LoadCredentials() is not { } credentials)
        {
            store.Dispose();
            return null;
        }
        return WithStorageEvents(new ParleyClient(VirtualProfileDirectory(credentials), store, credentials, options), store);
    }

    /// <summary>
    /// Creates an account on <paramref name="server"/> and keeps this device in
    /// <paramref name="persistence"/> (which must not hold an account yet). Does not connect.
    /// </summary>
    public static async Task<ParleyClient> RegisterAsync(
        IKeyValuePersistence persistence, Uri server, string user, string? code = null, string? invite = null,
        string? deviceName = null, ParleyClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        CheckRegistration(server, user);
        var store = await KeyValueClientStore.LoadAsync(persistence, cancellationToken);
        try
        {
            if (store.LoadCredentials() is not null)
            {
                throw new InvalidOperationException("This storage already holds an account.");
            }
            var creds = await AccountProvisioning.RegisterAsync(server, user, code, invite, deviceName, options, cancellationToken);
            var credentials = new DeviceCredentialsProfile(server, creds.User, creds.DeviceId, creds.Password);
            store.SaveCredentials(credentials);
            await store.FlushAsync(cancellationToken);
            var client = WithStorageEvents(new ParleyClient(VirtualProfileDirectory(credentials), store, credentials, options), store);
            if (client._e2e is not null)
            {
                client.CreateAccountKey();
            }
            await client.PublishFirstKeysAsync(null, cancellationToken);
            return client;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    private static ParleyClient WithStorageEvents(ParleyClient client, KeyValueClientStore store)
    {
        store.WriteRefused = error => client.Raise(client.StorageFailed, new StorageFailedEventArgs(error));
        return client;
    }

    /// <summary>Throws when <paramref name="server"/> cannot be a server address or <paramref name="user"/> is not a user name.</summary>
    internal static void CheckRegistration(Uri server, string user)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (ServerAddressProblem(server) is { } problem)
        {
            throw new ArgumentException($"The server address {problem}.", nameof(server));
        }
        if (!UserName.IsValid(user))
        {
            throw new ArgumentException($"\"{user}\" is not a user name: {UserName.Rules}.", nameof(user));
        }
    }

    // A device without a profile folder (the browser) still needs one for attachment files: a
    // folder of its own under the temporary path (in the browser, the runtime's in-memory file system).
    private static string VirtualProfileDirectory(DeviceCredentialsProfile credentials) =>
        Path.Combine(Path.GetTempPath(), "parley", $"{credentials.User}.{credentials.DeviceId}");

    /// <summary>
    /// Why <paramref name="server"/> cannot be a server address, in words for people, or null when
    /// it can: a server is named by scheme, host and port alone. A path or query would be stored in
    /// the profile and silently dropped or misapplied on every request.
    /// </summary>
    public static string? ServerAddressProblem(Uri server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return AccountProvisioning.ServerAddressProblem(server);
    }

    /// <summary>Asks the server to send a verification code for <paramref name="user"/> (registration policy "code").</summary>
    public static async Task RequestVerificationCodeAsync(Uri server, string user, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        await AccountProvisioning.RequestVerificationCodeAsync(server, user, cancellationToken);
    }

    /// <summary>
    /// Adds a new device to this account and saves its credentials in the store
    /// <paramref name="openStore"/> opens for <paramref name="newProfileDirectory"/>.
    /// Returns the new device's client (not connected). Other devices learn of it on their next send (STALE_DEVICES).
    /// </summary>
    internal async Task<ParleyClient> LinkDeviceIntoAsync(string newProfileDirectory, Func<IClientStore> openStore, string? deviceName, CancellationToken cancellationToken)
    {
        if (_e2e is not null && !IsPrimaryDevice)
        {
            throw new InvalidOperationException("Only the account's primary device (the one that registered) can link a device: it signs the device list.");
        }
        var creds = await AccountProvisioning.LinkAsync(Credentials, deviceName, _options, cancellationToken);
        // Our own device list just changed: forget the cached one (empty = not cached) so the next send fetches it.
        _store.CacheDevices(Me, []);
        var linked = SaveProfile(newProfileDirectory, openStore(), Credentials.Server, creds, _options);
        if (_e2e is not null)
        {
            // The new device has its own identity key; the account key (this primary's) signs the list that names it.
            await AddLinkedDeviceAsync(linked, cancellationToken);
            await linked.PublishFirstKeysAsync(null, cancellationToken);
        }
        return linked;
    }

    private static ParleyClient SaveProfile(string profileDirectory, IClientStore store, Uri server, DeviceCredentials creds, ParleyClientOptions? options)
    {
        var credentials = new DeviceCredentialsProfile(server, creds.User, creds.DeviceId, creds.Password);
        store.SaveCredentials(credentials);
        return new ParleyClient(profileDirectory, store, credentials, options);
    }

    // ───────────────────────── connection ─────────────────────────

    /// <summary>
    /// Starts the connection (if not running) and waits until it is authenticated. Retries with
    /// backoff while the server is unreachable; throws <see cref="ParleyException"/> at once for bad
    /// credentials or no common protocol version.
    /// </summary>
    public async Task ConnectAsync(CancellationToken cancellationToken = default) => await _connection.GetSessionAsync(cancellationToken);

    /// <summary>
    /// Connects if needed and waits until everything the server had queued for this device when
    /// called has been received and stored: the stored queue found at connect (QueueEmpty), and
    /// what arrived live since (a Sync request, which the server answers behind it). A client that
    /// is already connected gets what was sent to it up to now, not only what waited at connect.
    /// On a linked device whose history import was cut short, this connection's try at the rest
    /// has ended too (stored, or left for the next connect).
    /// </summary>
    public async Task SyncAsync(CancellationToken cancellationToken = default)
    {
        var session = await _connection.GetSessionAsync(cancellationToken);
        await HistoryBeforeLive(session).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        cancellationToken.ThrowIfCancellationRequested();
        // The server answers behind the connection's drain and every envelope queued before the request; the
        // supervisor asks again on a new connection if this one is lost, and after RATE_LIMITED.
        await _connection.RequestAsync(() => new ClientFrame { Sync = new Protocol.Sync() }, cancellationToken);
        // The read loop handed each envelope before the answer to the inbound chain before reading the answer.
        await _inbound.HandledSoFarAsync().WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Closes the connection cleanly (acks already queued are sent first) and stops reconnecting.</summary>
    public async Task DisconnectAsync()
    {
        if (await _connection.StopAsync())
        {
            _outbox.FailWaiters(ParleyException.ConnectionLost("The client was disconnected; the message stays in the outbox and is sent on the next connect."));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _connection.Close();
        await DisconnectAsync();
        await StopHistoryImportAsync();
        _media?.Dispose();
        try
        {
            await _store.FlushAsync();
        }
        catch (ParleyException)
        {
            // Storage refused: what was not written is lost with this client, as after a crash.
        }
        _store.Dispose();
    }

    // ───────────────────────── sending ─────────────────────────

    /// <summary>
    /// The longest text one message carries, in UTF-8 bytes: the wire's per-device payload limit
    /// (<see cref="WireLimits.MaxPayloadBytes"/>, 64 KiB) less 4 KiB kept for what encryption adds
    /// around the text (the Signal message framing and MAC, the PQXDH prekey header with its
    /// 1,568-byte ML-KEM ciphertext, the id of a resend), so a text that passes this check is never
    /// refused by the server. <see cref="CheckText"/> is the one place that enforces it.
    /// </summary>
    public const int MaxTextBytes = WireLimits.MaxPayloadBytes - 4 * 1024;

    /// <summary>
    /// Throws <see cref="ArgumentException"/> with a message for people when <paramref name="text"/>
    /// cannot be sent: empty, only white space, or longer than <see cref="MaxTextBytes"/>. Every send
    /// goes through here before anything is stored.
    /// </summary>
    public static void CheckText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ArgumentException("The message is empty: there is nothing to send but white space.", nameof(text));
        }
        var bytes = Encoding.UTF8.GetByteCount(text);
        if (bytes > MaxTextBytes)
        {
            throw new ArgumentException(
                $"The message is {bytes:N0} bytes; one message carries at most {MaxTextBytes:N0} bytes of text (UTF-8). Nothing was stored or sent.",
                nameof(text));
        }
    }

    /// <summary>
    /// Sends a text message to every device of <paramref name="peer"/> (and a sync copy to this
    /// account's other devices). The message is in the durable outbox before this returns or
    /// throws; the returned id comes back once the server has it durably (SENT). If cancelled or
    /// disconnected first, the message stays in the outbox and is sent on the next connect.
    /// Throws <see cref="ArgumentException"/> (nothing stored) for a bad peer name or a text
    /// <see cref="CheckText"/> refuses, and <see cref="ParleyException"/> (message marked Failed)
    /// when it cannot be encrypted: <c>ApiCode</c> <c>identity_changed</c> (a verified peer's key
    /// changed), <c>no_keys</c> or <c>bad_bundle</c>.
    /// </summary>
    public async Task<string> SendTextAsync(string peer, string text, CancellationToken cancellationToken = default)
    {
        var id = QueueText(peer, text);
        await WaitUntilSentAsync(id, cancellationToken);
        return id;
    }

    /// <summary>
    /// Stores a text message in the durable outbox (status Pending) and returns its id at once,
    /// without waiting for a connection: it goes out on this client's current or next connection,
    /// or on the next connect of any client of this profile. Throws <see cref="ArgumentException"/>
    /// (nothing stored) for a bad peer name or a text <see cref="CheckText"/> refuses.
    /// </summary>
    public string QueueText(string peer, string text)
    {
        if (!UserName.IsValid(peer))
        {
            throw new ArgumentException($"Cannot send to \"{peer}\": {UserName.Rules}.", nameof(peer));
        }
        if (peer == Me)
        {
            throw new ArgumentException("A conversation is with another user; your other devices get a copy of every send.", nameof(peer));
        }
        CheckText(text);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var content = new Content { Text = new TextMessage { Text = text } }.ToByteArray();
        return _outbox.Add(peer, text, content);
    }

    /// <summary>
    /// Connects if needed and waits until the outbox entry <paramref name="messageId"/> is SENT
    /// (returns at once when it already left the outbox, here or in an earlier process). Throws
    /// <see cref="ParleyException"/> when the server or encryption refused it for good; on
    /// cancellation the message stays in the outbox.
    /// </summary>
    public Task WaitUntilSentAsync(string messageId, CancellationToken cancellationToken = default) =>
        _outbox.WaitUntilSentAsync(messageId, cancellationToken);

    /// <summary>The ids of this account's messages waiting in the outbox for SENT, oldest first.</summary>
    public IReadOnlyList<string> QueuedMessageIds() => _outbox.QueuedMessageIds();

    /// <summary>
    /// Connects if needed and waits until each of <paramref name="messageIds"/> (by default the
    /// <see cref="QueuedMessageIds"/> of now) is SENT or refused for good. Returns the ids sent, in
    /// order; the refused ones go to <paramref name="refused"/> with the reason.
    /// </summary>
    public Task<IReadOnlyList<string>> FlushOutboxAsync(IReadOnlyList<string>? messageIds = null,
        ICollection<(string MessageId, string Reason)>? refused = null, CancellationToken cancellationToken = default) =>
        _outbox.FlushAsync(messageIds, refused, cancellationToken);

    // ───────────────────────── other requests ─────────────────────────

    /// <summary>The current device ids of <paramref name="user"/> (also refreshes the cached list used for sends).</summary>
    public async Task<IReadOnlyList<uint>> GetDevicesAsync(string user, CancellationToken cancellationToken = default)
    {
        var answer = await _connection.RequestAsync(() => new ClientFrame { GetDevices = new GetDevices { User = user } }, cancellationToken);
        TrustSignedList(user, answer.DeviceList?.Signed);
        var ids = answer.DeviceList?.DeviceIds.ToArray() ?? [];
        _store.CacheDevices(user, ids);
        return ids;
    }

    /// <summary>
    /// The devices of this client's own account with their names, when added and last seen
    /// (also refreshes the cached list used for sends, as <see cref="GetDevicesAsync"/> does).
    /// </summary>
    public async Task<IReadOnlyList<Devices.AccountDevice>> GetAccountDevicesAsync(CancellationToken cancellationToken = default)
    {
        var me = Credentials;
        var answer = await _connection.RequestAsync(() => new ClientFrame { GetDevices = new GetDevices { User = me.User } }, cancellationToken);
        TrustSignedList(me.User, answer.DeviceList?.Signed);
        _store.CacheDevices(me.User, answer.DeviceList?.DeviceIds.ToArray() ?? []);
        return answer.DeviceList?.Devices
            .Select(d => new Devices.AccountDevice(d.Id, d.Name, d.AddedAt, d.LastSeen, d.Online, d.Id == me.DeviceId))
            .ToArray() ?? [];
    }

    /// <summary>
    /// Marks messages from <paramref name="peer"/> read here, sends READ to the peer and a read sync
    /// (end to end encrypted) to this account's other devices; returns once the server has stored both.
    /// </summary>
    public async Task MarkReadAsync(string peer, IEnumerable<string> messageIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messageIds);
        var ids = new List<byte[]>();
        foreach (var text in messageIds)
        {
            var id = MessageId.Parse(text) ?? throw new ArgumentException($"Not a message id: {text}", nameof(messageIds));
            ids.Add(id);
        }
        foreach (var chunk in ids.Chunk(WireLimits.MaxIdsPerFrame))
        {
            try
            {
                await _connection.RequestAsync(afterAcks: true, () =>
                {
                    var read = new ReadReceipt { Peer = peer };
                    read.MessageIds.AddRange(chunk.Select(ByteString.CopyFrom));
                    return new ClientFrame { Read = read };
                }, cancellationToken);
            }
            catch (ParleyException e) when (e.Code == ErrorCode.NotFound)
            {
                // The server has no record of these (older than its dedup window): the peer gets
                // no READ for them, but they are still read here.
            }
            foreach (var id in chunk)
            {
                if (_store.Advance(peer, peer, id, MessageStatus.Read) is { } changed)
                {
                    Raise(MessageStatusChanged, new MessageStatusChangedEventArgs(changed.Id, peer, MessageStatus.Read));
                }
            }
            // Our other devices learn it end to end encrypted (ParleyClient.Sync.cs), not from the server.
            await SendReadSyncAsync(peer, null, chunk, cancellationToken);
        }
    }

    /// <summary>
    /// Tells <paramref name="peer"/>'s online devices that this user is (or stopped) typing. Ephemeral: never queued.
    /// The server passes typing only between users with a conversation (a message either way); before that it is dropped.
    /// </summary>
    public async Task SetTypingAsync(string peer, bool typing, CancellationToken cancellationToken = default)
    {
        try
        {
            await _connection.RequestAsync(() => new ClientFrame { Typing = new Typing { Peer = peer, Typing_ = typing } }, cancellationToken);
        }
        catch (ParleyException e) when (e.Code == ErrorCode.Forbidden)
        {
            // No conversation with the peer yet: there is nobody to show it to.
        }
    }

    /// <summary>
    /// Sets who may see this user's presence and last seen: <see cref="PresenceVisibility.Contacts"/> (users this
    /// user has sent a message to; the default), <see cref="PresenceVisibility.Everyone"/> or <see cref="PresenceVisibility.Nobody"/>.
    /// Stored by the server for the account (all devices); returns once it is stored.
    /// </summary>
    public async Task SetPresenceVisibilityAsync(PresenceVisibility visibility, CancellationToken cancellationToken = default)
        => await _connection.RequestAsync(() => new ClientFrame { PresenceVisibility = new SetPresenceVisibility { Visibility = visibility } }, cancellationToken);

    /// <summary>
    /// Subscribes to the presence of <paramref name="users"/> (renewed on every reconnect) and returns
    /// their current state; later changes raise <see cref="PresenceChanged"/>.
    /// </summary>
    public async Task<IReadOnlyList<PresenceChangedEventArgs>> SubscribePresenceAsync(IEnumerable<string> users, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(users);
        var list = users.Distinct().ToArray();
        lock (_gate)
        {
            _presenceUsers.UnionWith(list);
        }
        while (true)
        {
            var session = await _connection.GetSessionAsync(cancellationToken);
            try
            {
                return await SubscribeOnAsync(session, list, cancellationToken);
            }
            catch (ParleyException e) when (e.IsConnectionLost)
            {
            }
        }
    }

    // Presence subscriptions live on the server per connection: each new one renews them.
    private async Task ResubscribeAsync(Session session, CancellationToken cancellationToken)
    {
        string[] users;
        lock (_gate)
        {
            users = [.. _presenceUsers];
        }
        if (users.Length > 0)
        {
            await SubscribeOnAsync(session, users, cancellationToken);
        }
    }

    private async Task<IReadOnlyList<PresenceChangedEventArgs>> SubscribeOnAsync(Session session, string[] users, CancellationToken cancellationToken)
    {
        var subscribe = new SubscribePresence();
        subscribe.Users.AddRange(users);
        var answer = await session.Connection.RequestAsync(new ClientFrame { Presence = subscribe }, cancellationToken);
        var result = new List<PresenceChangedEventArgs>();
        foreach (var update in answer.PresenceSnapshot?.Users ?? [])
        {
            var args = InboundProcessor.ToPresence(update);
            result.Add(args);
            Raise(PresenceChanged, args);
        }
        return result;
    }

        // ───────────────────────── local store queries ─────────────────────────

    /// <summary>The stored message with this id, or null.</summary>
    public StoredMessage? FindMessage(string messageId) =>
        MessageId.Parse(messageId) is { } id ? _store.Find(id) : null;

    /// <summary>The last <paramref name="limit"/> messages with <paramref name="peer"/>, oldest first.</summary>
    public IReadOnlyList<StoredMessage> GetConversation(string peer, int limit = 50) => _store.Conversation(peer, limit);

    /// <summary>
    /// The incoming messages of a conversation (a peer, or a group's conversation name) not yet
    /// Read, oldest first: what opening the chat marks read, loaded on screen or not.
    /// </summary>
    public IReadOnlyList<StoredMessage> GetUnread(string conversation) => _store.Unread(conversation);

    /// <summary>
    /// The <paramref name="limit"/> messages of a conversation (a peer, or a group's
    /// <see cref="Groups.GroupConversation.Of"/> name) stored just before its message
    /// <paramref name="beforeMessageId"/>, oldest first: the next page up from what a chat shows.
    /// Empty when that message is not in the conversation, or is its first.
    /// </summary>
    public IReadOnlyList<StoredMessage> GetConversationBefore(string conversation, string beforeMessageId, int limit = 50) =>
        MessageId.Parse(beforeMessageId) is { } id ? _store.ConversationBefore(conversation, id, limit) : [];

    /// <summary>
    /// Messages that arrived and were not yet shown (of the conversation with <paramref name="peer"/>,
    /// or all), oldest first; each is returned once across calls and processes. Includes the copies of
    /// what this account sent from its other devices (<see cref="MessageDirection.Outgoing"/>), never
    /// what this device sent.
    /// </summary>
    public IReadOnlyList<StoredMessage> TakeUnshownMessages(string? peer = null) => _store.TakeUnshown(peer);

    /// <summary>Number of messages still waiting in the outbox for SENT.</summary>
    public int PendingSends => _outbox.Count;

    // ───────────────────────── events raised by the collaborators ─────────────────────────

    internal void OnMessageReceived(MessageReceivedEventArgs args) => Raise(MessageReceived, args);

    internal void OnMessageStatusChanged(MessageStatusChangedEventArgs args) => Raise(MessageStatusChanged, args);

    internal void OnPresenceChanged(PresenceChangedEventArgs args) => Raise(PresenceChanged, args);

    internal void OnTypingChanged(TypingChangedEventArgs args) => Raise(TypingChanged, args);

    internal void OnQueueDrained() => Raise(QueueDrained, EventArgs.Empty);

    private void Raise<T>(EventHandler<T>? handler, T args)
    {
        try
        {
            handler?.Invoke(this, args);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A failing handler must not break delivery: the message is already stored.
        }
    }

    private void Raise(EventHandler? handler, EventArgs args)
    {
        try
        {
            handler?.Invoke(this, args);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
        }
    }
}
