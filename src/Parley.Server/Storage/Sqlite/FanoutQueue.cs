namespace Parley.Server.Storage.Sqlite;

/// <summary>
/// The fan-out envelopes (group messages and notices) one device still owes an ack for, in memory:
/// their seqs in ascending order, with their count and body bytes for the queue caps. The store's
/// writer appends (always above every seq held, as it assigns seqs in order) and removes; readers
/// copy a range under the same lock. Eight bytes a seq: removal only flags the entry, and the
/// flagged ones are squeezed out when the array would otherwise grow.
/// </summary>
internal sealed class FanoutQueue
{
    // Seqs stay below 2^63 (SQLite integers), so the top bit is free to flag a removed entry
    // without breaking the order a binary search relies on.
    private const ulong Removed = 1UL << 63;
    private ulong[] _seqs = new ulong[4];
    private int _head;
    private int _tail;
    private int _count;
    private long _bytes;

    /// <summary>Envelopes owed.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Their body bytes.</summary>
    public long Bytes => Volatile.Read(ref _bytes);

    /// <summary>Appends a seq above every seq held.</summary>
    public void Add(ulong seq, int size)
    {
        lock (this)
        {
            if (_tail == _seqs.Length)
            {
                Compact(Math.Max(4, _count * 2));
            }
            _seqs[_tail++] = seq;
            Volatile.Write(ref _count, _count + 1);
            Volatile.Write(ref _bytes, _bytes + size);
        }
    }

    /// <summary>Removes a seq; false when it is not held (acked already, or never owed).</summary>
    public bool Remove(ulong seq, int size)
    {
        lock (this)
        {
            int at = Find(seq);
            if (at < 0)
            {
                return false;
            }
            _seqs[at] |= Removed;
            Volatile.Write(ref _count, _count - 1);
            Volatile.Write(ref _bytes, Math.Max(0, _bytes - size));
            SkipRemoved();
            return true;
        }
    }

    /// <summary>Removes every seq up to <paramref name="last"/> (expired), sized by <paramref name="sizeOf"/>; returns how many.</summary>
    public int RemoveThrough(ulong last, Func<ulong, int> sizeOf)
    {
        lock (this)
        {
            int removed = 0;
            for (int i = _head; i < _tail && (_seqs[i] & ~Removed) <= last; i++)
            {
                if ((_seqs[i] & Removed) == 0)
                {
                    _bytes -= sizeOf(_seqs[i]);
                    _seqs[i] |= Removed;
                    removed++;
                }
            }
            Volatile.Write(ref _count, _count - removed);
            Volatile.Write(ref _bytes, Math.Max(0, _bytes));
            SkipRemoved();
            return removed;
        }
    }

    /// <summary>The lowest seq held, or null when none is.</summary>
    public ulong? First()
    {
        lock (this)
        {
            return _head < _tail ? _seqs[_head] : null;
        }
    }

    /// <summary>Copies, in order, up to <paramref name="limit"/> seqs above <paramref name="after"/> and not above <paramref name="upTo"/>.</summary>
    public void CopyRange(ulong after, ulong upTo, int limit, List<ulong> into)
    {
        lock (this)
        {
            int lo = _head, hi = _tail;
            while (lo < hi)
            {
                int mid = lo + ((hi - lo) / 2);
                if ((_seqs[mid] & ~Removed) <= after)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }
            for (int i = lo; i < _tail && into.Count < limit; i++)
            {
                ulong seq = _seqs[i];
                if ((seq & ~Removed) > upTo)
                {
                    break;
                }
                if ((seq & Removed) == 0)
                {
                    into.Add(seq);
                }
            }
        }
    }

    /// <summary>Drops every seq (the store rebuilds the sets from the database).</summary>
    public void Clear()
    {
        lock (this)
        {
            _head = _tail = 0;
            Volatile.Write(ref _count, 0);
            Volatile.Write(ref _bytes, 0);
        }
    }

    private int Find(ulong seq)
    {
        int lo = _head, hi = _tail - 1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) / 2);
            ulong value = _seqs[mid] & ~Removed;
            if (value == seq)
            {
                return (_seqs[mid] & Removed) == 0 ? mid : -1;
            }
            if (value < seq)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return -1;
    }

    /// <summary>Moves the head past removed entries; an emptied array starts over at its front.</summary>
    private void SkipRemoved()
    {
        while (_head < _tail && (_seqs[_head] & Removed) != 0)
        {
            _head++;
        }
        if (_head == _tail)
        {
            _head = _tail = 0;
        }
    }

    /// <summary>Moves the live seqs to the front of an array with room for at least <paramref name="capacity"/>.</summary>
    private void Compact(int capacity)
    {
        var into = capacity > _seqs.Length ? new ulong[capacity] : _seqs;
        int n = 0;
        for (int i = _head; i < _tail; i++)
        {
            if ((_seqs[i] & Removed) == 0)
            {
                into[n++] = _seqs[i];
            }
        }
        _seqs = into;
        _head = 0;
        _tail = n;
    }
}
