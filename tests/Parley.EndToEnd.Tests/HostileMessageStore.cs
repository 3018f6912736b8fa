using Microsoft.Extensions.DependencyInjection;
using Parley.Protocol;
using Parley.Server.Messaging;
using Parley.Server.Storage.Sqlite;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// A hostile server built from the real one: its durable queues (the real SQLite store) with a hook
/// that alters or drops envelopes on their way in, as a server that rewrites what it writes around
/// the ciphertext (conversation, ids, times) or withholds some of it would. Install it with
/// <c>TestServer.StartAsync(services: hostile.Install)</c>.
/// </summary>
public sealed class HostileMessageStore
{
    private volatile Func<Envelope, bool>? _drop;
    private volatile Action<Envelope>? _alter;

    /// <summary>Changes each envelope it is given before it is stored (null: none).</summary>
    public Action<Envelope>? Alter
    {
        get => _alter;
        set => _alter = value;
    }

    /// <summary>Envelopes for which it returns true are never stored (null: none).</summary>
    public Func<Envelope, bool>? Drop
    {
        get => _drop;
        set => _drop = value;
    }

    public void Install(IServiceCollection services) =>
        services.AddSingleton<IMessageStore>(sp => new Store(this, sp.GetRequiredService<SqliteMessageStore>()));

    private List<QueuedEnvelope> Tamper(IReadOnlyList<QueuedEnvelope> envelopes)
    {
        var drop = Drop;
        var alter = Alter;
        var kept = new List<QueuedEnvelope>(envelopes.Count);
        foreach (var queued in envelopes)
        {
            if (drop?.Invoke(queued.Envelope) == true)
            {
                continue;
            }
            alter?.Invoke(queued.Envelope);
            kept.Add(queued);
        }
        return kept;
    }

    private sealed class Store(HostileMessageStore hostile, IMessageStore inner) : IMessageStore
    {
        public Task<bool> AppendAsync(DedupKey? dedup, IReadOnlyList<QueuedEnvelope> envelopes) => inner.AppendAsync(dedup, hostile.Tamper(envelopes));

        public Task AppendGroupReceiptsAsync(IReadOnlyList<QueuedEnvelope> envelopes) => inner.AppendGroupReceiptsAsync(hostile.Tamper(envelopes));

        public Task<bool> AppendFanoutAsync(DedupKey? dedup, Envelope envelope, IReadOnlyList<long> deviceKeys) => inner.AppendFanoutAsync(dedup, envelope, deviceKeys);

        public Task AckAsync(long deviceKey, IReadOnlyList<ulong> seqs, IReadOnlyList<QueuedEnvelope> receipts) => inner.AckAsync(deviceKey, seqs, hostile.Tamper(receipts));

        public IReadOnlyList<Envelope> ReadQueue(long deviceKey, ulong afterSeq, int limit) => inner.ReadQueue(deviceKey, afterSeq, limit);

        public QueueUsage Usage(long deviceKey) => inner.Usage(deviceKey);

        public IReadOnlyList<Google.Protobuf.ByteString> SentTo(long senderAccount, long recipientAccount, IReadOnlyList<Google.Protobuf.ByteString> messageIds) =>
            inner.SentTo(senderAccount, recipientAccount, messageIds);

        public Task<int> DeleteExpiredAsync(long nowUnixMs, long dedupBeforeUnixMs) => inner.DeleteExpiredAsync(nowUnixMs, dedupBeforeUnixMs);
    }
}
