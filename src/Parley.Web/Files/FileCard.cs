namespace Parley.Web.Files;

/// <summary>
/// A file in a chat as the app shows it: its name, type and size (never its key), where its
/// transfer stands, and once decrypted a <c>blob:</c> URL of the plaintext for the preview and the
/// save link. Changed only on the UI's synchronization context.
/// </summary>
public sealed class FileCard(string fileName, string contentType, long size)
{
    // Raster formats the browser decodes in an <img>; anything else (SVG, HTML...) is only offered for download.
    private static readonly string[] PreviewTypes = ["image/png", "image/jpeg", "image/gif", "image/webp"];

    /// <summary>The message that carries it; null while a sent file has no message yet (reading, encrypting).</summary>
    public string? MessageId { get; internal set; }

    /// <summary>The file's name, without folders.</summary>
    public string FileName { get; } = fileName;

    /// <summary>The MIME type the sender gave.</summary>
    public string ContentType { get; internal set; } = contentType;

    /// <summary>Plaintext length in bytes.</summary>
    public long Size { get; } = size;

    /// <summary>Where the transfer stands.</summary>
    public FilePhase Phase { get; internal set; }

    /// <summary>Bytes of the current step done (plaintext read, or ciphertext moved).</summary>
    public long Done { get; internal set; }

    /// <summary>Bytes of the current step in all.</summary>
    public long Total { get; internal set; }

    /// <summary>A <c>blob:</c> URL of the decrypted bytes once <see cref="FilePhase.Ready"/>.</summary>
    public string? Url { get; internal set; }

    /// <summary>Why the transfer failed, in words for people.</summary>
    public string? Problem { get; internal set; }

    /// <summary>Whether the app shows it inline: a raster image the browser decodes itself.</summary>
    public bool IsImage => PreviewTypes.Contains(ContentType, StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether the current step has a measurable length (reading, uploading, downloading).</summary>
    public bool Measured => Phase is FilePhase.Reading or FilePhase.Uploading or FilePhase.Downloading && Total > 0;

    /// <summary>The type the decrypted bytes are given in the page: only a previewable image keeps its own.</summary>
    public string BlobType => IsImage ? ContentType : "application/octet-stream";
}
