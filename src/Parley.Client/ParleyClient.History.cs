using Google.Protobuf;
using Parley.Client.Groups;
using Parley.Client.History;
using Parley.Client.Media;
using Parley.Crypto.Attachments;
using Parley.Protocol;

namespace Parley.Client;

// History for a newly linked device (docs/protocol.md, "History for a new device"): the approving
// device packs the messages of the last HistoryWindow into HistoryChunk blobs of at most 1 MiB,
// encrypts each like an attachment (fresh key, digest) into the media store, and puts the pointers
// into the sealed ProvisionMessage. The new device records the pointers as pending history, then
// downloads, checks and stores them before it first connects, so history comes before anything
// live and a message that also arrives live is the same (sender, id) and is stored once. What an
// import leaves pending (server away, process killed) is continued in the background on each
// later connect, chunk by chunk, until every chunk is stored or dropped.
public sealed partial class ParleyClient
{
    private const string HistoryContentType = "application/x-parley-history";

    /// <summary>The file name ending of a history chunk's ciphertext while it downloads (in the transfer folder).</summary>
    private const string HistoryBlobSuffix = ".history";

    // One history import at a time (the link's, or a resume), and inbound envelopes wait for it:
    // a message that arrives live is stored after the history it follows (conversations are in
    // store order). _historyPending is read per inbound envelope, so it is a flag, not a store query.
    private readonly Lock _historyLock = new();
    private readonly CancellationTokenSource _historyStop = new();
    private Task _historyImport = Task.CompletedTask;
    private object? _historyTriedOn;
    private Connection.Session? _historyWaitSession;
    private Task _historyWait = Task.CompletedTask;
    private volatile bool _historyPending;

    /// <summary>
    /// On the approving device: packs, encrypts and uploads this device's messages of the last
    /// <see cref="ParleyClientOptions.HistoryWindow"/> (messages still in the outbox are left out:
    /// they reach the new device as sync copies once sent). Returns the chunk pointers, oldest
    /// first, and how many messages they hold; none when the window is zero, nothing is stored, or
    /// the media store refused the upload (reported as a failure through the progress).
    /// </summary>
    private async Task<(IReadOnlyList<AttachmentPointer> Chunks, int Messages)> UploadHistoryAsync(CancellationToken cancellationToken)
    {
        var window = _options.HistoryWindow;
        var from = (_options.Time.GetUtcNow() - window).ToUnixTimeMilliseconds();
        var chunks = window <= TimeSpan.Zero ? [] : Pack(_store.MessagesSince(from).Where(m => m.Status != MessageStatus.Pending));
        // Over the limit, the newest chunks go: the oldest history matters least.
        if (chunks.Count > WireLimits.MaxHistoryChunks)
        {
            chunks = chunks[^WireLimits.MaxHistoryChunks..];
        }
        var total = chunks.Sum(c => c.Messages);
        var progress = _options.HistoryProgress;
        progress?.Report(new HistoryProgress(TransferDirection.Upload, 0, chunks.Count, 0, total, Done: chunks.Count == 0));
        var pointers = new List<AttachmentPointer>(chunks.Count);
        var done = 0;
        foreach (var (plain, messages) in chunks)
        {
            try
            {
                pointers.Add(await UploadChunkAsync(plain, pointers.Count + 1, chunks.Count, cancellationToken));
            }
            catch (Exception e) when (e is ParleyException or IOException or HttpRequestException)
            {
                // The media store refused (quota, size) or stayed away: the device is linked without history rather than not at all.
                progress?.Report(new HistoryProgress(TransferDirection.Upload, pointers.Count, chunks.Count, done, total, Done: false,
                    $"the history could not be uploaded, so the new device gets none: {e.Message}"));
                return ([], 0);
            }
            done += messages;
            progress?.Report(new HistoryProgress(TransferDirection.Upload, pointers.Count, chunks.Count, done, total, Done: pointers.Count == chunks.Count));
        }
        return (pointers, total);
    }

    /// <summary>Serializes messages into chunks of at most <see cref="WireLimits.HistoryChunkBytes"/> each, in order.</summary>
    private List<(byte[] Plain, int Messages)> Pack(IEnumerable<StoredMessage> messages)
    {
        var chunks = new List<(byte[], int)>();
        var chunk = new HistoryChunk();
        var size = 0;
        foreach (var m in messages)
        {
            if (MessageId.Parse(m.Id) is not { } id)
            {
                continue;
            }
            var entry = new HistoryMessage
            {
                MessageId = ByteString.CopyFrom(id),
                Peer = m.Peer,
                Outgoing = m.Direction == MessageDirection.Outgoing,
                Sender = m.Sender,
                SenderDevice = m.SenderDevice,
                Text = m.Text,
                SentAt = m.SentAt.ToUnixTimeMilliseconds(),
                Status = (uint)m.Status,
            };
            if (_store.FindAttachment(id) is { } attachment && attachment.Sender == m.Sender)
            {
                entry.Attachment = AttachmentPointer.Parser.ParseFrom(attachment.Pointer);
            }
            var entrySize = CodedOutputStream.ComputeMessageSize(entry) + 1;
            if (size + entrySize > WireLimits.HistoryChunkBytes && chunk.Messages.Count > 0)
            {
                chunks.Add((chunk.ToByteArray(), chunk.Messages.Count));
                chunk = new HistoryChunk();
                size = 0;
            }
            chunk.Messages.Add(entry);
            size += entrySize;
        }
        if (chunk.Messages.Count > 0)
        {
            chunks.Add((chunk.ToByteArray(), chunk.Messages.Count));
        }
        return chunks;
    }

    /// <summary>Encrypts one chunk with a fresh key and uploads it (resuming after a drop); returns its pointer.</summary>
    private async Task<AttachmentPointer> UploadChunkAsync(byte[] plain, int number, int count, CancellationToken cancellationToken)
    {
        using var key = AttachmentKey.Generate();
        byte[] blob;
        EncryptedAttachment encrypted;
        using (var input = new MemoryStream(plain, writable: false))
        using (var output = new MemoryStream())
        {
            encrypted = await AttachmentCipher.EncryptPaddedAsync(input, plain.Length, output, key, cancellationToken);
            blob = output.ToArray();
        }
        string? location = null;
        await TransferAsync($"history {number}/{count}", TransferDirection.Upload, "history", blob.Length, async meter =>
        {
            long? offset = location is null ? null : await Media.OffsetAsync(location, cancellationToken);
            if (offset is null)
            {
                location = await Media.CreateAsync(blob.Length, cancellationToken);
                offset = 0;
            }
            meter.Start(offset.Value);
            if (offset < blob.Length)
            {
                // A fresh stream per attempt: the request disposes the one it sent.
                var stream = new MemoryStream(blob, writable: false);
                await using (stream)
                {
                    offset = await Media.PatchAsync(location!, offset.Value, stream, blob.Length, meter.Report, cancellationToken);
                }
            }
            return offset.Value;
        }, cancellationToken);
        return new AttachmentPointer
        {
            Id = location!.Split('/')[^1],
            Key = ByteString.CopyFrom(key.ToArray()),
            Digest = ByteString.CopyFrom(encrypted.Digest),
            Size = (ulong)plain.Length,
            BlobSize = (ulong)encrypted.CiphertextLength,
            ContentType = HistoryContentType,
            FileName = $"history-{number}",
        };
    }

    /// <summary>
    /// On the new device, while it is linked: records the history the approving device sent as
    /// pending in <paramref name="store"/>, before the credentials are saved, so that an import cut
    /// short (or a process killed before it began) continues on a later connect.
    /// </summary>
    private static void SavePendingHistory(Storage.IClientStore store, ProvisionMessage message)
    {
        var count = Math.Min(message.HistoryChunks.Count, WireLimits.MaxHistoryChunks);
        if (count > 0)
        {
            store.SavePendingHistory([.. message.HistoryChunks.Take(count).Select(c => c.ToByteArray())], (int)Math.Min(message.HistoryMessages, int.MaxValue));
        }
    }

    /// <summary>
    /// On the new device, at the end of its link: imports the pending history
    /// (<see cref="ImportPendingHistoryAsync"/>). The link stands whatever happens to the history.
    /// </summary>
    private async Task ImportHistoryAsync(CancellationToken cancellationToken)
    {
        if (_historyPending)
        {
            await StartHistoryImport(session: null, cancellationToken).WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// A per-connection loop: continues a history import that an earlier run left pending (server
    /// away, process killed, app closed). It runs beside the connection, so connecting and sending
    /// never wait for it; inbound envelopes do (<see cref="HistoryBeforeLive"/>). An import another
    /// connection started is waited for, then this one has its own try if history is still pending.
    /// </summary>
    private async Task ResumeHistoryAsync(Connection.Session session, CancellationToken cancellationToken) =>
        await HistoryBeforeLive(session).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

    /// <summary>
    /// What an envelope pushed on <paramref name="session"/> waits for before it is handled: the
    /// import of the pending history, started once per connection when none runs, and cancelled
    /// when that connection ends (so a stalled download cannot hold later connections' envelopes).
    /// Completed when nothing is pending. A failed import completes it too (the rest waits for the
    /// next connect), so live messages are held back by at most one try.
    /// </summary>
    internal Task HistoryBeforeLive(Connection.Session session)
    {
        if (!_historyPending)
        {
            return Task.CompletedTask;
        }
        lock (_historyLock)
        {
            // One wait per connection: every envelope of it gets the same task.
            if (_historyWaitSession != session)
            {
                _historyWaitSession = session;
                _historyWait = HistoryTriedOnAsync(session);
            }
            return _historyWait;
        }
    }

    // An import another connection started is waited for; then this one has its own try if history is still pending.
    private async Task HistoryTriedOnAsync(Connection.Session session)
    {
        while (StartHistoryImport(session, CancellationToken.None) is { IsCompleted: false } running)
        {
            await running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private Task StartHistoryImport(Connection.Session? session, CancellationToken cancellationToken)
    {
        lock (_historyLock)
        {
            if (_historyStop.IsCancellationRequested)
            {
                return Task.CompletedTask; // the client is closing
            }
            if (_historyImport.IsCompleted && _historyPending && (session is null || session != _historyTriedOn))
            {
                _historyTriedOn = session;
                var scope = CancellationTokenSource.CreateLinkedTokenSource(_historyStop.Token, cancellationToken);
                session?.Connection.Completion.ContinueWith(static (_, state) => CancelQuietly((CancellationTokenSource)state!), scope,
                    CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                _historyImport = ImportPendingHistoryAsync(scope);
            }
            return _historyImport;
        }
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // That import had already ended.
        }
    }

    /// <summary>
    /// Downloads, checks and stores the pending history chunk by chunk, in order; each chunk leaves
    /// the pending list in the transaction that stores its messages, and a message already stored is
    /// not stored again. A chunk that fails its check or whose blob is gone from the server is
    /// dropped (reported with a <see cref="HistoryProgress.Failure"/>) and the import goes on; any
    /// other failure stops it, the rest staying pending for the next connect. Reports through
    /// <see cref="ParleyClientOptions.HistoryProgress"/>. Run through <see cref="StartHistoryImport"/> only.
    /// </summary>
    private async Task ImportPendingHistoryAsync(CancellationTokenSource scope)
    {
        var cancellationToken = scope.Token;
        var progress = _options.HistoryProgress;
        int count = 0, total = 0, done = 0, chunksDone = 0;
        try
        {
            await Task.Yield(); // the caller holds _historyLock
            if (_store.PendingHistory() is not { } pending)
            {
                _historyPending = false;
                DeleteHistoryDownloads();
                return;
            }
            count = pending.ChunkCount;
            total = pending.MessageCount;
            done = pending.MessagesDone;
            chunksDone = count - pending.Chunks.Count;
            progress?.Report(new HistoryProgress(TransferDirection.Download, chunksDone, count, done, total, Done: false));
            foreach (var chunk in pending.Chunks)
            {
                string? dropped = null;
                try
                {
                    var pointer = AttachmentPointer.Parser.ParseFrom(chunk.Pointer);
                    done += StoreHistory(await DownloadChunkAsync(pointer, chunk.Number, count, cancellationToken), chunk.Number);
                }
                catch (Exception e) when (IsHistoryLostForGood(e))
                {
                    // Retrying cannot bring it back: without dropping it the history would never finish.
                    _store.CompletePendingHistoryChunk(chunk.Number, 0);
                    dropped = $"history chunk {chunk.Number} of {count} was dropped: {e.Message}";
                }
                catch (Exception e) when (e is ParleyException or IOException or HttpRequestException)
                {
                    progress?.Report(new HistoryProgress(TransferDirection.Download, chunksDone, count, done, Math.Max(total, done), Done: false,
                        $"history chunk {chunk.Number} of {count} could not be fetched; the rest of the history is fetched on the next connect: {e.Message}"));
                    return;
                }
                await _store.FlushAsync(cancellationToken);
                chunksDone++;
                progress?.Report(new HistoryProgress(TransferDirection.Download, chunksDone, count, done, Math.Max(total, done), Done: chunksDone == count, dropped));
            }
            _historyPending = false;
            DeleteHistoryDownloads();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client closed, the connection ended or the link was cancelled: what is not stored stays pending.
        }
        catch (Exception e)
        {
            // Storage refused, or anything else unforeseen: the link and the connection stand, the rest stays pending.
            progress?.Report(new HistoryProgress(TransferDirection.Download, chunksDone, count, done, Math.Max(total, done), Done: false,
                $"the history import stopped; the rest is fetched on the next connect: {e.Message}"));
        }
        finally
        {
            scope.Dispose();
        }
    }

    /// <summary>Stops a running history import (the client is closing) and waits for it, so the store can close after it; none starts after.</summary>
    private async Task StopHistoryImportAsync()
    {
        Task running;
        lock (_historyLock)
        {
            _historyStop.Cancel();
            running = _historyImport;
        }
        await running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _historyStop.Dispose();
    }

    /// <summary>A chunk that failed its check, or whose blob the media store no longer has (expired, deleted).</summary>
    private static bool IsHistoryLostForGood(Exception e) => e switch
    {
        InvalidProtocolBufferException => true,
        // Only what the chunk itself or the store's 404 says: any other refusal (a proxy's 429 or 403,
        // which the media transport reports as BAD_REQUEST) may pass, so the chunk waits for the next connect.
        ParleyException p => p.ApiCode is "bad_history" or "bad_attachment" || p.Code is ErrorCode.NotFound,
        _ => false,
    };

    /// <summary>Fetches one chunk and checks its digest and MAC; throws <c>bad_history</c> for one that fails.</summary>
    private async Task<HistoryChunk> DownloadChunkAsync(AttachmentPointer pointer, int number, int count, CancellationToken cancellationToken)
    {
        if (!AttachmentFiles.IsValid(pointer) || pointer.Size > WireLimits.HistoryChunkBytes
            || pointer.BlobSize > (ulong)AttachmentCipher.CiphertextLength(AttachmentCipher.PaddedLength(WireLimits.HistoryChunkBytes)))
        {
            throw BadHistory("a malformed chunk pointer");
        }
        Directory.CreateDirectory(TransferFolder);
        var cipherPath = Path.Combine(TransferFolder, pointer.Id + HistoryBlobSuffix);
        // What came of a download cut short (the connection ended, the store went away) stays, as a
        // file download's does, and the next try asks only for the rest; a whole or lost blob goes.
        bool settled = false;
        try
        {
            await DownloadBlobAsync($"history {number}/{count}", "history", pointer, cipherPath, cancellationToken);
            settled = true;
            using var key = AttachmentKey.FromBytes(pointer.Key.Span);
            using var plain = new MemoryStream((int)pointer.Size);
            await using (var blob = new FileStream(cipherPath, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous))
            {
                await AttachmentCipher.DecryptAsync(blob, plain, key, pointer.Digest.Memory, (long)pointer.Size, cancellationToken);
            }
            return HistoryChunk.Parser.ParseFrom(plain.GetBuffer().AsSpan(0, (int)plain.Length));
        }
        catch (AttachmentIntegrityException e)
        {
            throw BadHistory($"a chunk that failed its integrity check ({e.Failure})", e);
        }
        catch (Exception e) when (IsHistoryLostForGood(e))
        {
            settled = true;
            throw;
        }
        finally
        {
            if (settled)
            {
                TryDelete(cipherPath);
            }
        }
    }

    /// <summary>Deletes what is left of history downloads once no history is pending (a chunk dropped mid-download leaves its part).</summary>
    private void DeleteHistoryDownloads()
    {
        if (!Directory.Exists(TransferFolder))
        {
            return;
        }
        foreach (var path in Directory.EnumerateFiles(TransferFolder, "*" + HistoryBlobSuffix))
        {
            TryDelete(path);
        }
    }

    /// <summary>
    /// Stores the well-formed messages of chunk <paramref name="number"/> in order and takes it off
    /// the pending history, in one transaction; returns how many messages it held.
    /// </summary>
    private int StoreHistory(HistoryChunk chunk, int number) => _store.Atomically(() =>
    {
        for (var i = 0; i < chunk.Messages.Count; i++)
        {
            var h = chunk.Messages[i];
            if (HistoryEntry(h) is not { } stored)
            {
                continue;
            }
            var id = h.MessageId.ToByteArray();
            var pointer = h.Attachment is { } a && AttachmentFiles.IsValid(a) ? a : null;
            if (_store.InsertReceived(stored, id, HistoryOrder(number, i)) && pointer is not null)
            {
                _store.AddAttachment(stored.Sender, id, pointer.ToByteArray(), null);
            }
        }
        _store.CompletePendingHistoryChunk(number, chunk.Messages.Count);
        return chunk.Messages.Count;
    });

    /// <summary>
    /// Where message <paramref name="index"/> of chunk <paramref name="number"/> goes in conversation
    /// order: below every order the store hands out itself (those count up from 1), in the bundle's
    /// order. So history imported late (a resume) still lands before what this device sent or
    /// received meanwhile. A chunk is at most 1 MiB, far fewer than 2^24 messages.
    /// </summary>
    private static long HistoryOrder(int number, int index) => HistoryOrderBase + ((long)number << 24) + index;

    private const long HistoryOrderBase = -(1L << 62);

    /// <summary>The message a history entry stands for; null for one that is malformed or claims what it cannot be.</summary>
    private StoredMessage? HistoryEntry(HistoryMessage h)
    {
        var isGroup = GroupConversation.IsGroup(h.Peer);
        if (h.MessageId.Length != WireLimits.MessageIdBytes || !(isGroup || UserName.IsValid(h.Peer)) || !UserName.IsValid(h.Sender)
            || h.Text.Length > WireLimits.MaxPayloadBytes || h.SenderDevice == 0
            // Ours only from this account; a peer's 1:1 message only from that peer.
            || (h.Outgoing ? h.Sender != Me : h.Sender == Me || (!isGroup && h.Sender != h.Peer)))
        {
            return null;
        }
        var status = (MessageStatus)h.Status;
        if (status is not (MessageStatus.Sent or MessageStatus.Delivered or MessageStatus.Read or MessageStatus.Failed))
        {
            status = h.Outgoing ? MessageStatus.Sent : MessageStatus.Delivered;
        }
        return new StoredMessage(MessageId.ToText(h.MessageId.Span), h.Peer, h.Outgoing ? MessageDirection.Outgoing : MessageDirection.Incoming,
            h.Sender, h.SenderDevice, h.Text, DateTimeOffset.FromUnixTimeMilliseconds(h.SentAt), status);
    }

    private static ParleyException BadHistory(string what, Exception? inner = null) =>
        new(ErrorCode.BadRequest, $"The linked history held {what}; that chunk was dropped.", "bad_history", inner: inner);
}
