namespace Parley.Server.Media;

/// <summary>
/// A PATCH body that remembers whether reading it failed. The store reports a client that went
/// away mid-body and its own failure (a full disk) alike, as an exception; only this tells them
/// apart, so a client is told when its bytes were not stored instead of getting an empty success.
/// </summary>
internal sealed class ClientBody(Stream body) : Stream
{
    /// <summary>True once a read threw: the client went away or broke the framing.</summary>
    public bool Failed { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await body.ReadAsync(buffer, cancellationToken);
        }
        catch
        {
            Failed = true;
            throw;
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        try
        {
            return body.Read(buffer, offset, count);
        }
        catch
        {
            Failed = true;
            throw;
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
