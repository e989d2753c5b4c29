using System.Collections.Concurrent;
using System.Threading.Channels;
using KubeBackup.Restic.Index;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Packs;
using KubeBackup.Storage;
using Microsoft.Extensions.Logging;

namespace KubeBackup.Restic.Repository;

/// <summary>
/// Writes new blobs into a repository for one session (a backup, a copy): deduplicates against the index and against
/// blobs already queued, appends sealed blobs to open packs (one per concurrent writer and type, so writers append and
/// hash in parallel instead of queueing on one pack), uploads full packs in the background (a
/// bounded queue, so a slow backend slows the producers instead of filling the disk), and writes index files for
/// what was uploaded. Packs are uploaded before the index that names them, and the caller writes its snapshot only
/// after <see cref="FlushAsync"/> — restic's ordering, so a crash at any moment leaves a valid repository.
/// </summary>
internal sealed class BlobWriter : IAsyncDisposable
{
    /// <summary>restic's writer starts a new index file after this many blobs.</summary>
    private const int MaxBlobsPerIndexFile = 50_000;

    private readonly ResticRepository _repository;
    private readonly bool _updateIndex;
    private readonly string _tempDirectory;
    private readonly ConcurrentDictionary<BlobKey, byte> _queued = new();
    private readonly Lock _packLock = new();
    // Packs not full yet and not being appended to, by type. A writer takes one (or starts one), appends outside the
    // lock and puts it back, so there are at most as many open packs as concurrent writers.
    private readonly Stack<PackWriter>[] _idle = [new(), new()];
    private readonly IStagingBackend? _staging;
    private readonly Channel<PackWriter> _uploads;
    private readonly Task[] _uploaders;
    private readonly CancellationTokenSource _abort;
    private readonly Lock _indexLock = new();
    private readonly List<IndexPack> _unindexed = [];
    private readonly SemaphoreSlim _indexWrite = new(1, 1);
    private int _unindexedBlobs;
    private volatile Exception? _failure;
    private long _packedBytes;
    private long _blobsAdded;
    private long _plainBytesAdded;
    private int _packsUploaded;

    /// <param name="repository">The repository to write into.</param>
    /// <param name="cancellationToken">Stops the uploads.</param>
    /// <param name="updateIndex">Whether uploaded packs join the repository's in-memory index. Prune turns it off: it
    /// rewrites the index files itself and need not hold a million entries it will never look up.</param>
    public BlobWriter(ResticRepository repository, CancellationToken cancellationToken, bool updateIndex = true)
    {
        _repository = repository;
        _updateIndex = updateIndex;
        _tempDirectory = repository.Options.TempDirectory ?? Path.GetTempPath();
        // An explicit temp folder is the user's choice of where staging goes; otherwise stage next to the repository
        // when it is local, and skip the copy.
        _staging = repository.Options.TempDirectory is null ? repository.Backend as IStagingBackend : null;
        int uploaders = repository.Options.UploadConcurrency ?? Math.Clamp(repository.Backend.MaxConcurrency, 1, 8);
        _uploads = Channel.CreateBounded<PackWriter>(new BoundedChannelOptions(uploaders) { SingleReader = false, SingleWriter = false });
        _abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _uploaders = new Task[uploaders];
        for (int i = 0; i < uploaders; i++)
        {
            _uploaders[i] = Task.Run(UploadLoopAsync, CancellationToken.None);
        }
    }

    /// <summary>Stored bytes (sealed, after compression) of the blobs this session added.</summary>
    public long PackedBytes => Interlocked.Read(ref _packedBytes);

    /// <summary>Plaintext bytes of the blobs this session added.</summary>
    public long PlainBytesAdded => Interlocked.Read(ref _plainBytesAdded);

    /// <summary>How many blobs this session added.</summary>
    public long BlobsAdded => Interlocked.Read(ref _blobsAdded);

    /// <summary>Data and tree blobs added, by type.</summary>
    public long[] BlobsAddedByType { get; } = new long[2];

    /// <summary>How many packs were uploaded.</summary>
    public int PacksUploaded => Volatile.Read(ref _packsUploaded);

    /// <summary>Claims a blob for this session. False if the repository or this session already has it: then the caller
    /// must not add it.</summary>
    public bool TryReserve(ResticId id, BlobType type)
    {
        var key = new BlobKey(id, type);
        if (_repository.Index.Contains(id, type) || !_queued.TryAdd(key, 0))
        {
            return false;
        }

        if (_updateIndex && _repository.Index.Contains(id, type))
        {
            // Its pack was indexed (and its entry dropped from the queue) between the two looks: not new after all.
            _queued.TryRemove(key, out _);
            return false;
        }

        return true;
    }

    /// <summary>Whether the blob is in the repository or queued in this session.</summary>
    public bool Has(ResticId id, BlobType type) => _queued.ContainsKey(new BlobKey(id, type)) || _repository.Index.Contains(id, type);

    /// <summary>Appends a sealed blob reserved with <see cref="TryReserve"/>. Waits when the upload queue is full.</summary>
    public ValueTask AddAsync(BlobType type, ResticId id, ReadOnlyMemory<byte> sealedBlob, uint uncompressedLength, int plaintextLength) =>
        AddAsync(type, id, default, sealedBlob, default, uncompressedLength, plaintextLength);

    /// <summary>As the other overload, for a blob sealed in three parts (IV, ciphertext, MAC), each where it lies.</summary>
    public async ValueTask AddAsync(BlobType type, ResticId id, ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, ReadOnlyMemory<byte> tail,
        uint uncompressedLength, int plaintextLength)
    {
        ThrowIfFailed();
        PackWriter? writer;
        lock (_packLock)
        {
            _idle[(int)type].TryPop(out writer);
        }

        writer ??= new PackWriter(type, _tempDirectory, _staging?.CreateStagingFile());
        PackWriter? full = null;
        try
        {
            writer.Add(id, head.Span, body.Span, tail.Span, uncompressedLength);
        }
        catch
        {
            writer.Dispose();
            throw;
        }

        if (writer.Size >= _repository.Options.PackSize)
        {
            full = writer;
        }
        else
        {
            lock (_packLock)
            {
                _idle[(int)type].Push(writer);
            }
        }

        Interlocked.Add(ref _packedBytes, head.Length + body.Length + tail.Length);
        Interlocked.Add(ref _plainBytesAdded, plaintextLength);
        Interlocked.Increment(ref _blobsAdded);
        Interlocked.Increment(ref BlobsAddedByType[(int)type]);
        if (full is not null)
        {
            await EnqueueAsync(full).ConfigureAwait(false);
        }
    }

    private async ValueTask EnqueueAsync(PackWriter pack)
    {
        try
        {
            await _uploads.Writer.WriteAsync(pack, _abort.Token).ConfigureAwait(false);
        }
        catch
        {
            pack.Dispose();
            ThrowIfFailed();
            throw;
        }
    }

    private async Task UploadLoopAsync()
    {
        await foreach (var pack in _uploads.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            using (pack)
            {
                if (_failure is not null || _abort.IsCancellationRequested)
                {
                    continue;
                }

                try
                {
                    await UploadAsync(pack).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    // The first failure wins; producers see it on their next call and stop.
                    Interlocked.CompareExchange(ref _failure, ex, null);
                    await _abort.CancelAsync().ConfigureAwait(false);
                }
            }
        }
    }

    private async Task UploadAsync(PackWriter pack)
    {
        var id = pack.Finish(_repository.Key);
        var handle = new FileHandle(FileType.Pack, id.ToString());
        if (pack.IsStagedInBackend)
        {
            _abort.Token.ThrowIfCancellationRequested();
            _staging!.CommitStagingFile(pack.StagingFile, handle);
        }
        else
        {
            await _repository.Backend.SaveAsync(handle, pack.Content, _abort.Token).ConfigureAwait(false);
        }
        var blobs = pack.Blobs.Select(b => b.ToIndexBlob()).ToList();
        if (_updateIndex)
        {
            _repository.Index.AddPack(id, blobs);
            // Indexed now, so the index answers for these blobs: the queue only needs what is still in flight (it
            // held every blob of the session, a hundred megabytes for a million small files).
            foreach (var blob in blobs)
            {
                _queued.TryRemove(new BlobKey(blob.Id, blob.Type), out _);
            }
        }
        Interlocked.Increment(ref _packsUploaded);
        _repository.Logger.LogDebug("Uploaded pack {PackId} ({Blobs} {Type} blobs, {Bytes} bytes)", id.ToShortString(), blobs.Count, pack.Type, pack.FileSize);

        bool writeIndex;
        lock (_indexLock)
        {
            _unindexed.Add(new IndexPack { Id = id, Blobs = blobs });
            _unindexedBlobs += blobs.Count;
            writeIndex = _unindexedBlobs >= MaxBlobsPerIndexFile;
        }

        if (writeIndex)
        {
            // Long backups index as they go, so memory stays bounded and a crash loses little.
            await WriteIndexAsync(_abort.Token).ConfigureAwait(false);
        }
    }

    /// <summary>Awaited before every index file is written. A backup whose lock is still being confirmed (see
    /// <see cref="Locking.RepositoryLock.AcquireSharedAsync"/>) may upload packs, which a prune that won the race
    /// deletes as unreferenced leftovers, but must not write an index naming them.</summary>
    internal Func<CancellationToken, Task>? IndexGate { get; set; }

    private async Task WriteIndexAsync(CancellationToken cancellationToken)
    {
        if (IndexGate is { } gate)
        {
            await gate(cancellationToken).ConfigureAwait(false);
        }

        await _indexWrite.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            List<IndexPack> packs;
            lock (_indexLock)
            {
                packs = [.. _unindexed];
                _unindexed.Clear();
                _unindexedBlobs = 0;
            }

            if (packs.Count > 0)
            {
                await _repository.SaveIndexAsync(packs, MaxBlobsPerIndexFile, cancellationToken, _updateIndex).ConfigureAwait(false);
            }
        }
        finally
        {
            _indexWrite.Release();
        }
    }

    private void ThrowIfFailed()
    {
        if (_failure is { } failure)
        {
            // Rethrow the upload's own exception (a typed StorageException, usually) with its original stack.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    /// <summary>Finishes the open packs, waits for every upload and writes the index for them. After this returns, every
    /// blob added is durable and indexed, and a snapshot may refer to it.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        ThrowIfFailed();
        List<PackWriter> open;
        lock (_packLock)
        {
            open = [.. _idle.SelectMany(s => s)];
            Array.ForEach(_idle, s => s.Clear());
        }

        foreach (var pack in open)
        {
            await EnqueueAsync(pack).ConfigureAwait(false);
        }

        _uploads.Writer.TryComplete();
        await Task.WhenAll(_uploaders).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfFailed();
        await WriteIndexAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the uploads and discards what was not uploaded (temp files are deleted). Packs already uploaded
    /// stay, unreferenced, until a prune removes them; that is harmless.</summary>
    public async ValueTask DisposeAsync()
    {
        _uploads.Writer.TryComplete();
        if (!_abort.IsCancellationRequested && _uploaders.Any(t => !t.IsCompleted))
        {
            // Normal end after FlushAsync: nothing is running. Abnormal end: stop uploading.
            await _abort.CancelAsync().ConfigureAwait(false);
        }

        try
        {
            await Task.WhenAll(_uploaders).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or KubeBackupException)
        {
        }

        lock (_packLock)
        {
            foreach (var pack in _idle.SelectMany(s => s))
            {
                pack.Dispose();
            }

            Array.ForEach(_idle, s => s.Clear());
        }

        while (_uploads.Reader.TryRead(out var pack))
        {
            pack.Dispose();
        }

        _abort.Dispose();
        _indexWrite.Dispose();
    }
}
