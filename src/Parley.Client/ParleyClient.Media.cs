using Google.Protobuf;
using Parley.Client.Groups;
using Parley.Client.Media;
using Parley.Crypto.Attachments;
using Parley.Protocol;

namespace Parley.Client;

/// <summary>
/// Attachments (docs/protocol.md, "Media"): a file is encrypted with a fresh key into a ciphertext
/// file in the profile, uploaded with tus (resuming at the server's offset, across network drops
/// and process restarts: the state is in the client store), then a message carrying the pointer
/// (id, key, digest, sizes, type, name, caption) goes through the ordinary encrypted outbox.
/// Receivers download with Range resume, verify the digest and MAC, and only then place the file.
/// </summary>
public sealed partial class ParleyClient
{
    /// <summary>Consecutive failed attempts without any progress before a transfer gives up.</summary>
    private const int TransferAttempts = 8;

    private MediaTransport? _media;

    /// <summary>Progress of an attachment upload or download (bytes done, total, rate).</summary>
    public event EventHandler<TransferProgressEventArgs>? TransferProgress;

    private string MediaFolder => Path.Combine(ProfileDirectory, "media");

    // Ciphertext files: uploads waiting to finish, downloads waiting to be verified.
    private string TransferFolder => Path.Combine(MediaFolder, ".transfers");

    private MediaTransport Media
    {
        get
        {
            lock (_gate)
            {
                return _media ??= new MediaTransport(Credentials);
            }
        }
    }

    /// <summary>
    /// Sends a file to every device of <paramref name="peer"/> (and this account's other devices):
    /// encrypts it with a fresh key, uploads the ciphertext to the media store, then sends the
    /// pointer in an encrypted message; returns its id once the server has it (SENT). Called again
    /// for the same peer and path after a failure or a killed process, it continues the same
    /// upload from the server's offset. Throws <see cref="ParleyException"/> when the server
    /// refuses (<c>too_large</c>, <c>quota_exceeded</c>, <c>too_many_uploads</c>) or stays unreachable.
    /// </summary>
    public Task<string> SendFileAsync(string peer, string path, string? caption = null, string? contentType = null,
        CancellationToken cancellationToken = default)
    {
        if (!UserName.IsValid(peer) || peer == Me)
        {
            throw new ArgumentException("Not a user name of another user.", nameof(peer));
        }
        return SendAttachmentAsync(peer, path, caption, contentType, pointer => new Content { Attachment = pointer }, cancellationToken);
    }

    /// <summary>
    /// Sends a file to every member of the group (and this account's other devices): the file is
    /// encrypted with a fresh key and uploaded once, then the pointer goes out as a group message
    /// encrypted once with this device's sender key, through the same outbox, ticks and dedup as
    /// <see cref="SendGroupTextAsync"/>; returns its id once the server has it (SENT). Resumes like
    /// <see cref="SendFileAsync"/>. Throws <see cref="ArgumentException"/> for a bad group id,
    /// <see cref="ParleyException"/> NOT_A_MEMBER when this account is not in the group, and the
    /// media store's refusals as <see cref="SendFileAsync"/> does.
    /// </summary>
    public Task<string> SendGroupFileAsync(string groupId, string path, string? caption = null, string? contentType = null,
        CancellationToken cancellationToken = default)
    {
        var group = RequireGroupId(groupId);
        RequireMember(group);
        return SendAttachmentAsync(GroupConversation.Of(group), path, caption, contentType,
            pointer => new Content { Group = new GroupContent { GroupId = ByteString.CopyFrom(group), Attachment = pointer } }, cancellationToken);
    }

    // The one send path for 1:1 and group files: encrypt and upload (resumable, keyed by conversation
    // and path), then the pointer, wrapped for the conversation, into the outbox with its attachment row.
    private async Task<string> SendAttachmentAsync(string conversation, string path, string? caption, string? contentType,
        Func<AttachmentPointer, Content> wrap, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var file = new FileInfo(Path.GetFullPath(path));
        if (!file.Exists)
        {
            throw new FileNotFoundException($"No such file: {file.FullName}", file.FullName);
        }
        if (file.Length > WireLimits.MaxAttachmentBytes)
        {
            throw new ParleyException(ErrorCode.TooLarge, $"A file is at most {WireLimits.MaxAttachmentBytes} bytes.", "too_large");
        }
        var upload = await PrepareUploadAsync(conversation, file, cancellationToken);
        var idText = MessageId.ToText(upload.MessageId);
        var name = AttachmentFiles.SafeName(file.Name);
        if (_store.Find(upload.MessageId) is null)
        {
            upload = await UploadAsync(upload, name, cancellationToken);
            var pointer = new AttachmentPointer
            {
                Id = upload.Location!.Split('/')[^1],
                Key = ByteString.CopyFrom(upload.Key),
                Digest = ByteString.CopyFrom(upload.Digest),
                Size = (ulong)upload.FileLength,
                BlobSize = (ulong)upload.BlobLength,
                ContentType = contentType ?? AttachmentFiles.ContentTypeOf(name),
                FileName = name,
                Caption = caption ?? "",
            };
            var content = wrap(pointer).ToByteArray();
            _store.AddOutgoing(upload.MessageId, conversation, Me, Credentials.DeviceId, pointer.Caption, _options.Time.GetUtcNow().ToUnixTimeMilliseconds(), content);
            _store.AddAttachment(Me, upload.MessageId, pointer.ToByteArray(), file.FullName);
        }
        // The pointer is in the outbox (durable); the ciphertext is on the server: local upload state can go.
        _store.DeleteUpload(conversation, file.FullName);
        TryDelete(CipherPath(upload.MessageId));
        return await _outbox.WaitSentAsync(idText, cancellationToken);
    }

    /// <summary>The attachment of a stored message, or null when it has none.</summary>
    public Attachment? FindAttachment(string messageId)
    {
        if (MessageId.Parse(messageId) is not { } id || _store.FindAttachment(id) is not { } row)
        {
            return null;
        }
        var pointer = AttachmentPointer.Parser.ParseFrom(row.Pointer);
        return new Attachment(messageId, AttachmentFiles.SafeName(pointer.FileName), pointer.ContentType, (long)pointer.Size, pointer.Caption, row.SavedPath);
    }

    /// <summary>
    /// Downloads, verifies and decrypts a received attachment into <paramref name="mediaDirectory"/>
    /// (default: the profile's <c>media/</c> folder) and returns the saved path; an interrupted
    /// download continues where it stopped. A blob whose MAC or digest does not match throws
    /// <see cref="ParleyException"/> with ApiCode <c>bad_attachment</c> and leaves no file behind.
    /// Returns the saved path at once when it was already downloaded.
    /// </summary>
    public async Task<string> DownloadAttachmentAsync(string messageId, string? mediaDirectory = null, CancellationToken cancellationToken = default)
    {
        var id = MessageId.Parse(messageId) ?? throw new ArgumentException("Not a message id.", nameof(messageId));
        var row = _store.FindAttachment(id) ?? throw new ArgumentException("That message has no attachment.", nameof(messageId));
        if (row.SavedPath is { } saved && File.Exists(saved))
        {
            return saved;
        }
        var pointer = AttachmentPointer.Parser.ParseFrom(row.Pointer);
        var name = AttachmentFiles.SafeName(pointer.FileName);
        var folder = Path.GetFullPath(mediaDirectory ?? MediaFolder);
        Directory.CreateDirectory(folder);
        Directory.CreateDirectory(TransferFolder);
        var cipherPath = Path.Combine(TransferFolder, pointer.Id + ".download");
        await DownloadBlobAsync(messageId, name, pointer, cipherPath, cancellationToken);

        // Verify and decrypt beside the destination, then move into place: no unverified byte ever has the final name.
        var temp = Path.Combine(folder, $".{Guid.NewGuid():N}.part");
        try
        {
            using var key = AttachmentKey.FromBytes(pointer.Key.Span);
            await using (var blob = new FileStream(cipherPath, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous | FileOptions.SequentialScan))
            await using (var plain = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous))
            {
                await AttachmentCipher.DecryptAsync(blob, plain, key, pointer.Digest.Memory, (long)pointer.Size, cancellationToken);
            }
        }
        catch (AttachmentIntegrityException e)
        {
            TryDelete(temp);
            TryDelete(cipherPath);
            throw new ParleyException(ErrorCode.BadRequest, $"The attachment failed its integrity check ({e.Failure}); nothing was saved.", "bad_attachment", inner: e);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        var final = AttachmentFiles.FreePath(folder, name);
        File.Move(temp, final);
        _store.SetAttachmentPath(row.Sender, id, final);
        TryDelete(cipherPath);
        return final;
    }

    /// <summary>
    /// The text a received <see cref="Content"/> is stored with, and for an attachment its checked
    /// pointer; null when the content is nothing this build shows.
    /// </summary>
    internal static string? ShownText(Content content, out AttachmentPointer? pointer)
    {
        pointer = null;
        switch (content.BodyCase)
        {
            case Content.BodyOneofCase.Text:
                return content.Text.Text;
            case Content.BodyOneofCase.Attachment when AttachmentFiles.IsValid(content.Attachment):
                pointer = content.Attachment;
                return pointer.Caption;
            default:
                return null;
        }
    }

    /// <summary>Stores a received message and, with it, its attachment; true when it was new.</summary>
    private bool StoreReceived(StoredMessage message, byte[] id, AttachmentPointer? pointer)
    {
        var isNew = _store.InsertReceived(message, id);
        if (isNew && pointer is not null)
        {
            _store.AddAttachment(message.Sender, id, pointer.ToByteArray(), null);
        }
        return isNew;
    }

    private string CipherPath(byte[] messageId) => Path.Combine(TransferFolder, MessageId.ToText(messageId) + ".upload");

    // The stored upload of this file to this peer, or a new one (fresh message id and key); the
    // ciphertext is (re)made when it is not on disk and nothing of it has been uploaded yet.
    private async Task<UploadState> PrepareUploadAsync(string peer, FileInfo file, CancellationToken cancellationToken)
    {
        var modified = file.LastWriteTimeUtc.Ticks;
        var upload = _store.FindUpload(peer, file.FullName);
        if (upload is not null && (upload.FileLength != file.Length || upload.FileModified != modified
            || (upload.Digest is not null && !File.Exists(CipherPath(upload.MessageId)) && _store.Find(upload.MessageId) is null)))
        {
            // The file changed, or its ciphertext is gone: the old upload cannot be continued.
            TryDelete(CipherPath(upload.MessageId));
            upload = null;
        }
        if (upload is null)
        {
            using var fresh = AttachmentKey.Generate();
            upload = new UploadState(peer, file.FullName, MessageId.New(_options.Time), file.Length, modified, fresh.ToArray(), null, 0, null);
            // Saved before encrypting: a process killed from here on continues this send, with this id.
            _store.SaveUpload(upload);
        }
        if (upload.Digest is null)
        {
            Directory.CreateDirectory(TransferFolder);
            using var key = AttachmentKey.FromBytes(upload.Key);
            var cipherPath = CipherPath(upload.MessageId);
            EncryptedAttachment encrypted;
            await using (var plain = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous | FileOptions.SequentialScan))
            await using (var cipher = new FileStream(cipherPath, FileMode.Create, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous))
            {
                encrypted = await AttachmentCipher.EncryptPaddedAsync(plain, file.Length, cipher, key, cancellationToken);
            }
            upload = upload with { Digest = encrypted.Digest, BlobLength = encrypted.CiphertextLength, Location = null };
            _store.SaveUpload(upload);
        }
        return upload;
    }

    // Creates the tus upload when needed and sends the ciphertext until the server holds all of it.
    private async Task<UploadState> UploadAsync(UploadState upload, string name, CancellationToken cancellationToken)
    {
        var idText = MessageId.ToText(upload.MessageId);
        var current = upload;
        await TransferAsync(idText, TransferDirection.Upload, name, upload.BlobLength, async meter =>
        {
            long? offset = current.Location is null ? null : await Media.OffsetAsync(current.Location, cancellationToken);
            if (offset is null)
            {
                // Never created, or expired on the server: start a new upload of the same ciphertext.
                current = current with { Location = await Media.CreateAsync(current.BlobLength, cancellationToken) };
                _store.SaveUpload(current);
                offset = 0;
            }
            meter.Start(offset.Value);
            if (offset < current.BlobLength)
            {
                await using var cipher = new FileStream(CipherPath(current.MessageId), FileMode.Open, FileAccess.Read, FileShare.Read, 0,
                    FileOptions.Asynchronous | FileOptions.SequentialScan);
                offset = await Media.PatchAsync(current.Location!, offset.Value, cipher, current.BlobLength, meter.Report, cancellationToken);
            }
            return offset.Value;
        }, cancellationToken);
        return current;
    }

    // Runs attempts until one reaches the end; an attempt that fails with a network error or a
    // transient refusal is retried after a growing pause, and a run of failed attempts gives up.
    // Each attempt calls meter.Start at its offset and returns how far it got.
    /// <summary>
    /// Downloads <paramref name="pointer"/>'s blob into <paramref name="cipherPath"/>, resuming from what an
    /// earlier attempt left there, with progress reported as <paramref name="transferId"/>.
    /// </summary>
    private Task DownloadBlobAsync(string transferId, string name, AttachmentPointer pointer, string cipherPath, CancellationToken cancellationToken)
    {
        var blobLength = (long)pointer.BlobSize;
        return TransferAsync(transferId, TransferDirection.Download, name, blobLength, async meter =>
        {
            await using var cipher = new FileStream(cipherPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 0, FileOptions.Asynchronous);
            meter.Start(cipher.Length);
            if (cipher.Length < blobLength)
            {
                await Media.DownloadAsync(pointer.Id, cipher, blobLength, meter.Report, cancellationToken);
            }
            return cipher.Length;
        }, cancellationToken);
    }

    private async Task TransferAsync(string messageId, TransferDirection direction, string name, long total,
        Func<TransferMeter, Task<long>> attempt, CancellationToken cancellationToken)
    {
        var meter = new TransferMeter(messageId, direction, name, total, args => Raise(TransferProgress, args));
        var failures = 0;
        while (true)
        {
            try
            {
                var reached = await attempt(meter);
                if (reached >= total)
                {
                    meter.Report(reached);
                    return;
                }
                throw new IOException("The transfer ended early.");
            }
            catch (Exception e) when (IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                failures++;
                if (failures >= TransferAttempts)
                {
                    throw e as ParleyException ?? new ParleyException(ErrorCode.Unavailable, $"The media store stayed unreachable: {e.Message}", "unavailable", inner: e);
                }
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(100 * (1 << failures), 10_000)), _options.Time, cancellationToken);
            }
        }
    }

    private static bool IsTransient(Exception e) => e switch
    {
        ParleyException p => p.Code is ErrorCode.Internal or ErrorCode.Unavailable || p.ApiCode is "offset_mismatch" or "upload_busy",
        HttpRequestException or IOException => true,
        OperationCanceledException => false,
        _ => false,
    };

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
