namespace Parley.Client.Storage;

/// <summary>
/// Everything one device keeps: its messages and outbox, its keys and sessions, its attachments.
/// Two implementations: ClientStore (SQLite, for the CLI and desktop; in Parley.Client.Sqlite, so the
/// browser never downloads it) and <see cref="KeyValueClientStore"/> (the browser's).
/// Methods are synchronous and thread-safe; a decrypt and the message it produced commit together
/// through <see cref="Atomically{T}"/>.
/// </summary>
internal interface IClientStore : IMessageStore, IKeyStore, IMediaStore, IGroupStore, IDeviceListStore, ISyncStore, IHistoryStore, IDisposable
{
    /// <summary>
    /// Runs <paramref name="work"/> all or nothing. Inside it only statement-level methods may be
    /// used (crypto store methods, <see cref="IMessageStore.InsertReceived"/>,
    /// <see cref="IMediaStore.AddAttachment"/>), not the ones that open their own transaction.
    /// </summary>
    T Atomically<T>(Func<T> work);

    /// <summary>
    /// Completes once every change made so far is durable. SQLite commits each change before it
    /// returns, so there it is done at once; the browser's store writes in batches. The client awaits
    /// this before anything that relies on a change leaves the device (an ack, a send, a key upload).
    /// </summary>
    Task FlushAsync(CancellationToken cancellationToken = default);
}
