namespace KubeBackup.Storage.Resilience;

/// <summary>
/// A seekable, read-only window [start, start + length) of another seekable stream. Uploads get one per attempt:
/// SDKs rewind, measure and dispose the stream they are given, and none of that may touch the caller's stream
/// beyond its position.
/// </summary>
internal sealed class ContentView : Stream
{
    private readonly Stream _inner;
    private readonly long _start;
    private readonly long _length;
    private long _position;

    public ContentView(Stream inner, long start, long length)
    {
        _inner = inner;
        _start = start;
        _length = length;
    }

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int wanted = (int)Math.Min(buffer.Length, Math.Max(0, _length - _position));
        if (wanted == 0)
        {
            return 0;
        }

        _inner.Position = _start + _position;
        int n = _inner.Read(buffer[..wanted]);
        _position += n;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int wanted = (int)Math.Min(buffer.Length, Math.Max(0, _length - _position));
        if (wanted == 0)
        {
            return 0;
        }

        _inner.Position = _start + _position;
        int n = await _inner.ReadAsync(buffer[..wanted], cancellationToken).ConfigureAwait(false);
        _position += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => _length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        return _position;
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    // Disposing the view leaves the caller's stream open: the caller owns it and may need it for the next attempt.
}
