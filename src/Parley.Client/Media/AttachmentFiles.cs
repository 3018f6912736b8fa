using System.Globalization;
using System.Text;
using Parley.Protocol;

namespace Parley.Client.Media;

/// <summary>
/// What an attachment pointer may hold and how its names become safe local files. The pointer
/// comes from a peer's device: it is authenticated, yet still checked like any input.
/// </summary>
internal static class AttachmentFiles
{
    /// <summary>Longest file name kept; longer ones are cut (most filesystems allow 255 bytes).</summary>
    public const int MaxFileNameLength = 120;

    /// <summary>Longest content type or caption kept, in characters.</summary>
    public const int MaxContentTypeLength = 128;

    private static readonly Dictionary<string, string> Types = new(StringComparer.OrdinalIgnoreCase)
    {
        [".jpg"] = "image/jpeg", [".jpeg"] = "image/jpeg", [".png"] = "image/png", [".gif"] = "image/gif",
        [".webp"] = "image/webp", [".heic"] = "image/heic", [".mp4"] = "video/mp4", [".mov"] = "video/quicktime",
        [".webm"] = "video/webm", [".mp3"] = "audio/mpeg", [".m4a"] = "audio/mp4", [".ogg"] = "audio/ogg",
        [".opus"] = "audio/opus", [".pdf"] = "application/pdf", [".txt"] = "text/plain", [".zip"] = "application/zip",
    };

    /// <summary>A MIME type from the file extension; application/octet-stream when unknown.</summary>
    public static string ContentTypeOf(string path) =>
        Types.GetValueOrDefault(Path.GetExtension(path), "application/octet-stream");

    /// <summary>
    /// A bare file name without folders, control, format or reserved characters; "attachment" when
    /// nothing is left. Format characters go because they change how a name looks, not what it is:
    /// a right-to-left override shows "invoice\u202Efdp.exe" as "invoiceexe.pdf", and zero-width
    /// characters make two names look alike.
    /// </summary>
    public static string SafeName(string? name)
    {
        var bare = Path.GetFileName((name ?? "").Replace('\\', '/'));
        var invalid = Path.GetInvalidFileNameChars();
        var safeChars = new StringBuilder(bare.Length);
        foreach (var rune in bare.EnumerateRunes()) // a lone surrogate comes as U+FFFD
        {
            var unsafeRune = Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format
                || (rune.IsBmp && (invalid.Contains((char)rune.Value) || rune.Value is '/' or '\\' or ':'));
            safeChars.Append(unsafeRune ? "_" : rune.ToString());
        }
        var safe = safeChars.ToString().Trim().TrimStart('.');
        if (safe.Length > MaxFileNameLength)
        {
            var extension = Path.GetExtension(safe);
            safe = extension.Length < 16 ? Cut(safe, MaxFileNameLength - extension.Length) + extension : Cut(safe, MaxFileNameLength);
        }
        return safe.Length == 0 ? "attachment" : safe;
    }

    /// <summary>The first <paramref name="length"/> chars, one fewer when that would split a surrogate pair.</summary>
    private static string Cut(string text, int length) => text[..(char.IsHighSurrogate(text[length - 1]) ? length - 1 : length)];

    /// <summary>True when a received pointer is well-formed: id, key and digest lengths, sizes within the limits.</summary>
    public static bool IsValid(AttachmentPointer pointer) =>
        MediaApi.IsValidId(pointer.Id)
        && pointer.Key.Length == Parley.Crypto.Attachments.AttachmentKey.Length
        && pointer.Digest.Length == Parley.Crypto.Attachments.AttachmentCipher.DigestLength
        && pointer.Size <= WireLimits.MaxAttachmentBytes
        && pointer.BlobSize <= WireLimits.MaxAttachmentBlobBytes
        && (long)pointer.BlobSize >= Parley.Crypto.Attachments.AttachmentCipher.CiphertextLength((long)pointer.Size)
        && pointer.ContentType.Length <= MaxContentTypeLength;

    /// <summary>A path in <paramref name="folder"/> for <paramref name="name"/> that does not exist yet: "name (2).ext" after "name.ext".</summary>
    public static string FreePath(string folder, string name)
    {
        var path = Path.Combine(folder, name);
        var stem = Path.GetFileNameWithoutExtension(name);
        var extension = Path.GetExtension(name);
        for (var n = 2; File.Exists(path); n++)
        {
            path = Path.Combine(folder, $"{stem} ({n}){extension}");
        }
        return path;
    }
}
