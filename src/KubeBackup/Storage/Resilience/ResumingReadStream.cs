namespace KubeBackup.Storage.Resilience;

/// <summary>
/// A read stream over a remote range that reopens (through the resilience pipeline) where it stopped when the
/// connection breaks mid-read, and reports failures as <see cref="StorageException"/>s.
/// </summary>
internal sealed class ResumingReadStream : Stream
{
    private readonly StorageResiliencePipeline _pipeline;
    private readonly string _operation;
    private readonly Func<long, long, CancellationToken, ValueTask<Stream>> _open;
    private readonly long _offset;
    private readonly long _length;
    private readonly int _maxResumes;
    private Stream _current;
    private long _read;
    private int _resumes;

    public ResumingReadStream(StorageResiliencePipeline pipeline, string operation, Stream first, long offset, long length,
        Func<long, long, CancellationToken, ValueTask<Stream>> open, int maxResumes)
    {
        _pipeline = pipeline;
        _operation = operation;
        _current = first;
        _offset = offset;
        _length = length;
        _open = open;
        _maxResumes = maxResumes;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (_length >= 0 && _read >= _length)
            {
                return 0;
            }

            var slice = _length >= 0 ? buffer[..(int)Math.Min(buffer.Length, _length - _read)] : buffer;
            try
            {
                int n = await _current.ReadAsync(slice, cancellationToken).ConfigureAwait(false);
                _read += n;
                return n;
            }
            catch (Exception ex) when (ex is not OperationCanceledException && StorageResiliencePipeline.IsNetworkFailure(ex))
            {
                if (++_resumes > _maxResumes)
                {
                    throw new TransientStorageException($"{_operation}: the connection broke while reading, {_resumes} times: {ex.Message}", ex);
                }

                await _current.DisposeAsync().ConfigureAwait(false);
                long remaining = _length >= 0 ? _length - _read : -1;
                _current = await _pipeline.OpenReadAsyncRaw(_operation, _offset + _read, remaining, _open, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _current.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _current.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
