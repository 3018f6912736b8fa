using System.Security.Cryptography;

namespace Parley.Crypto.Tests.Attachments;

/// <summary>
/// A read-only stream of a given length whose bytes are computed from their position, so a test
/// can push a large file through without holding it; also a write sink that only hashes what it
/// receives.
/// </summary>
internal sealed class GeneratedStream : Stream
{
    private readonly long _length;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _position;

    private GeneratedStream(long length)
    {
        _length = length;
    }

    public static GeneratedStream Source(long length) => new(length);

    public static GeneratedStream Sink() => new(0);

    /// <summary>SHA-256 of every byte read from or written to this stream so far.</summary>
    public byte[] Hash() => _hash.GetCurrentHash();

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        int n = (int)Math.Min(count, _length - _position);
        for (int i = 0; i < n; i++)
        {
            long p = _position + i;
            buffer[offset + i] = (byte)((p * 2654435761L) >> 13 ^ p);
        }

        _hash.AppendData(buffer, offset, n);
        _position += n;
        return n;
    }

    public override void Write(byte[] buffer, int offset, int count) => _hash.AppendData(buffer, offset, count);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }
}
