namespace Parley.Crypto.Attachments;

/// <summary>
/// Reads exactly <c>length</c> bytes from the inner stream (any more are left unread), then zeros
/// up to <c>paddedLength</c>, so padding never needs the file in memory. An inner stream shorter
/// than declared is an error: the declared length goes into the message.
/// </summary>
internal sealed class PaddedReadStream(Stream inner, long length, long paddedLength) : Stream
{
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => paddedLength;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_position < length)
        {
            int n = inner.Read(buffer[..(int)Math.Min(buffer.Length, length - _position)]);
            return Advance(n, buffer.Length);
        }

        return Zeros(buffer);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position < length)
        {
            int n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, length - _position)], cancellationToken).ConfigureAwait(false);
            return Advance(n, buffer.Length);
        }

        return Zeros(buffer.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Advance(int read, int requested)
    {
        if (read == 0 && requested > 0)
        {
            throw new InvalidOperationException($"The plaintext ended after {_position} bytes; {length} were declared.");
        }

        _position += read;
        return read;
    }

    private int Zeros(Span<byte> buffer)
    {
        int n = (int)Math.Min(buffer.Length, paddedLength - _position);
        buffer[..n].Clear();
        _position += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
