namespace Parley.Crypto.Tests.Attachments;

/// <summary>
/// An unseekable stream that hands out at most a few bytes per read, like a network socket,
/// and counts what is written to it.
/// </summary>
internal sealed class TricklingStream(byte[] content, int maxRead) : Stream
{
    private int _position;

    public long BytesWritten { get; private set; }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        int n = Math.Min(Math.Min(count, maxRead), content.Length - _position);
        Array.Copy(content, _position, buffer, offset, n);
        _position += n;
        return n;
    }

    public override void Write(byte[] buffer, int offset, int count) => BytesWritten += count;
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
