namespace Parley.Client.Media;

/// <summary>
/// One file being sent, as kept in the client store: the message id and attachment key chosen at
/// the start, the digest and length of the ciphertext once encrypted, and the tus upload URL once
/// created. A file whose length or modification time changed starts over.
/// </summary>
internal sealed record UploadState(
    string Peer,
    string FilePath,
    byte[] MessageId,
    long FileLength,
    long FileModified,
    byte[] Key,
    byte[]? Digest,
    long BlobLength,
    string? Location);
