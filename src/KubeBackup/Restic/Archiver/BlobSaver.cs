using System.Buffers;
using System.Threading.Channels;
using KubeBackup.Restic.Chunking;
using KubeBackup.Restic.Crypto;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Repository;

namespace KubeBackup.Restic.Archiver;

/// <summary>
/// The CPU-heavy half of saving: a pool of workers that compress and encrypt new blobs and hand them to the
/// <see cref="BlobWriter"/>. Producers (file readers, tree builders) hash a blob, claim it, and queue it here; the
/// queue is bounded so that readers cannot run ahead of compression and fill memory.
/// </summary>
internal sealed class BlobSaver : IAsyncDisposable
{
    private readonly ResticRepository _repository;
    private readonly BlobWriter _writer;
    private readonly Channel<Job> _queue;
    private readonly Task[] _workers;
    private readonly CancellationToken _cancellationToken;
    // Cancelled by the caller or when a worker fails: a failed worker must not leave producers waiting on a full queue.
    private readonly CancellationTokenSource _stop;
    private volatile Exception? _failure;

    private readonly record struct Job(BlobType Type, ResticId Id, byte[] Buffer, int Length);

    /// <summary>The largest buffer <see cref="Buffers"/> keeps: the chunker's largest chunk (tree blobs may be larger;
    /// those are allocated and dropped).</summary>
    private const int MaxPooledLength = ContentDefinedChunker.MaxSize;

    /// <summary>Sealed blobs up to this size get a buffer of twice their size (it stays off the large object heap).</summary>
    private const int SmallSealedLimit = 32 * 1024;

    /// <summary>A sealed blob of the chunker's largest chunk.</summary>
    private static readonly int MaxSealedBuffer = ResticRepository.MaxSealedLength(ContentDefinedChunker.MaxSize);

    public BlobSaver(ResticRepository repository, BlobWriter writer, int workers, CancellationToken cancellationToken)
    {
        _repository = repository;
        _writer = writer;
        _cancellationToken = cancellationToken;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _queue = Channel.CreateBounded<Job>(new BoundedChannelOptions(workers) { SingleReader = false, SingleWriter = false });
        // A pool of this session's own, not ArrayPool.Shared: the shared pool keeps a buffer per size per thread that
        // touched it, and a backup's buffers are megabytes, rented on one thread and returned on another, so the shared
        // pool ends up holding several times what is ever in flight. This one holds at most what was in flight at the
        // busiest moment (queue, workers, readers), and is gone with the session. Per size class it keeps what the
        // savers hold plus two: with (workers·2)+4 a standard-profile backup peaked 5-8 MiB higher at the same speed;
        // with just one per saver, 10-20 MiB lower but 8% slower with compression (more new arrays, more collections).
        Buffers = ArrayPool<byte>.Create(MaxPooledLength, maxArraysPerBucket: workers + 2);
        _workers = new Task[workers];
        for (int i = 0; i < workers; i++)
        {
            _workers[i] = Task.Run(WorkAsync, CancellationToken.None);
        }
    }

    /// <summary>Where producers rent the buffers they hand to <see cref="SaveAsync"/>.</summary>
    public ArrayPool<byte> Buffers { get; }

    /// <summary>Queues a blob unless the repository or this session already has it. Takes ownership of
    /// <paramref name="pooledBuffer"/> (rented from <see cref="Buffers"/>) in every case. Returns whether the blob is
    /// new.</summary>
    public async ValueTask<bool> SaveAsync(BlobType type, ResticId id, byte[] pooledBuffer, int length)
    {
        if (!_writer.TryReserve(id, type))
        {
            Buffers.Return(pooledBuffer);
            return false;
        }

        try
        {
            ThrowIfFailed();
            await _queue.Writer.WriteAsync(new Job(type, id, pooledBuffer, length), _stop.Token).ConfigureAwait(false);
        }
        catch
        {
            Buffers.Return(pooledBuffer);
            ThrowIfFailed();
            throw;
        }

        return true;
    }

    /// <summary>Copies a blob into a pooled buffer and queues it (for callers whose buffer is reused).</summary>
    public ValueTask<bool> SaveCopyAsync(BlobType type, ResticId id, ReadOnlySpan<byte> data)
    {
        if (_writer.Has(id, type))
        {
            return ValueTask.FromResult(false);
        }

        var buffer = Buffers.Rent(Math.Max(1, data.Length));
        data.CopyTo(buffer);
        return SaveAsync(type, id, buffer, data.Length);
    }

    private async Task WorkAsync()
    {
        // Each worker seals into a buffer of its own, reused for every blob (the writer copies the blob into its pack
        // before AddAsync returns, so the buffer is free again at once). Pooled sealed buffers would be rounded up to
        // powers of two: a 2 MiB chunk's sealed blob needs 2 MiB + 32 bytes, a 4 MiB array.
        byte[] sealedBuffer = [];
        byte[] iv = new byte[CryptoKey.IvSize], mac = new byte[CryptoKey.MacSize];
        await foreach (var job in _queue.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            try
            {
                if (_stop.IsCancellationRequested)
                {
                    continue;
                }

                if (!_repository.TriesCompression(job.Type, job.Length))
                {
                    // Stored as it is (compression off, or a repository without compression): encrypted where it lies.
                    // The chunk was hashed already and is not read again, so no sealed copy, and no chunk-sized
                    // sealing buffer, is needed.
                    var body = job.Buffer.AsMemory(0, job.Length);
                    _repository.Key.SealInPlace(body.Span, iv, mac);
                    await _writer.AddAsync(job.Type, job.Id, iv, body, mac, 0, job.Length).ConfigureAwait(false);
                    continue;
                }

                int need = ResticRepository.MaxSealedLength(job.Length);
                if (sealedBuffer.Length < need)
                {
                    // Small blobs (small files, trees) get a small buffer; the first chunk-sized one gets the size of the
                    // largest chunk at once, so a worker allocates at most one large buffer instead of a series of
                    // ever larger ones that would sit on the large object heap until a full collection.
                    sealedBuffer = GC.AllocateUninitializedArray<byte>(need <= SmallSealedLimit ? need * 2 : Math.Max(need, MaxSealedBuffer));
                }

                int n = _repository.SealBlob(job.Type, job.Buffer.AsSpan(0, job.Length), sealedBuffer, out uint ulen);
                await _writer.AddAsync(job.Type, job.Id, sealedBuffer.AsMemory(0, n), ulen, job.Length).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // The first failure (an upload's StorageException, usually) wins; the worker keeps draining the queue
                // so that no producer blocks, and producers see the failure on their next call.
                Interlocked.CompareExchange(ref _failure, ex, null);
                await _stop.CancelAsync().ConfigureAwait(false);
            }
            finally
            {
                Buffers.Return(job.Buffer);
            }
        }
    }

    /// <summary>Waits until every queued blob is in a pack (not yet uploaded: see <see cref="BlobWriter.FlushAsync"/>).</summary>
    public async Task CompleteAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_workers).ConfigureAwait(false);
        ThrowIfFailed();
    }

    private void ThrowIfFailed()
    {
        if (_failure is { } failure)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        try
        {
            await Task.WhenAll(_workers).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or KubeBackupException)
        {
            // The session failed; the error was surfaced by CompleteAsync or by the writer.
        }

        while (_queue.Reader.TryRead(out var job))
        {
            Buffers.Return(job.Buffer);
        }

        _stop.Dispose();
    }
}
