namespace Parley.Client.Media;

/// <summary>The file a message carries, as this device knows it (never the key).</summary>
/// <param name="MessageId">The message it belongs to.</param>
/// <param name="FileName">The file's name, made safe for this device's filesystem.</param>
/// <param name="ContentType">MIME type the sender gave.</param>
/// <param name="Size">Plaintext length in bytes.</param>
/// <param name="Caption">Text the sender attached; empty when none.</param>
/// <param name="SavedPath">Where the file is on this device: the sent file, or the verified download; null until downloaded.</param>
public sealed record Attachment(string MessageId, string FileName, string ContentType, long Size, string Caption, string? SavedPath);
