using Parley.Client.Media;

namespace Parley.Client.Storage;

/// <summary>
/// Media state: uploads in progress (so a killed process resumes at the server's offset with the
/// same key and ciphertext) and the attachments of stored messages (pointer and saved path).
/// </summary>
internal sealed partial class ClientStore
{
    private void CreateMediaTables() => Execute("""
        CREATE TABLE IF NOT EXISTS uploads (
            peer TEXT NOT NULL,
            file_path TEXT NOT NULL,
            message_id BLOB NOT NULL,
            file_length INTEGER NOT NULL,
            file_mtime INTEGER NOT NULL,
            key BLOB NOT NULL,
            digest BLOB,
            blob_length INTEGER NOT NULL DEFAULT 0,
            location TEXT,
            PRIMARY KEY (peer, file_path));
        CREATE TABLE IF NOT EXISTS attachments (
            sender TEXT NOT NULL,
            message_id BLOB NOT NULL,
            pointer BLOB NOT NULL,
            saved_path TEXT,
            PRIMARY KEY (sender, message_id));
        CREATE INDEX IF NOT EXISTS attachments_by_id ON attachments (message_id);
        """);

    /// <summary>The upload in progress of <paramref name="filePath"/> to <paramref name="peer"/>, or null.</summary>
    public UploadState? FindUpload(string peer, string filePath)
    {
        lock (_gate)
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT message_id, file_length, file_mtime, key, digest, blob_length, location FROM uploads WHERE peer = $peer AND file_path = $path";
            cmd.Parameters.AddWithValue("$peer", peer);
            cmd.Parameters.AddWithValue("$path", filePath);
            using var r = cmd.ExecuteReader();
            if (!r.Read())
            {
                return null;
            }
            return new UploadState(peer, filePath, (byte[])r[0], r.GetInt64(1), r.GetInt64(2), (byte[])r[3],
                r.IsDBNull(4) ? null : (byte[])r[4], r.GetInt64(5), r.IsDBNull(6) ? null : r.GetString(6));
        }
    }

    /// <summary>Saves (inserts or replaces) an upload's state.</summary>
    public void SaveUpload(UploadState upload)
    {
        lock (_gate)
        {
            Execute(null, """
                INSERT OR REPLACE INTO uploads (peer, file_path, message_id, file_length, file_mtime, key, digest, blob_length, location)
                VALUES ($peer, $path, $id, $length, $mtime, $key, $digest, $blob_length, $location)
                """,
                ("$peer", upload.Peer), ("$path", upload.FilePath), ("$id", upload.MessageId), ("$length", upload.FileLength),
                ("$mtime", upload.FileModified), ("$key", upload.Key), ("$digest", (object?)upload.Digest ?? DBNull.Value),
                ("$blob_length", upload.BlobLength), ("$location", (object?)upload.Location ?? DBNull.Value));
        }
    }

    /// <summary>Forgets an upload (it was sent, or its file changed).</summary>
    public void DeleteUpload(string peer, string filePath)
    {
        lock (_gate)
        {
            Execute(null, "DELETE FROM uploads WHERE peer = $peer AND file_path = $path", ("$peer", peer), ("$path", filePath));
        }
    }

    /// <summary>
    /// Records the attachment of a stored message (statement-level, so it may run inside
    /// <see cref="Atomically{T}"/> with the message it belongs to). A second record for the same message is ignored.
    /// </summary>
    public void AddAttachment(string sender, byte[] messageId, byte[] pointer, string? savedPath)
    {
        lock (_gate)
        {
            Execute(null, "INSERT OR IGNORE INTO attachments (sender, message_id, pointer, saved_path) VALUES ($sender, $id, $pointer, $path)",
                ("$sender", sender), ("$id", messageId), ("$pointer", pointer), ("$path", (object?)savedPath ?? DBNull.Value));
        }
    }

    /// <summary>The serialized pointer and saved path of a message's attachment; null when it has none.</summary>
    public (string Sender, byte[] Pointer, string? SavedPath)? FindAttachment(byte[] messageId)
    {
        lock (_gate)
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT sender, pointer, saved_path FROM attachments WHERE message_id = $id LIMIT 1";
            cmd.Parameters.AddWithValue("$id", messageId);
            using var r = cmd.ExecuteReader();
            return r.Read() ? (r.GetString(0), (byte[])r[1], r.IsDBNull(2) ? null : r.GetString(2)) : null;
        }
    }

    /// <summary>Records where a downloaded attachment was saved.</summary>
    public void SetAttachmentPath(string sender, byte[] messageId, string savedPath)
    {
        lock (_gate)
        {
            Execute(null, "UPDATE attachments SET saved_path = $path WHERE sender = $sender AND message_id = $id",
                ("$path", savedPath), ("$sender", sender), ("$id", messageId));
        }
    }

}
