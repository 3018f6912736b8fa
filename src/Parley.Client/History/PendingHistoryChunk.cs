namespace Parley.Client.History;

/// <summary>One chunk of history still to import: its place in the bundle (from 1) and its serialized AttachmentPointer.</summary>
internal sealed record PendingHistoryChunk(int Number, byte[] Pointer);
