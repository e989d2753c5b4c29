using KubeBackup.Restic.Index;

namespace KubeBackup.Restic.Repository;

/// <summary>A file's content in a snapshot as a read-only, seekable stream: blobs are loaded (and verified) one at a
/// time as the reader reaches them, so memory stays at one blob however large the file.</summary>
internal sealed class SnapshotFileStream : Stream
{
    private readonly ResticRepository _repository;
    private readonly List<(ResticId Id, BlobLocation Location)> _blobs;
    private readonly long[] _starts;
    private readonly long _length;
    private long _position;
    private int _cachedIndex = -1;
    private byte[] _cached = [];

    public SnapshotFileStream(ResticRepository repository, List<(ResticId, BlobLocation)> blobs)
    {
        _repository = repository;
        _blobs = blobs;
        _starts = new long[blobs.Count];
        long offset = 0;
        for (int i = 0; i < blobs.Count; i++)
        {
            _starts[i] = offset;
            offset += blobs[i].Item2.PlaintextLength;
        }

        _length = offset;
    }

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override int Read(Span<byte> buffer)
    {
        var tmp = new byte[buffer.Length];
        int n = Read(tmp, 0, tmp.Length);
        tmp.AsSpan(0, n).CopyTo(buffer);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= _length || buffer.Length == 0)
        {
            return 0;
        }

        int index = Array.BinarySearch(_starts, _position);
        if (index < 0)
        {
            index = ~index - 1;
        }

        if (index != _cachedIndex)
        {
            var (id, location) = _blobs[index];
            var data = new byte[location.PlaintextLength];
            await _repository.LoadBlobAsync(id, location, data, cancellationToken).ConfigureAwait(false);
            _cached = data;
            _cachedIndex = index;
        }

        int within = (int)(_position - _starts[index]);
        int n = Math.Min(buffer.Length, _cached.Length - within);
        _cached.AsSpan(within, n).CopyTo(buffer.Span);
        _position += n;
        return n;
    }

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
}
