using System.Buffers;
using System.Collections.Concurrent;
using KubeBackup.Restic.Chunking;
using KubeBackup.Restic.Model;

namespace KubeBackup.Restic.Archiver;

/// <summary>
/// Reads a file or stream, cuts it into content-defined chunks, hashes each chunk and queues the new ones for saving.
/// One read buffer per reader is enough: at most one chunk is incomplete at any time, and it never exceeds the
/// chunker's MaxSize, so the buffer never needs more than that. A source known to be smaller gets a buffer of its size:
/// most files are small, and a reader then holds kilobytes instead of megabytes. Buffers come from the saver's pool.
/// </summary>
internal sealed class ContentChunker
{
    /// <summary>Bytes requested per read. Large enough for few syscalls, small enough that the unscanned part of the
    /// buffer stays small.</summary>
    private const int ReadBlock = 1 << 20;
    private const int MaxBufferSize = ContentDefinedChunker.MaxSize;

    private readonly ChunkerPolynomial _polynomial;
    private readonly BlobSaver _saver;
    private readonly ConcurrentBag<ContentDefinedChunker> _chunkers = [];

    public ContentChunker(ChunkerPolynomial polynomial, BlobSaver saver)
    {
        _polynomial = polynomial;
        _saver = saver;
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
        var pool = _saver.Buffers;
        // One byte more than expected, so that reading the end (a read returning 0) needs no bigger buffer.
        var buffer = pool.Rent(expectedLength is >= 0 and < MaxBufferSize ? (int)expectedLength + 1 : MaxBufferSize);
        var chunker = _chunkers.TryTake(out var c) ? c : new ContentDefinedChunker(_polynomial);
        chunker.Reset();
        var content = new List<ResticId>();
        long total = 0, newBytes = 0;
        int newBlobs = 0;
        int start = 0, scanned = 0, filled = 0;
        try
        {
            while (true)
            {
                int capacity = Math.Min(buffer.Length, MaxBufferSize);
                if (capacity - filled < ReadBlock && start > 0)
                {
                    // Slide the incomplete chunk to the front to make room for the next block.
                    buffer.AsSpan(start, filled - start).CopyTo(buffer);
                    filled -= start;
                    scanned -= start;
                    start = 0;
                }

                if (filled == capacity)
                {
                    // A full buffer holds one incomplete chunk, which is shorter than MaxSize (the chunker cuts there):
                    // only a buffer sized for a smaller source can be full, and it grows to the largest size once.
                    if (capacity >= MaxBufferSize)
                    {
                        throw new InvalidOperationException("The chunker did not cut a chunk at its maximum size.");
                    }

                    var larger = pool.Rent(MaxBufferSize);
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    pool.Return(buffer);
                    buffer = larger;
                    continue;
                }

                int n = await read(buffer.AsMemory(filled, Math.Min(ReadBlock, capacity - filled)), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    if (filled > start)
                    {
                        await EmitAsync(start, filled).ConfigureAwait(false);
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

                    scanned += cut;
                    await EmitAsync(start, scanned).ConfigureAwait(false);
                    start = scanned;
                }
            }
        }
        finally
        {
            pool.Return(buffer);
            _chunkers.Add(chunker);
        }

        return new Result(content, total, newBytes, newBlobs);

        async ValueTask EmitAsync(int from, int to)
        {
            var id = ResticId.Hash(buffer.AsSpan(from, to - from));
            content.Add(id);
            if (await _saver.SaveCopyAsync(BlobType.Data, id, buffer.AsSpan(from, to - from)).ConfigureAwait(false))
            {
                newBytes += to - from;
                newBlobs++;
            }
        }
    }
}
