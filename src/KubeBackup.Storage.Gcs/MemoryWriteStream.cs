namespace KubeBackup.Storage.Gcs;

/// <summary>A write-only stream into a fixed buffer, so downloads land in the caller's memory without a copy.
/// Writing past the end fails: a ranged download must never return more than was asked.</summary>
internal sealed class MemoryWriteStream(Memory<byte> destination) : Stream
{
    public int Written { get; private set; }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => Written;
    public override long Position { get => Written; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length > destination.Length - Written)
        {
            throw new IOException($"The download returned more than the {destination.Length} bytes asked for.");
        }

        buffer.CopyTo(destination.Span[Written..]);
        Written += buffer.Length;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
