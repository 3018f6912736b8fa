using Parley.Client.Media;

namespace Parley.Client.Storage;

/// <summary>The attachments half of a client store: uploads in progress and attachments of stored messages.</summary>
internal interface IMediaStore
{
    /// <summary>The upload in progress of <paramref name="filePath"/> to <paramref name="peer"/>, or null.</summary>
    UploadState? FindUpload(string peer, string filePath);

    /// <summary>Saves (inserts or replaces) an upload's state.</summary>
    void SaveUpload(UploadState upload);

    /// <summary>Forgets an upload (it was sent, or its file changed).</summary>
    void DeleteUpload(string peer, string filePath);

    /// <summary>
    /// Records the attachment of a stored message (statement-level, so it may run inside
    /// <see cref="IClientStore.Atomically{T}"/> with the message it belongs to). A second record for the same message is ignored.
    /// </summary>
    void AddAttachment(string sender, byte[] messageId, byte[] pointer, string? savedPath);

    /// <summary>The serialized pointer and saved path of a message's attachment; null when it has none.</summary>
    (string Sender, byte[] Pointer, string? SavedPath)? FindAttachment(byte[] messageId);

    /// <summary>Records where a downloaded attachment was saved.</summary>
    void SetAttachmentPath(string sender, byte[] messageId, string savedPath);
}
