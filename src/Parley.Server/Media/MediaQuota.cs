using Microsoft.Extensions.Options;
using Parley.Server.Configuration;

namespace Parley.Server.Media;

/// <summary>
/// Per-account media quotas, in memory: unfinished uploads at once, and uploads and bytes announced
/// in the last 24 hours (charged at creation, so a client cannot dodge them by never finishing). Rebuilt
/// from the store at start (<see cref="Load"/>), so a restart forgets nothing that is still stored.
/// </summary>
public sealed class MediaQuota(IOptions<ParleyOptions> options, TimeProvider time)
{
    private static readonly TimeSpan Window = TimeSpan.FromHours(24);
    private readonly Dictionary<long, Ledger> _accounts = [];
    private readonly Lock _gate = new();

    /// <summary>Why a reservation was refused.</summary>
    public enum Refusal
    {
        /// <summary>Reserved.</summary>
        None,

        /// <summary>Too many unfinished uploads.</summary>
        ConcurrentUploads,

        /// <summary>The bytes of the last 24 hours would go over the daily quota.</summary>
        BytesPerDay,

        /// <summary>The account created its daily number of uploads already.</summary>
        UploadsPerDay,
    }

    /// <summary>Counts the uploads already stored (unfinished ones as open, recent ones against the day).</summary>
    public void Load(IEnumerable<BlobRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        lock (_gate)
        {
            foreach (var record in records.OrderBy(r => r.CreatedAt))
            {
                var ledger = LedgerOf(record.AccountId);
                if (!record.IsComplete)
                {
                    ledger.Open.Add(record.Id);
                }
                ledger.Charges.Enqueue((record.CreatedAt, record.Id, record.Length));
                ledger.ChargedBytes += record.Length;
            }
        }
    }

    /// <summary>Reserves one open upload of <paramref name="length"/> bytes for the account, or says why not.</summary>
    public Refusal TryReserve(long accountId, string id, long length)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var media = options.Value.Media;
        lock (_gate)
        {
            var ledger = LedgerOf(accountId);
            var since = now - (long)Window.TotalMilliseconds;
            while (ledger.Charges.TryPeek(out var oldest) && oldest.At < since)
            {
                ledger.Charges.Dequeue();
                ledger.ChargedBytes -= oldest.Bytes;
            }
            if (ledger.Open.Count >= media.MaxConcurrentUploadsPerAccount)
            {
                return Refusal.ConcurrentUploads;
            }
            if (ledger.ChargedBytes + length > media.BytesPerDayPerAccount)
            {
                return Refusal.BytesPerDay;
            }
            if (ledger.Charges.Count >= media.UploadsPerDayPerAccount)
            {
                return Refusal.UploadsPerDay;
            }
            ledger.Open.Add(id);
            ledger.Charges.Enqueue((now, id, length));
            ledger.ChargedBytes += length;
            return Refusal.None;
        }
    }

    /// <summary>The upload finished, was deleted or expired: it no longer counts as open.</summary>
    public void Release(long accountId, string id)
    {
        lock (_gate)
        {
            if (_accounts.TryGetValue(accountId, out var ledger))
            {
                ledger.Open.Remove(id);
            }
        }
    }

    /// <summary>The account's unfinished uploads, as the ledger counts them now.</summary>
    public IReadOnlyList<string> OpenUploads(long accountId)
    {
        lock (_gate)
        {
            return _accounts.TryGetValue(accountId, out var ledger) ? [.. ledger.Open] : [];
        }
    }

    /// <summary>The upload could not be stored at all: it neither counts as open nor against the day.</summary>
    public void Refund(long accountId, string id)
    {
        lock (_gate)
        {
            if (!_accounts.TryGetValue(accountId, out var ledger))
            {
                return;
            }
            ledger.Open.Remove(id);
            // Rare (the disk failed), so rebuilding the queue without the charge is cheap enough.
            var kept = new Queue<(long At, string Id, long Bytes)>();
            foreach (var charge in ledger.Charges)
            {
                if (charge.Id == id)
                {
                    ledger.ChargedBytes -= charge.Bytes;
                }
                else
                {
                    kept.Enqueue(charge);
                }
            }
            ledger.Charges = kept;
        }
    }

    private Ledger LedgerOf(long accountId)
    {
        if (!_accounts.TryGetValue(accountId, out var ledger))
        {
            ledger = new Ledger();
            _accounts[accountId] = ledger;
        }
        return ledger;
    }

    private sealed class Ledger
    {
        public HashSet<string> Open { get; } = new(StringComparer.Ordinal);

        public Queue<(long At, string Id, long Bytes)> Charges { get; set; } = new();

        public long ChargedBytes { get; set; }
    }
}
