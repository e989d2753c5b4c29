using System.Buffers;
using System.Collections.Concurrent;
using KubeBackup.Restic.Chunking;
using KubeBackup.Restic.Model;

namespace KubeBackup.Restic.Archiver;

/// <summary>
/// Reads a file or stream, cuts it into content-defined chunks, hashes each chunk and queues the new ones for saving.
/// One read buffer per reader (MaxSize plus one read block) is enough: at most one chunk is incomplete at any time,
/// and it never exceeds MaxSize. Reusable; buffers and chunkers are pooled across files.
/// </summary>
internal sealed class ContentChunker
{
    /// <summary>Bytes requested per read. Large enough for few syscalls, small enough that the unscanned part of the
    /// buffer stays small.</summary>
    private const int ReadBlock = 1 << 20;
    private const int BufferSize = ContentDefinedChunker.MaxSize + ReadBlock;

    private readonly ChunkerPolynomial _polynomial;
    private readonly BlobSaver _saver;
    private readonly ConcurrentBag<byte[]> _buffers = [];
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
    public async Task<Result> ChunkAsync(Func<Memory<byte>, CancellationToken, ValueTask<int>> read, IProgress<long>? bytesRead, CancellationToken cancellationToken)
    {
        var buffer = _buffers.TryTake(out var b) ? b : new byte[BufferSize];
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
                if (BufferSize - filled < ReadBlock)
                {
                    // Slide the incomplete chunk to the front to make room for the next block.
                    buffer.AsSpan(start, filled - start).CopyTo(buffer);
                    filled -= start;
                    scanned -= start;
                    start = 0;
                }

                int n = await read(buffer.AsMemory(filled, Math.Min(ReadBlock, BufferSize - filled)), cancellationToken).ConfigureAwait(false);
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
            _buffers.Add(buffer);
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
