using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KubeBackup.Restic.Index;
using KubeBackup.Restic.Json;
using KubeBackup.Restic.Locking;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Packs;
using KubeBackup.Restic.Repository;
using KubeBackup.Storage;
using Microsoft.Extensions.Logging;

namespace KubeBackup.Restic.Pruning;

/// <summary>
/// Removes data no snapshot references, with restic's ordering so that a crash at any moment leaves a valid repository:
/// new packs (holding the still-used blobs of packs worth repacking) are written first, then index files naming them,
/// then index files for the packs kept; only then are the old index files deleted, and only after that the packs they
/// named. Packs that are mostly used stay as they are; a pack whose unused share is worth the I/O is repacked, until
/// the unused space left is within <see cref="PruneOptions.MaxUnusedPercent"/>; tree packs with unused trees, packs
/// mixing data and trees and (ten or more) very small packs are always repacked, as restic does.
/// </summary>
internal sealed class Pruner
{
    private readonly ResticRepository _repository;
    private readonly PruneOptions _options;
    private readonly IProgress<PruneProgress>? _progress;

    /// <summary>One pack as the index files describe it.</summary>
    private sealed class PackInfo(ResticId id, int number)
    {
        public ResticId Id { get; } = id;
        public int Number { get; } = number;
        public List<IndexBlob> Blobs { get; } = [];
        public long UsedBytes;
        public long UnusedBytes;
        public int UsedBlobs;
        public bool HasData;
        public bool HasTree;
        public bool HasUncompressedTree;
        public bool HasUncompressedData;
        public long StoredSize => PackHeader.PackSize(Blobs.Select(b => new PackBlob(b.Id, b.Type, b.Offset, b.Length, b.UncompressedLength)));
    }

    public Pruner(ResticRepository repository, PruneOptions options, IProgress<PruneProgress>? progress)
    {
        _repository = repository;
        _options = options;
        _progress = progress;
    }

    public async Task<PruneResult> RunAsync(CancellationToken cancellationToken)
    {
        // Refused before the lock: nothing is touched when the request cannot be carried out.
        _options.EnsureSupportedBy(_repository);
        var clock = Stopwatch.StartNew();
        // Planning only reads, so it runs while the lock is confirmed; nothing is deleted or written before that.
        var (repoLock, owned) = await RepositoryLock.AcquireExclusiveForOperationAsync(_repository, _options.RetryLock, cancellationToken).ConfigureAwait(false);
        await using var ownedLock = owned;
        return await repoLock.RunAsync(ct => RunLockedAsync(repoLock, clock, ct), cancellationToken).ConfigureAwait(false);
    }

    private async Task<PruneResult> RunLockedAsync(RepositoryLock repoLock, Stopwatch clock, CancellationToken cancellationToken)
    {
        // Start from what is on storage now, not from what this process saw earlier.
        _repository.Index.Clear();

        // 1. Every index file, kept as written: prune rewrites them, so it needs all entries, duplicates included.
        var indexFiles = new List<ResticId>();
        var packs = new Dictionary<ResticId, PackInfo>();
        await foreach (var f in _repository.Backend.ListAsync(FileType.Index, cancellationToken).ConfigureAwait(false))
        {
            indexFiles.Add(ResticId.Parse(f.Name));
        }

        foreach (var indexId in indexFiles)
        {
            var handle = new FileHandle(FileType.Index, indexId.ToString());
            var doc = ResticJson.ReadIndex(await _repository.LoadJsonFileAsync(handle, cancellationToken).ConfigureAwait(false));
            foreach (var pack in doc.Packs)
            {
                // Walking the snapshots only loads trees: the in-memory index needs only them, which keeps prune's
                // memory at about one entry per blob (in the pack lists) instead of two.
                _repository.Index.AddPack(pack.Id, pack.Blobs.Where(b => b.Type == BlobType.Tree));
                if (!packs.TryGetValue(pack.Id, out var info))
                {
                    info = new PackInfo(pack.Id, packs.Count);
                    info.Blobs.AddRange(pack.Blobs);
                    packs.Add(pack.Id, info);
                }
            }
        }

        _progress?.Report(new PruneProgress("loaded index", indexFiles.Count, indexFiles.Count));

        // 2. What is on storage: indexed packs must exist with the size their index implies; others are leftovers.
        var stored = new Dictionary<ResticId, long>();
        await foreach (var f in _repository.Backend.ListAsync(FileType.Pack, cancellationToken).ConfigureAwait(false))
        {
            stored[ResticId.Parse(f.Name)] = f.Size;
        }

        foreach (var pack in packs.Values)
        {
            if (!stored.TryGetValue(pack.Id, out long size))
            {
                throw new IntegrityException($"pack {pack.Id.ToShortString()} is in the index but missing from storage; prune stops rather than lose track of data (run check, then repair the index)",
                    new FileHandle(FileType.Pack, pack.Id.ToString()).RelativePath);
            }

            if (size != pack.StoredSize)
            {
                throw new IntegrityException($"pack {pack.Id.ToShortString()} has {size} bytes, its index says {pack.StoredSize}; prune stops (run check)",
                    new FileHandle(FileType.Pack, pack.Id.ToString()).RelativePath);
            }
        }

        var unreferenced = stored.Keys.Where(id => !packs.ContainsKey(id)).ToList();

        // 3. Everything the snapshots reach. A blob a snapshot needs but no index has means damage: stop.
        var used = await CollectUsedBlobsAsync(cancellationToken).ConfigureAwait(false);

        // 4. Give each used blob one home. Packs with the most used data are visited first, so duplicates are dropped
        //    from the packs that are more likely to be repacked or deleted anyway.
        // used maps each used blob to the number of the pack chosen as its home (-1 until one is chosen).
        var order = packs.Values.OrderByDescending(p => p.Blobs.Count(b => used.ContainsKey(new BlobKey(b.Id, b.Type)))).ThenBy(p => p.Id).ToList();
        foreach (var pack in order)
        {
            foreach (var b in pack.Blobs)
            {
                pack.HasData |= b.Type == BlobType.Data;
                pack.HasTree |= b.Type == BlobType.Tree;
                pack.HasUncompressedTree |= b.Type == BlobType.Tree && b.UncompressedLength == 0;
                pack.HasUncompressedData |= b.Type == BlobType.Data && b.UncompressedLength == 0;
                var key = new BlobKey(b.Id, b.Type);
                ref int home = ref CollectionsMarshal.GetValueRefOrNullRef(used, key);
                if (!Unsafe.IsNullRef(ref home) && home < 0)
                {
                    home = pack.Number;
                    pack.UsedBytes += b.Length;
                    pack.UsedBlobs++;
                }
                else
                {
                    pack.UnusedBytes += b.Length;
                }
            }
        }

        var missing = used.Where(kv => kv.Value < 0).Select(kv => kv.Key).ToList();
        if (missing.Count > 0)
        {
            throw new IntegrityException($"{missing.Count} blob(s) referenced by snapshots are in no index (for example {missing[0].Type} {missing[0].Id.ToShortString()}); prune stops (run check)");
        }

        // 5. Decide per pack, as restic does. Always repacked (within MaxRepackBytes, except mixed packs, which are
        //    never left): packs that mix data and trees; tree packs with any unused tree (trees are small, read by
        //    every snapshot walk and worth keeping dense) or any uncompressed one in a format 2 repository; and packs far below the pack size (under 1/25 of it: the
        //    last pack of many small backups), those fully used once there are ten or more. Then partly used data
        //    packs, the emptiest first, until the unused space left is within MaxUnusedPercent.
        long smallPack = _repository.Options.PackSize / 25;
        var delete = packs.Values.Where(p => p.UsedBlobs == 0).ToList();
        var partly = packs.Values.Where(p => p.UsedBlobs > 0 && p.UnusedBytes > 0).ToList();
        var mixed = packs.Values.Where(p => p.UsedBlobs > 0 && p.HasData && p.HasTree).ToList();
        // A repository upgraded from format 1 still has its old trees stored uncompressed: format 2 wants them
        // compressed, and repacking compresses them (restic's prune does the same).
        var treesToRepack = packs.Values
            .Where(p => p.UsedBlobs > 0 && p.HasTree && !p.HasData && (p.UnusedBytes > 0 || (p.HasUncompressedTree && _repository.SupportsCompression)))
            .OrderBy(p => p.Id).ToList();
        // Asked to compress old data: every data pack holding an uncompressed blob (restic's --repack-uncompressed).
        var dataToCompress = packs.Values
            .Where(p => _options.RepackUncompressed && p.UsedBlobs > 0 && p.HasData && !p.HasTree && p.HasUncompressedData)
            .OrderBy(p => p.Id).ToList();
        var small = packs.Values.Where(p => p.UsedBlobs > 0 && p.HasData && !p.HasTree && p.StoredSize < smallPack).OrderBy(p => p.Id).ToList();
        if (small.Count(p => p.UnusedBytes == 0) < 10)
        {
            // Fully used small packs only when there are enough of them to be worth the I/O (a lone one would
            // otherwise be rewritten by every prune); small packs with unused blobs always.
            small.RemoveAll(p => p.UnusedBytes == 0);
        }

        long usedBytes = packs.Values.Sum(p => p.UsedBytes);
        long unusedBefore = packs.Values.Sum(p => p.UnusedBytes);
        var repack = new List<PackInfo>(mixed);
        long repackBytes = repack.Sum(p => p.StoredSize);
        long unusedLeft = partly.Sum(p => p.UnusedBytes) - mixed.Sum(p => p.UnusedBytes);
        bool TryRepack(PackInfo pack)
        {
            if (_options.MaxRepackBytes is { } max && repackBytes + pack.StoredSize > max)
            {
                return false;
            }

            repack.Add(pack);
            repackBytes += pack.StoredSize;
            unusedLeft -= pack.UnusedBytes;
            return true;
        }

        foreach (var pack in treesToRepack.Concat(dataToCompress).Concat(small.Except(dataToCompress)))
        {
            TryRepack(pack);
        }

        if (_options.MaxUnusedPercent is { } percent)
        {
            double limit = percent >= 100 ? double.MaxValue : usedBytes * percent / (100 - percent);
            var chosen = repack.ToHashSet();
            foreach (var pack in partly.Where(p => !chosen.Contains(p)).OrderByDescending(p => (double)p.UnusedBytes / (p.UsedBytes + p.UnusedBytes)).ThenBy(p => p.Id))
            {
                if (unusedLeft <= limit)
                {
                    break;
                }

                TryRepack(pack);
            }
        }

        var repackSet = repack.Select(p => p.Id).ToHashSet();
        var removeSet = delete.Select(p => p.Id).Concat(repackSet).ToHashSet();
        var keep = packs.Values.Where(p => !removeSet.Contains(p.Id)).ToList();
        _repository.Logger.LogInformation("Prune plan: {Used} used blobs; delete {Delete} packs, repack {Repack}, keep {Keep}, {Unreferenced} unreferenced",
            used.Count, delete.Count, repack.Count, keep.Count, unreferenced.Count);

        long freed = delete.Sum(p => p.StoredSize) + repack.Sum(p => p.StoredSize) + unreferenced.Sum(id => stored[id]);
        if (_options.DryRun)
        {
            return new PruneResult
            {
                UsedBlobs = used.Count,
                UsedBytes = usedBytes,
                UnusedBytesBefore = unusedBefore,
                UnusedBytesAfter = keep.Sum(p => p.UnusedBytes),
                PacksDeleted = delete.Count,
                PacksRepacked = repack.Count,
                UnreferencedPacksDeleted = unreferenced.Count,
                PacksKept = keep.Count,
                BytesFreed = freed - repack.Sum(p => p.UsedBytes),
                DryRun = true,
                Duration = clock.Elapsed,
            };
        }

        // 6. Execute, in the order that keeps the repository valid at every step.
        await repoLock.ConfirmAsync(cancellationToken).ConfigureAwait(false);
        foreach (var id in unreferenced)
        {
            // Nothing names these packs (an interrupted backup left them); with the exclusive lock no backup is running.
            await RemoveAsync(new FileHandle(FileType.Pack, id.ToString()), cancellationToken).ConfigureAwait(false);
        }

        int packsWritten = 0;
        long written = 0;
        if (repack.Count > 0)
        {
            (packsWritten, written) = await RepackAsync(repack, used, cancellationToken).ConfigureAwait(false);
        }

        var keptIndex = keep.Select(p => new IndexPack { Id = p.Id, Blobs = p.Blobs }).ToList();
        var newIndexFiles = await _repository.SaveIndexAsync(keptIndex, 50_000, cancellationToken, addToIndex: false).ConfigureAwait(false);
        var newIndexSet = newIndexFiles.ToHashSet();
        int replaced = 0;
        foreach (var old in indexFiles.Where(id => !newIndexSet.Contains(id)))
        {
            await RemoveAsync(new FileHandle(FileType.Index, old.ToString()), cancellationToken).ConfigureAwait(false);
            replaced++;
        }

        // What this process remembers of the index still names the packs about to go: forget it, reload on next use.
        _repository.Index.Clear();
        _progress?.Report(new PruneProgress("deleting packs", 0, removeSet.Count));
        long deleted = 0;
        foreach (var id in removeSet)
        {
            await RemoveAsync(new FileHandle(FileType.Pack, id.ToString()), cancellationToken).ConfigureAwait(false);
            _progress?.Report(new PruneProgress("deleting packs", ++deleted, removeSet.Count));
        }

        return new PruneResult
        {
            UsedBlobs = used.Count,
            UsedBytes = usedBytes,
            UnusedBytesBefore = unusedBefore,
            UnusedBytesAfter = keep.Sum(p => p.UnusedBytes),
            PacksDeleted = delete.Count,
            PacksRepacked = repack.Count,
            UnreferencedPacksDeleted = unreferenced.Count,
            PacksWritten = packsWritten,
            PacksKept = keep.Count,
            IndexFilesReplaced = replaced,
            BytesFreed = freed - written,
            Duration = clock.Elapsed,
        };
    }

    private async Task RemoveAsync(FileHandle handle, CancellationToken cancellationToken)
    {
        try
        {
            await _repository.Backend.RemoveAsync(handle, cancellationToken).ConfigureAwait(false);
        }
        catch (StorageFileNotFoundException)
        {
            // Already gone (a previous interrupted prune got this far): the goal is reached.
        }
    }

    private async Task<Dictionary<BlobKey, int>> CollectUsedBlobsAsync(CancellationToken cancellationToken)
    {
        var used = new Dictionary<BlobKey, int>();
        var pending = new Stack<ResticId>();
        var snapshots = await _repository.ListSnapshotsAsync(cancellationToken).ConfigureAwait(false);
        foreach (var s in snapshots)
        {
            if (used.TryAdd(new BlobKey(s.Tree, BlobType.Tree), -1))
            {
                pending.Push(s.Tree);
            }
        }

        long trees = 0;
        while (pending.Count > 0)
        {
            var treeId = pending.Pop();
            Tree tree;
            try
            {
                tree = await _repository.LoadTreeAsync(treeId, cancellationToken).ConfigureAwait(false);
            }
            catch (NotFoundException ex)
            {
                throw new IntegrityException($"tree {treeId.ToShortString()} referenced by a snapshot is not in the index; prune stops (run check)", null, ex);
            }

            foreach (var node in tree.Nodes)
            {
                if (node.Content is { } content)
                {
                    foreach (var id in content)
                    {
                        used.TryAdd(new BlobKey(id, BlobType.Data), -1);
                    }
                }

                if (node.Subtree is { } sub && used.TryAdd(new BlobKey(sub, BlobType.Tree), -1))
                {
                    pending.Push(sub);
                }
            }

            if (++trees % 1000 == 0)
            {
                _progress?.Report(new PruneProgress("finding used blobs", trees, 0));
            }
        }

        return used;
    }

    private async Task<(int Packs, long Bytes)> RepackAsync(List<PackInfo> repack, Dictionary<BlobKey, int> home, CancellationToken cancellationToken)
    {
        // A non-deduplicating writer: the blobs are in the index already (in the packs about to go).
        await using var writer = new BlobWriter(_repository, cancellationToken, updateIndex: false);
        int done = 0;
        foreach (var pack in repack)
        {
            var handle = new FileHandle(FileType.Pack, pack.Id.ToString());
            var size = (int)pack.StoredSize;
            var buffer = ArrayPool<byte>.Shared.Rent(size);
            try
            {
                await _repository.Backend.ReadAsync(handle, 0, buffer.AsMemory(0, size), cancellationToken).ConfigureAwait(false);
                foreach (var b in pack.Blobs)
                {
                    var key = new BlobKey(b.Id, b.Type);
                    // Only the copy chosen as the blob's home moves; everything else in the pack is garbage or a duplicate.
                    if (!home.TryGetValue(key, out var homePack) || homePack != pack.Number)
                    {
                        continue;
                    }

                    var sealedBlob = buffer.AsMemory((int)b.Offset, (int)b.Length);
                    if (!b.IsCompressed && _repository.SupportsCompression && (b.Type == BlobType.Tree || _options.RepackUncompressed))
                    {
                        // Its sealed bytes do not go into the new pack, so it is opened where it lies in the pack buffer.
                        await AddCompressedAsync(writer, b, buffer.AsMemory((int)b.Offset, (int)b.Length), handle.RelativePath).ConfigureAwait(false);
                        continue;
                    }

                    VerifyBlob(b, sealedBlob.Span, handle.RelativePath);
                    await writer.AddAsync(b.Type, b.Id, sealedBlob, b.UncompressedLength, (int)(b.IsCompressed ? b.UncompressedLength : b.Length - 32)).ConfigureAwait(false);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            _progress?.Report(new PruneProgress("repacking", ++done, repack.Count));
        }

        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        return (writer.PacksUploaded, writer.PackedBytes);
    }

    /// <summary>Opens (and so verifies) an uncompressed blob in place and adds it compressed: trees as format 2 stores
    /// them, data when asked to compress old data. Compressed even where zstd gains nothing, so that the pack is not
    /// chosen again by the next prune.</summary>
    private async ValueTask AddCompressedAsync(BlobWriter writer, IndexBlob blob, Memory<byte> sealedBlob, string fileName)
    {
        var resealed = ArrayPool<byte>.Shared.Rent(ResticRepository.MaxSealedLength(sealedBlob.Length));
        try
        {
            var plaintext = _repository.OpenBlobInPlace(blob.Id, LocationOf(blob), sealedBlob.Span, default, fileName);
            int plaintextLength = plaintext.Length;
            int length = _repository.SealBlob(blob.Type, plaintext, resealed, out uint uncompressedLength, keepCompressed: true);
            await writer.AddAsync(blob.Type, blob.Id, resealed.AsMemory(0, length), uncompressedLength, plaintextLength).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(resealed);
        }
    }

    /// <summary>A blob is copied sealed as it is, but only after proving it is intact: prune must not spread damage
    /// into new packs and then delete the evidence.</summary>
    private void VerifyBlob(IndexBlob blob, ReadOnlySpan<byte> sealedBlob, string fileName)
    {
        // Verification decrypts in place; the sealed bytes themselves are what goes into the new pack.
        var copy = ArrayPool<byte>.Shared.Rent(sealedBlob.Length);
        try
        {
            sealedBlob.CopyTo(copy);
            _repository.VerifyBlobInPlace(blob.Id, LocationOf(blob), copy.AsSpan(0, sealedBlob.Length), fileName, ArrayPool<byte>.Shared);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    private static BlobLocation LocationOf(IndexBlob blob) => new(ResticId.Zero, blob.Type, blob.Offset, blob.Length, blob.UncompressedLength);
}
