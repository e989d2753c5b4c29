using System.Buffers;

namespace KubeBackup.Restic.Json;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over arrays rented from a pool, whose buffer can be handed on (to the blob saver)
/// without a copy. A tree of a folder with a thousand files is a few hundred kilobytes of JSON, an index file of 50,000
/// blobs eight megabytes: written into fresh arrays, each left garbage on the large object heap until a full collection
/// (a million-file backup carried hundreds of megabytes of it).
/// </summary>
internal sealed class PooledBufferWriter(ArrayPool<byte> pool, int initialCapacity) : IBufferWriter<byte>, IDisposable
{
    private byte[]? _buffer = pool.Rent(Math.Max(initialCapacity, 256));
    private int _written;

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => Buffer.AsSpan(0, _written);

    /// <summary>The bytes written so far.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => Buffer.AsMemory(0, _written);

    /// <summary>How many bytes were written.</summary>
    public int WrittenCount => _written;

    private byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(PooledBufferWriter));

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_written + count > Buffer.Length)
        {
            throw new InvalidOperationException("Advanced past the end of the buffer.");
        }

        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return Buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return Buffer.AsSpan(_written);
    }

    /// <summary>Gives up the buffer (now the caller's, to return to the pool); the writer is then unusable.</summary>
    public byte[] Detach()
    {
        var buffer = Buffer;
        _buffer = null;
        return buffer;
    }

    public void Dispose()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            pool.Return(buffer);
        }
    }

    private void Ensure(int sizeHint)
    {
        var buffer = Buffer;
        int needed = _written + Math.Max(sizeHint, 1);
        if (needed <= buffer.Length)
        {
            return;
        }

        var larger = pool.Rent(Math.Max(needed, buffer.Length * 2));
        buffer.AsSpan(0, _written).CopyTo(larger);
        pool.Return(buffer);
        _buffer = larger;
    }
}
