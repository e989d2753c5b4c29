using System.Buffers;
using System.Collections.Concurrent;
using KubeBackup.Restic.Chunking;
using KubeBackup.Restic.Model;

namespace KubeBackup.Restic.Archiver;

/// <summary>
/// Reads a file or stream, cuts it into content-defined chunks, hashes each chunk and queues the new ones for saving.
/// Reads go straight into the buffer of the chunk being formed; at a cut the completed buffer is handed to the saver
/// as it is (no copy) and only the bytes read past the cut move to the next chunk's buffer. A buffer starts at the
/// size still expected (most files are small, and a reader then holds kilobytes) or at <see cref="StartCapacity"/>, and
/// doubles when a chunk outgrows it, up to the chunker's MaxSize, where it always cuts. Buffers come from the saver's
/// pool, so what is in flight is a chunk-sized buffer per reader plus the saver's queue.
/// </summary>
internal sealed class ContentChunker
{
    /// <summary>Bytes requested per read. Large enough for few syscalls, small enough that the unscanned part of the
    /// buffer stays small.</summary>
    private const int ReadBlock = 1 << 20;
    private const int MaxBufferSize = ContentDefinedChunker.MaxSize;

    /// <summary>The first buffer for a chunk of a large or unknown-size source: chunks average MinSize + 1 MiB and
    /// about one in five is longer than this, which then costs one doubling (a copy of what was read).</summary>
    private const int StartCapacity = 2 << 20;

    private readonly ChunkerPolynomial _polynomial;
    private readonly BlobSaver _saver;
    private readonly ConcurrentBag<ContentDefinedChunker> _chunkers = [];

    // Sources that need megabyte buffers (large or of unknown size) are read by at most this many readers at once;
    // small files, where overlapping reads hide the latency of a cold disk, are not limited. A large file keeps the
    // savers busy on its own, so more of them at once only adds buffers.
    private readonly SemaphoreSlim _largeSources;

    public ContentChunker(ChunkerPolynomial polynomial, BlobSaver saver, int maxLargeSources = 2)
    {
        _polynomial = polynomial;
        _saver = saver;
        _largeSources = new SemaphoreSlim(Math.Max(1, maxLargeSources));
    }

    /// <summary>What reading one source gave.</summary>
    public readonly record struct Result(List<ResticId> Content, long Bytes, long NewBytes, int NewBlobs);

    /// <summary>Reads <paramref name="read"/> to its end. <paramref name="read"/> fills the buffer it is given and returns
    /// the byte count, 0 at the end.</summary>
    /// <param name="read">The source.</param>
    /// <param name="bytesRead">Told of every read.</param>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <param name="expectedLength">The source's size if known (a file's), else -1. Only sizes the first buffer: a
    /// source that turns out longer is still read to its end.</param>
    public async Task<Result> ChunkAsync(Func<Memory<byte>, CancellationToken, ValueTask<int>> read, IProgress<long>? bytesRead, CancellationToken cancellationToken, long expectedLength = -1)
    {
        bool large = expectedLength is < 0 or >= StartCapacity;
        if (large)
        {
            await _largeSources.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await ChunkSourceAsync(read, bytesRead, expectedLength, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (large)
            {
                _largeSources.Release();
            }
        }
    }

    private async Task<Result> ChunkSourceAsync(Func<Memory<byte>, CancellationToken, ValueTask<int>> read, IProgress<long>? bytesRead, long expectedLength,
        CancellationToken cancellationToken)
    {
        var pool = _saver.Buffers;
        byte[]? buffer = pool.Rent(CapacityFor(expectedLength, 0));
        var chunker = _chunkers.TryTake(out var c) ? c : new ContentDefinedChunker(_polynomial);
        chunker.Reset();
        var content = new List<ResticId>();
        long total = 0, newBytes = 0;
        int newBlobs = 0;
        int scanned = 0, filled = 0;
        try
        {
            while (true)
            {
                int capacity = Math.Min(buffer.Length, MaxBufferSize);
                if (filled == capacity)
                {
                    // A full buffer holds one incomplete chunk, shorter than MaxSize (the chunker cuts there): grow it.
                    if (capacity >= MaxBufferSize)
                    {
                        throw new InvalidOperationException("The chunker did not cut a chunk at its maximum size.");
                    }

                    var larger = pool.Rent(Math.Min(capacity * 2, MaxBufferSize));
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    pool.Return(buffer);
                    buffer = larger;
                    continue;
                }

                int n = await read(buffer.AsMemory(filled, Math.Min(ReadBlock, capacity - filled)), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    if (filled > 0)
                    {
                        var last = buffer;
                        buffer = null;
                        await EmitAsync(last, filled).ConfigureAwait(false);
                    }

                    break;
                }

                filled += n;
                total += n;
                bytesRead?.Report(n);
                while (scanned < filled)
                {
                    int cut = chunker.FindBoundary(buffer.AsSpan(scanned, filled - scanned));
                    if (cut < 0)
                    {
                        scanned = filled;
                        break;
                    }

                    // The chunk is buffer[0, end); what was read past it starts the next chunk in a buffer of its own.
                    int end = scanned + cut;
                    int tail = filled - end;
                    long stillExpected = expectedLength >= 0 ? Math.Max(0, expectedLength - (total - tail)) : -1;
                    var next = pool.Rent(CapacityFor(stillExpected, tail));
                    buffer.AsSpan(end, tail).CopyTo(next);
                    var done = buffer;
                    buffer = next;
                    filled = tail;
                    scanned = 0;
                    await EmitAsync(done, end).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            if (buffer is not null)
            {
                pool.Return(buffer);
            }

            _chunkers.Add(chunker);
        }

        return new Result(content, total, newBytes, newBlobs);

        // Takes ownership of the buffer: the saver keeps it until the blob is sealed, or returns it at once.
        async ValueTask EmitAsync(byte[] chunk, int length)
        {
            var id = ResticId.Hash(chunk.AsSpan(0, length));
            content.Add(id);
            if (await _saver.SaveAsync(BlobType.Data, id, chunk, length).ConfigureAwait(false))
            {
                newBytes += length;
                newBlobs++;
            }
        }
    }

    /// <summary>A buffer size for a chunk that starts with <paramref name="tail"/> bytes already read, when
    /// <paramref name="expected"/> more bytes (the tail included) are expected, or an unknown number (−1). One byte more
    /// than expected, so that reading the end (a read returning 0) needs no bigger buffer.</summary>
    private static int CapacityFor(long expected, int tail)
    {
        long want = expected >= 0 ? Math.Min(expected + 1, StartCapacity) : StartCapacity;
        return (int)Math.Min(Math.Max(want, tail + 1), MaxBufferSize);
    }
}
