namespace Parley.Protocol;

/// <summary>
/// The media store's HTTP API (docs/protocol.md, "Media"): tus 1.0 uploads with the creation,
/// expiration and termination extensions, and capability downloads with Range.
/// </summary>
public static class MediaApi
{
    /// <summary>POST creates an upload (Basic auth of a device); OPTIONS tells the tus capabilities.</summary>
    public const string Uploads = "/v1/media";

    /// <summary>The tus protocol version the server speaks, sent in every tus answer and request.</summary>
    public const string TusVersion = "1.0.0";

    /// <summary>Content type of a PATCH body, as tus requires.</summary>
    public const string OffsetContentType = "application/offset+octet-stream";

    /// <summary>Length of a media id in characters: 128 random bits as lower-case hex.</summary>
    public const int IdLength = 32;

    /// <summary>The path of one upload or blob.</summary>
    public static string BlobPath(string id) => $"{Uploads}/{id}";

    /// <summary>True when <paramref name="id"/> has the shape of a media id (lower-case hex, <see cref="IdLength"/> characters).</summary>
    public static bool IsValidId(string? id) =>
        id is { Length: IdLength } && id.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');
}
