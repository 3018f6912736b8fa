namespace Parley.Client.Storage;

/// <summary>One write of a batch: puts <paramref name="Value"/> under <paramref name="Key"/> in <paramref name="Collection"/>, or deletes the key when Value is null.</summary>
public sealed record PersistedWrite(string Collection, string Key, byte[]? Value);
