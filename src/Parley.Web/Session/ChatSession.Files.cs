using Microsoft.AspNetCore.Components.Forms;
using Microsoft.JSInterop;
using Parley.Client;
using Parley.Client.Media;
using Parley.Protocol;
using Parley.Web.Files;

namespace Parley.Web.Session;

// Files: sending from the picker and receiving with progress, through the SDK's attachment code
// (encrypt, tus upload, pointer in an encrypted message; download, verify, decrypt). The SDK works
// on paths: in the browser they are in the runtime's in-memory file system, and every copy there
// is deleted as soon as the page holds the bytes as a blob.
public sealed partial class ChatSession
{
    private const int CopyBufferBytes = 256 * 1024;

    // Cards by message id; null marks a message known to carry no file, so it is looked up once.
    private readonly Dictionary<string, FileCard?> _files = new(StringComparer.Ordinal);
    private readonly List<(string Peer, FileCard Card)> _sending = [];
    // One upload at a time: the SDK's upload progress names no local card, and a browser tab's
    // memory holds each file two or three times while it is encrypted and sent.
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private FileCard? _uploading;
    private IJSObjectReference? _filesModule;

    /// <summary>The file <paramref name="messageId"/> carries, or null for a plain text message.</summary>
    public FileCard? FileOf(string messageId)
    {
        if (_files.TryGetValue(messageId, out var known))
        {
            return known;
        }
        if (_client?.FindAttachment(messageId) is not { } attachment)
        {
            if (_client is not null)
            {
                _files[messageId] = null;
            }
            return null;
        }
        var card = new FileCard(attachment.FileName, attachment.ContentType, attachment.Size) { MessageId = messageId };
        _files[messageId] = card;
        return card;
    }

    /// <summary>How the chat list sums up <paramref name="message"/>: its text, or the name of the file it carries when it has no caption.</summary>
    public string Summary(StoredMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.Text.Length == 0 && FileOf(message.Id) is { } file ? "📎 " + file.FileName : message.Text;
    }

    /// <summary>Files being read, encrypted or uploaded to <paramref name="peer"/>, not yet a message.</summary>
    public IReadOnlyList<FileCard> SendingTo(string peer) => [.. _sending.Where(s => s.Peer == peer).Select(s => s.Card)];

    /// <summary>
    /// Sends <paramref name="file"/> to the open chat: shown at once with a progress bar while it is
    /// read, encrypted and uploaded, then as a message with its preview. Returns a problem in words, or null.
    /// </summary>
    public async Task<string?> SendFileAsync(IBrowserFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (Open is not { } chat || _client is not { } client)
        {
            return null;
        }
        if (file.Size > WireLimits.MaxAttachmentBytes)
        {
            return $"{file.Name} is too large: a file is at most {WireLimits.MaxAttachmentBytes / (1024 * 1024)} MB.";
        }
        var contentType = string.IsNullOrWhiteSpace(file.ContentType) ? null : file.ContentType;
        var card = new FileCard(LocalName(file.Name), contentType ?? "application/octet-stream", file.Size) { Phase = FilePhase.Reading, Total = file.Size };
        _sending.Add((chat.Peer, card));
        Notify();
        var folder = Path.Combine(Path.GetTempPath(), "parley-outgoing", Guid.NewGuid().ToString("N"));
        await _sendGate.WaitAsync();
        try
        {
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, card.FileName);
            await using (var source = file.OpenReadStream(WireLimits.MaxAttachmentBytes))
            await using (var target = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous))
            {
                await CopyAsync(source, target, card);
            }
            card.Phase = FilePhase.Encrypting;
            _uploading = card;
            Notify();
            // A group file is uploaded once and its pointer sent with the group's sender key, like a group text.
            var id = chat.IsGroup
                ? await client.SendGroupFileAsync(chat.Peer, path, contentType: contentType)
                : await client.SendFileAsync(chat.Peer, path, contentType: contentType);
            card.MessageId = id;
            card.ContentType = client.FindAttachment(id)?.ContentType ?? card.ContentType;
            card.Url = await BlobUrlAsync(await File.ReadAllBytesAsync(path), card.BlobType);
            card.Phase = FilePhase.Ready;
            _files[id] = card;
            if (client.FindMessage(id) is { } stored)
            {
                chat.Add(stored);
            }
            return null;
        }
        catch (ParleyException e)
        {
            return $"{card.FileName} was not sent: {e.Message}";
        }
        catch (Exception e) when (e is IOException or HttpRequestException or JSException or ArgumentException)
        {
            return $"{card.FileName} was not sent: {e.Message}";
        }
        finally
        {
            _uploading = null;
            _sending.RemoveAll(s => s.Card == card);
            TryDeleteFolder(folder);
            _sendGate.Release();
            Notify();
        }
    }

    /// <summary>
    /// Downloads, verifies and decrypts a received file, with progress on its card; when done the
    /// card holds a blob URL (preview and save). Does nothing while it is already under way or done.
    /// </summary>
    public async Task FetchAsync(FileCard card)
    {
        ArgumentNullException.ThrowIfNull(card);
        if (_client is not { } client || card.MessageId is not { } id || card.Phase is not (FilePhase.Offered or FilePhase.Failed))
        {
            return;
        }
        card.Phase = FilePhase.Downloading;
        card.Done = 0;
        card.Total = 0;
        card.Problem = null;
        Notify();
        try
        {
            var path = await client.DownloadAttachmentAsync(id);
            card.Phase = FilePhase.Decrypting;
            Notify();
            var bytes = await File.ReadAllBytesAsync(path);
            TryDelete(path);
            card.Url = await BlobUrlAsync(bytes, card.BlobType);
            card.Phase = FilePhase.Ready;
        }
        catch (Exception e) when (e is ParleyException or IOException or HttpRequestException or JSException)
        {
            card.Phase = FilePhase.Failed;
            card.Problem = e.Message;
        }
        Notify();
    }

    // The SDK's progress: uploads belong to the one file being sent, downloads to their message's card.
    private void TransferMoved(TransferProgressEventArgs e)
    {
        var card = e.Direction == TransferDirection.Upload ? _uploading : _files.GetValueOrDefault(e.MessageId);
        if (card is null || card.Phase is FilePhase.Ready or FilePhase.Failed)
        {
            return;
        }
        card.Phase = e.Direction == TransferDirection.Upload ? FilePhase.Uploading
            : e.BytesDone >= e.TotalBytes ? FilePhase.Decrypting : FilePhase.Downloading;
        card.Done = e.BytesDone;
        card.Total = e.TotalBytes;
        Notify();
    }

    private async Task CopyAsync(Stream source, Stream target, FileCard card)
    {
        var buffer = new byte[CopyBufferBytes];
        int n;
        while ((n = await source.ReadAsync(buffer)) > 0)
        {
            await target.WriteAsync(buffer.AsMemory(0, n));
            card.Done += n;
            Notify();
        }
    }

    private async Task<string> BlobUrlAsync(byte[] bytes, string type)
    {
        _filesModule ??= await _js.InvokeAsync<IJSObjectReference>("import", "./js/files.js");
        return await _filesModule.InvokeAsync<string>("blobUrl", bytes, type);
    }

    private async Task ReleaseFilesAsync()
    {
        if (_filesModule is not null)
        {
            await _filesModule.DisposeAsync();
        }
        _sendGate.Dispose();
    }

    // The picked file's name as a bare local file name (the SDK sends the name of the path it is given).
    private static string LocalName(string name)
    {
        var invalid = Path.GetInvalidFileNameChars();
        var bare = new string([.. Path.GetFileName(name.Replace('\\', '/')).Select(c => char.IsControl(c) || invalid.Contains(c) ? '_' : c)]).Trim();
        return bare.Length == 0 || bare.All(c => c == '.') ? "file" : bare;
    }

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

    private static void TryDeleteFolder(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
