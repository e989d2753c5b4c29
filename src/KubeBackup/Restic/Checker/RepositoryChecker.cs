using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Threading.Channels;
using KubeBackup.Restic.Crypto;
using KubeBackup.Restic.Json;
using KubeBackup.Restic.Locking;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Packs;
using KubeBackup.Restic.Repository;
using KubeBackup.Storage;
using Microsoft.Extensions.Logging;
using Flags = KubeBackup.Restic.Checker.CheckerIndex.EntryFlags;

namespace KubeBackup.Restic.Checker;

/// <summary>
/// Checks a repository in restic's layers: index files, then the pack files against the index, then snapshots and
/// every tree they reach, then (optionally) the pack contents. What differs from restic is the reporting: every error
/// records the blobs it damages, and a last walk maps the blobs that have no intact copy left back to the snapshot
/// paths that need them.
/// </summary>
internal sealed class RepositoryChecker
{
    /// <summary>Data blobs are at most 8 MiB; only the tree of a folder with millions of entries comes near this.
    /// A larger length in an index is damage, and must not make us allocate gigabytes.</summary>
    private const long MaxBlobSize = 1L << 30;

    /// <summary>Pack reads go through a buffer of this size, so the many small tree blobs of a tree pack do not
    /// each cost a storage read.</summary>
    private const int StreamBufferSize = 256 * 1024;

    // Errors are sorted by the stage that found them, so output reads in restic's order.
    private const int PhaseIndex = 0, PhasePacks = 1, PhaseSnapshots = 2, PhaseTrees = 3, PhaseData = 4;

    private readonly ResticRepository _repository;
    private readonly CheckOptions _options;
    private readonly IProgress<CheckProgress>? _progress;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly CheckerIndex _index = new();
    private readonly Lock _lock = new();
    private readonly List<ErrorRecord> _errors = [];
    private readonly List<CheckHint> _hints = [];

    /// <summary>The read-data phase's buffers (blob, plaintext, header tail), shared by its workers. Not the shared
    /// pool: that one caches per thread, and a worker's awaits move it between pool threads, so a buffer returned on
    /// one thread is missed by the next rent on another and new multi-megabyte arrays kept arriving (resident memory
    /// grew pack by pack). Sized in <see cref="ReadPacksAsync"/> for the workers it runs.</summary>
    private ArrayPool<byte> _dataBuffers = ArrayPool<byte>.Shared;

    /// <summary>Blob → errors that damage a copy of it (or report it missing). Whether the blob is lost is decided at
    /// the end, when every copy's state is known.</summary>
    private readonly Dictionary<BlobKeyValue, List<int>> _blobErrors = [];

    /// <summary>Tree → its bad nodes (name and error), so the damage walk can name their paths.</summary>
    private readonly Dictionary<ResticId, List<(byte[] Name, int Error)>> _nodeErrors = [];

    private readonly ConcurrentDictionary<ResticId, byte> _missingTrees = new();
    private long _lastReportTicks;
    private long _trees;
    private long _bytesRead;
    private int _packsRead;
    private int _unreferencedPacks;
    private long _unusedBlobs;
    private long _distinctBlobs;
    private volatile bool _structureIncomplete;
    private HashSet<AffectedPath> _affectedPaths = [];
    private bool _affectedTruncated;

    public RepositoryChecker(ResticRepository repository, CheckOptions options, IProgress<CheckProgress>? progress)
    {
        _repository = repository;
        _options = options;
        _progress = progress;
    }

    private IBackend Backend => _repository.Backend;

    /// <summary>Identifies a blob by ID and type (a local twin of the index's key, to keep this file self-contained).</summary>
    private readonly record struct BlobKeyValue(ResticId Id, BlobType Type);

    /// <summary>An error while the check runs; becomes a <see cref="CheckError"/> at the end.</summary>
    private sealed class ErrorRecord
    {
        public required int Phase { get; init; }
        public required CheckErrorKind Kind { get; init; }
        public required string Message { get; init; }
        public string? FileName { get; init; }
        public ResticId? PackId { get; init; }
        public IReadOnlyList<ResticId> IndexFiles { get; init; } = [];
        public ResticId? SnapshotId { get; init; }
        public ResticId? TreeId { get; init; }
        public string? NodeName { get; init; }
        public IReadOnlyList<ResticId> BlobIds { get; init; } = [];
        public List<AffectedPath> Affected { get; } = [];
        public HashSet<AffectedPath>? AffectedSet { get; set; }

        public CheckError ToError() => new()
        {
            Kind = Kind,
            Message = Message,
            FileName = FileName,
            PackId = PackId,
            IndexFiles = IndexFiles,
            SnapshotId = SnapshotId,
            TreeId = TreeId,
            NodeName = NodeName,
            BlobIds = BlobIds,
            AffectedPaths = [.. Affected.OrderBy(a => a.SnapshotId).ThenBy(a => a.Path, StringComparer.Ordinal)],
        };
    }

    public async Task<CheckResult> RunAsync(CancellationToken cancellationToken)
    {
        var repoLock = _options.NoLock
            ? null
            // Shared, not exclusive as restic 0.14 takes: check deletes nothing, so backups may go on while it runs;
            // prune and forget take exclusive locks and are kept out.
            // The lock's second look for a conflicting prune runs while the check starts; the result waits for it.
            : await RepositoryLock.AcquireSharedAsync(_repository, cancellationToken).ConfigureAwait(false);
        if (repoLock is null)
        {
            return await CheckAsync(null, cancellationToken).ConfigureAwait(false);
        }

        await using (repoLock.ConfigureAwait(false))
        {
            return await repoLock.RunAsync(ct => CheckAsync(repoLock, ct), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<CheckResult> CheckAsync(RepositoryLock? repoLock, CancellationToken cancellationToken)
    {
        // Snapshots are listed before the index is read, as restic does: a writer stores packs, then their index,
        // then the snapshot, so every snapshot listed now has its blobs in the index read next, even with backups
        // running beside this check (which the shared lock allows).
        var snapshotFiles = await ListAsync(FileType.Snapshot, cancellationToken).ConfigureAwait(false);
        await LoadIndexAsync(cancellationToken).ConfigureAwait(false);
        await CheckPackFilesAsync(cancellationToken).ConfigureAwait(false);
        var snapshots = await LoadSnapshotsAsync(snapshotFiles, cancellationToken).ConfigureAwait(false);
        await WalkTreesAsync(snapshots, cancellationToken).ConfigureAwait(false);
        CollectBlobHints();
        var selected = SelectPacks();
        if (selected is not null)
        {
            await ReadPacksAsync(selected, cancellationToken).ConfigureAwait(false);
        }

        var affectedSnapshots = await MapDamageAsync(snapshots, cancellationToken).ConfigureAwait(false);
        if (repoLock is not null)
        {
            // A prune that won the race for the lock would show up as damage; no result without the lock.
            await repoLock.ConfirmAsync(cancellationToken).ConfigureAwait(false);
        }

        return BuildResult(snapshots.Count, affectedSnapshots);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Recording

    private int Record(ErrorRecord error, IEnumerable<BlobKeyValue>? damages = null)
    {
        lock (_lock)
        {
            int n = _errors.Count;
            _errors.Add(error);
            if (damages is not null)
            {
                foreach (var key in damages)
                {
                    if (!_blobErrors.TryGetValue(key, out var list))
                    {
                        _blobErrors[key] = list = [];
                    }

                    list.Add(n);
                }
            }

            return n;
        }
    }

    private void RecordNodeError(ResticId treeId, Node node, CheckErrorKind kind, string message, BlobKeyValue? damages = null)
    {
        var record = new ErrorRecord
        {
            Phase = PhaseTrees,
            Kind = kind,
            Message = $"tree {treeId.ToShortString()}: {message}",
            TreeId = treeId,
            NodeName = node.DisplayName,
            BlobIds = damages is { } d ? [d.Id] : [],
        };
        int n = Record(record, damages is { } k ? [k] : null);
        lock (_lock)
        {
            if (!_nodeErrors.TryGetValue(treeId, out var list))
            {
                _nodeErrors[treeId] = list = [];
            }

            list.Add((node.Name, n));
        }
    }

    private void Hint(CheckHint hint)
    {
        lock (_lock)
        {
            _hints.Add(hint);
        }
    }

    private void Report(CheckPhase phase, long done, long total, bool force = false)
    {
        if (_progress is null)
        {
            return;
        }

        long now = _clock.ElapsedTicks;
        long last = Interlocked.Read(ref _lastReportTicks);
        if (!force && now - last < Stopwatch.Frequency / 10)
        {
            return;
        }

        Interlocked.Exchange(ref _lastReportTicks, now);
        _progress.Report(new CheckProgress(phase, done, total, Interlocked.Read(ref _bytesRead), _clock.Elapsed));
    }

    /// <summary>An exception's message without the file-name prefix <see cref="IntegrityException"/> adds (the error
    /// names the file separately).</summary>
    private static string Reason(Exception ex)
    {
        string message = ex.Message;
        if (ex is IntegrityException { FileName: { } file } && message.StartsWith(file + ": ", StringComparison.Ordinal))
        {
            return message[(file.Length + 2)..];
        }

        return message;
    }

    /// <summary>Failures that mean "this file or blob is damaged or unreadable" — reported, never thrown.</summary>
    private static bool IsDataError(Exception ex) => ex is IntegrityException or StorageException or IOException;

    /// <summary>Failures of decoding hostile or damaged bytes: a checker must report these, not crash on them.</summary>
    private static bool IsDecodeError(Exception ex) =>
        ex is FormatException or System.Text.Json.JsonException or OverflowException or ArgumentException or InvalidOperationException;

    private List<ResticId> IndexFilesOf(CheckerIndex.PackInfo pack) => [.. pack.IndexFiles.Select(i => _index.IndexFiles[i])];

    private static string PackFileName(ResticId packId) => new FileHandle(FileType.Pack, packId.ToString()).RelativePath;

    // ---------------------------------------------------------------------------------------------------------------
    // Stage 1: index files

    private async Task<List<StorageFileInfo>> ListAsync(FileType type, CancellationToken cancellationToken)
    {
        var files = new List<StorageFileInfo>();
        await foreach (var f in Backend.ListAsync(type, cancellationToken).ConfigureAwait(false))
        {
            files.Add(f);
        }

        return files;
    }

    private async Task LoadIndexAsync(CancellationToken cancellationToken)
    {
        var files = await ListAsync(FileType.Index, cancellationToken).ConfigureAwait(false);

        int done = 0;
        Report(CheckPhase.LoadIndex, 0, files.Count, force: true);
        // Each index file being decoded costs about 300 bytes per entry for a moment (its JSON and document), on top of
        // the 57 the table keeps: few at a time keeps that transient small, decoding is CPU-bound anyway.
        int workers = Math.Max(2, Math.Min(Backend.MaxConcurrency, Environment.ProcessorCount));
        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = cancellationToken },
            async (f, ct) =>
            {
                await LoadIndexFileAsync(f, ct).ConfigureAwait(false);
                Report(CheckPhase.LoadIndex, Interlocked.Increment(ref done), files.Count);
            }).ConfigureAwait(false);

        _index.Seal();
        Report(CheckPhase.LoadIndex, files.Count, files.Count, force: true);

        foreach (var pack in _index.Packs)
        {
            if (pack.MoreIndexFiles is not null)
            {
                var indexes = IndexFilesOf(pack);
                Hint(new CheckHint
                {
                    Kind = CheckHintKind.PackInSeveralIndexes,
                    Message = $"pack {pack.Id} contained in several indexes: {string.Join(", ", indexes.Select(i => i.ToShortString()))}",
                    PackId = pack.Id,
                    IndexFiles = indexes,
                });
            }

            if (pack.HasData && pack.HasTree)
            {
                Hint(new CheckHint
                {
                    Kind = CheckHintKind.MixedPack,
                    Message = $"pack {pack.Id.ToShortString()} contains a mix of tree and data blobs",
                    PackId = pack.Id,
                    IndexFiles = IndexFilesOf(pack),
                });
            }

            if (pack.HasGapsOrOverlaps)
            {
                // restic finds this only while reading the pack; it is visible in the index alone, so we say it always.
                Record(new ErrorRecord
                {
                    Phase = PhasePacks,
                    Kind = CheckErrorKind.PackIndexGaps,
                    Message = $"pack {pack.Id}: Index for pack contains gaps / overlapping blobs",
                    FileName = PackFileName(pack.Id),
                    PackId = pack.Id,
                    IndexFiles = IndexFilesOf(pack),
                });
            }
        }
    }

    private async Task LoadIndexFileAsync(StorageFileInfo file, CancellationToken cancellationToken)
    {
        var id = ResticId.Parse(file.Name);
        var handle = new FileHandle(FileType.Index, file.Name);
        IndexDocument document;
        bool oldFormat;
        try
        {
            var json = await _repository.LoadJsonFileAsync(handle, cancellationToken).ConfigureAwait(false);
            document = ResticJson.ReadIndex(json);
            oldFormat = json.AsSpan().TrimStart(" \t\r\n"u8) is [(byte)'[', ..];
        }
        catch (Exception ex) when (IsDataError(ex) || IsDecodeError(ex))
        {
            Record(new ErrorRecord
            {
                Phase = PhaseIndex,
                Kind = CheckErrorKind.IndexUnreadable,
                Message = $"error loading index {id}: {Reason(ex)}",
                FileName = handle.RelativePath,
            });
            return;
        }

        _index.AddIndexFile(id, document);
        if (oldFormat)
        {
            Hint(new CheckHint { Kind = CheckHintKind.OldIndexFormat, Message = $"index {id} has old format", IndexFiles = [id] });
        }

        if (!_repository.SupportsCompression)
        {
            var compressed = document.Packs.SelectMany(p => p.Blobs).Where(b => b.IsCompressed).Select(b => b.Id).ToList();
            if (compressed.Count > 0)
            {
                Record(new ErrorRecord
                {
                    Phase = PhaseIndex,
                    Kind = CheckErrorKind.IndexVersionMismatch,
                    Message = $"index {id} uses feature not supported by repository version 1 ({compressed.Count} compressed blobs)",
                    FileName = handle.RelativePath,
                    BlobIds = compressed,
                });
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Stage 2: pack files against the index

    private async Task CheckPackFilesAsync(CancellationToken cancellationToken)
    {
        Report(CheckPhase.Packs, 0, _index.Packs.Count, force: true);
        var stored = new Dictionary<ResticId, long>();
        await foreach (var f in Backend.ListAsync(FileType.Pack, cancellationToken).ConfigureAwait(false))
        {
            if (ResticId.TryParse(f.Name, out var id))
            {
                stored[id] = f.Size;
            }
        }

        for (int p = 0; p < _index.Packs.Count; p++)
        {
            var pack = _index.Packs[p];
            var slice = _index.ByPack.Slice(pack.Start, pack.Count);
            if (!stored.Remove(pack.Id, out long size))
            {
                // Every copy in a missing pack is gone; whether a blob is lost depends on its other copies.
                var lost = new List<BlobKeyValue>(slice.Length);
                foreach (int i in slice)
                {
                    _index.SetFlag(i, Flags.LocationBad);
                    lost.Add(new BlobKeyValue(_index[i].Id, _index[i].Type));
                }

                Record(new ErrorRecord
                {
                    Phase = PhasePacks,
                    Kind = CheckErrorKind.PackMissing,
                    Message = $"pack {pack.Id}: does not exist",
                    FileName = PackFileName(pack.Id),
                    PackId = pack.Id,
                    IndexFiles = IndexFilesOf(pack),
                    BlobIds = [.. lost.Select(k => k.Id)],
                }, lost);
                continue;
            }

            pack.ActualSize = size;
            if (size != pack.ExpectedSize)
            {
                // A shorter file has lost the blobs that reached past its end (and its header); the blobs before the
                // cut can still be read, so they are not counted as damaged here (read-data verifies them).
                var lost = new List<BlobKeyValue>();
                foreach (int i in slice)
                {
                    var e = _index[i];
                    if ((long)e.Offset + e.Length > size)
                    {
                        _index.SetFlag(i, Flags.LocationBad);
                        lost.Add(new BlobKeyValue(e.Id, e.Type));
                    }
                }

                Record(new ErrorRecord
                {
                    Phase = PhasePacks,
                    Kind = CheckErrorKind.PackSizeMismatch,
                    Message = $"pack {pack.Id}: unexpected file size: got {size}, expected {pack.ExpectedSize}",
                    FileName = PackFileName(pack.Id),
                    PackId = pack.Id,
                    IndexFiles = IndexFilesOf(pack),
                    BlobIds = [.. lost.Select(k => k.Id)],
                }, lost);
            }

            Report(CheckPhase.Packs, p + 1, _index.Packs.Count);
        }

        foreach (var (id, _) in stored.OrderBy(kv => kv.Key))
        {
            _unreferencedPacks++;
            Hint(new CheckHint
            {
                Kind = CheckHintKind.PackNotIndexed,
                Message = $"pack {id}: not referenced in any index",
                PackId = id,
            });
        }

        Report(CheckPhase.Packs, _index.Packs.Count, _index.Packs.Count, force: true);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Stage 3: snapshots and trees

    private async Task<List<(ResticId Id, ResticId Tree)>> LoadSnapshotsAsync(List<StorageFileInfo> files, CancellationToken cancellationToken)
    {
        var result = new ConcurrentBag<(ResticId, ResticId)>();
        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Backend.MaxConcurrency), CancellationToken = cancellationToken },
            async (f, ct) =>
            {
                var id = ResticId.Parse(f.Name);
                var fileName = new FileHandle(FileType.Snapshot, f.Name).RelativePath;
                Snapshot snapshot;
                try
                {
                    snapshot = await _repository.LoadSnapshotAsync(id, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsDataError(ex) || ex is NotFoundException || IsDecodeError(ex))
                {
                    _structureIncomplete = true;
                    Record(new ErrorRecord
                    {
                        Phase = PhaseSnapshots,
                        Kind = CheckErrorKind.SnapshotUnreadable,
                        Message = $"snapshot {id.ToShortString()}: {Reason(ex)}",
                        FileName = fileName,
                        SnapshotId = id,
                    });
                    return;
                }

                if (snapshot.Tree.IsZero)
                {
                    _structureIncomplete = true;
                    Record(new ErrorRecord
                    {
                        Phase = PhaseSnapshots,
                        Kind = CheckErrorKind.SnapshotUnreadable,
                        Message = $"snapshot {id.ToShortString()} has no tree",
                        FileName = fileName,
                        SnapshotId = id,
                    });
                    return;
                }

                result.Add((id, snapshot.Tree));
            }).ConfigureAwait(false);
        return [.. result.OrderBy(s => s.Item1)];
    }

    /// <summary>Walks every tree reachable from the snapshots once, several at a time, checking each as restic's
    /// checker does and marking the blobs it uses.</summary>
    private async Task WalkTreesAsync(List<(ResticId Id, ResticId Tree)> snapshots, CancellationToken cancellationToken)
    {
        var queue = Channel.CreateUnbounded<ResticId>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
        long pending = 1; // held by this method until every root is queued
        long queued = 0;

        void Enqueue(ResticId treeId)
        {
            int position = _index.Find(treeId, BlobType.Tree);
            if (position < 0)
            {
                if (_missingTrees.TryAdd(treeId, 0))
                {
                    _structureIncomplete = true;
                    var key = new BlobKeyValue(treeId, BlobType.Tree);
                    Record(new ErrorRecord
                    {
                        Phase = PhaseTrees,
                        Kind = CheckErrorKind.TreeMissing,
                        Message = $"tree {treeId.ToShortString()}: id {treeId} not found in repository",
                        TreeId = treeId,
                        BlobIds = [treeId],
                    }, [key]);
                }

                return;
            }

            int primary = _index.Primary(position);
            _index.SetFlag(primary, Flags.Used);
            if (_index.SetFlag(primary, Flags.TreeQueued))
            {
                Interlocked.Increment(ref pending);
                Interlocked.Increment(ref queued);
                queue.Writer.TryWrite(treeId);
            }
        }

        void Done()
        {
            if (Interlocked.Decrement(ref pending) == 0)
            {
                queue.Writer.TryComplete();
            }
        }

        int workers = Math.Max(2, Math.Min(Environment.ProcessorCount * 2, Backend.MaxConcurrency));
        var tasks = Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            await foreach (var treeId in queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await CheckTreeAsync(treeId, Enqueue, cancellationToken).ConfigureAwait(false);
                    Report(CheckPhase.Snapshots, Interlocked.Read(ref _trees), Interlocked.Read(ref queued));
                }
                finally
                {
                    Done();
                }
            }
        }, cancellationToken)).ToArray();

        foreach (var (_, tree) in snapshots)
        {
            Enqueue(tree);
        }

        Done();
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        finally
        {
            queue.Writer.TryComplete();
        }

        Report(CheckPhase.Snapshots, _trees, queued, force: true);
    }

    private async Task CheckTreeAsync(ResticId treeId, Action<ResticId> enqueue, CancellationToken cancellationToken)
    {
        var tree = await LoadTreeAsync(treeId, report: true, cancellationToken).ConfigureAwait(false);
        if (tree is null)
        {
            return;
        }

        Interlocked.Increment(ref _trees);
        foreach (var node in tree.Nodes)
        {
            string quoted = $"\"{node.DisplayName}\"";
            switch (node.Type)
            {
                case NodeType.File:
                    if (node.Content is null)
                    {
                        RecordNodeError(treeId, node, CheckErrorKind.FileContentMissing, $"file {quoted} has nil blob list");
                        break;
                    }

                    for (int b = 0; b < node.Content.Count; b++)
                    {
                        var blobId = node.Content[b];
                        if (blobId.IsZero)
                        {
                            RecordNodeError(treeId, node, CheckErrorKind.NullBlobId, $"file {quoted} blob {b} has null ID");
                            continue;
                        }

                        int position = _index.Find(blobId, BlobType.Data);
                        if (position < 0)
                        {
                            RecordNodeError(treeId, node, CheckErrorKind.DataBlobMissing, $"file {quoted} blob {blobId} not found in index",
                                new BlobKeyValue(blobId, BlobType.Data));
                            continue;
                        }

                        _index.SetFlag(_index.Primary(position), Flags.Used);
                    }

                    break;

                case NodeType.Dir:
                    if (node.Subtree is not { } subtree)
                    {
                        RecordNodeError(treeId, node, CheckErrorKind.DirectoryWithoutSubtree, $"dir node {quoted} has no subtree");
                    }
                    else if (subtree.IsZero)
                    {
                        RecordNodeError(treeId, node, CheckErrorKind.DirectoryWithoutSubtree, $"dir node {quoted} subtree id is null");
                    }
                    else
                    {
                        enqueue(subtree);
                    }

                    break;

                case NodeType.Symlink or NodeType.Socket or NodeType.CharDev or NodeType.Dev or NodeType.Fifo:
                    break;

                default:
                    // "irregular" is readable but restic's check rejects it, as it rejects any other type.
                    RecordNodeError(treeId, node, CheckErrorKind.InvalidNodeType, $"node {quoted} with invalid type \"{node.Type.ToString().ToLowerInvariant()}\"");
                    break;
            }

            if (node.Name.Length == 0)
            {
                RecordNodeError(treeId, node, CheckErrorKind.EmptyNodeName, "node with empty name");
            }
        }
    }

    /// <summary>Loads and decodes a tree from the first copy that reads back intact, as restic's loader tries each
    /// copy in turn. With <paramref name="report"/>, a tree no copy of which loads is an error and all its copies
    /// are marked bad.</summary>
    private async Task<Tree?> LoadTreeAsync(ResticId treeId, bool report, CancellationToken cancellationToken)
    {
        int position = _index.Find(treeId, BlobType.Tree);
        if (position < 0)
        {
            return null;
        }

        int[] copies = _index.Copies(position).ToArray();
        byte[]? plaintext = null;
        Exception? failure = null;
        ResticId? failedPack = null;
        foreach (int i in copies)
        {
            if (plaintext is not null)
            {
                break;
            }

            if (_index.HasFlag(i, Flags.LocationBad))
            {
                continue;
            }

            var location = _index.Location(i);
            try
            {
                if (location.Length < CryptoKey.Overhead || location.PlaintextLength > MaxBlobSize)
                {
                    throw new IntegrityException($"the index gives tree {treeId.ToShortString()} an implausible length", PackFileName(location.PackId));
                }

                var buffer = new byte[location.PlaintextLength];
                await _repository.LoadBlobAsync(treeId, location, buffer, cancellationToken).ConfigureAwait(false);
                plaintext = buffer;
            }
            catch (Exception ex) when (IsDataError(ex))
            {
                failure ??= ex;
                failedPack ??= location.PackId;
                if (report)
                {
                    _index.SetFlag(i, Flags.LocationBad);
                }
            }
        }

        if (plaintext is null)
        {
            if (report)
            {
                _structureIncomplete = true;
                var pack = failedPack ?? _index.Location(copies[0]).PackId;
                Record(new ErrorRecord
                {
                    Phase = PhaseTrees,
                    Kind = CheckErrorKind.TreeUnreadable,
                    Message = failure is null
                        ? $"tree {treeId.ToShortString()}: every copy is in a missing or damaged pack"
                        : $"tree {treeId.ToShortString()}: {Reason(failure)} (pack {pack.ToShortString()})",
                    FileName = PackFileName(pack),
                    PackId = pack,
                    TreeId = treeId,
                    BlobIds = [treeId],
                }, [new BlobKeyValue(treeId, BlobType.Tree)]);
            }

            return null;
        }

        try
        {
            return ResticJson.ReadTree(plaintext);
        }
        catch (Exception ex) when (IsDecodeError(ex))
        {
            if (report)
            {
                // The bytes hash to the ID, so every copy holds the same undecodable tree: all are bad.
                foreach (int i in copies)
                {
                    _index.SetFlag(i, Flags.LocationBad);
                }

                _structureIncomplete = true;
                Record(new ErrorRecord
                {
                    Phase = PhaseTrees,
                    Kind = CheckErrorKind.TreeUnreadable,
                    Message = $"tree {treeId.ToShortString()}: cannot decode: {ex.Message}",
                    TreeId = treeId,
                    BlobIds = [treeId],
                }, [new BlobKeyValue(treeId, BlobType.Tree)]);
            }

            return null;
        }
    }

    private void CollectBlobHints()
    {
        int count = _index.Count;
        var duplicates = new List<ResticId>();
        long duplicateCount = 0;
        var unused = new List<ResticId>();
        long unusedCount = 0;
        for (int position = 0; position < count;)
        {
            int next = _index.NextBlob(position);
            int primary = _index.Primary(position);
            _distinctBlobs++;
            if (next - position > 1)
            {
                duplicateCount++;
                if (duplicates.Count < _options.MaxBlobIdsPerHint)
                {
                    duplicates.Add(_index[primary].Id);
                }
            }

            if (!_index.HasFlag(primary, Flags.Used))
            {
                unusedCount++;
                if (unused.Count < _options.MaxBlobIdsPerHint)
                {
                    unused.Add(_index[primary].Id);
                }
            }

            position = next;
        }

        if (duplicateCount > 0)
        {
            Hint(new CheckHint
            {
                Kind = CheckHintKind.DuplicateBlobs,
                Message = $"{duplicateCount} blobs are stored in more than one place; this is non-critical, prune removes the extra copies",
                BlobIds = duplicates,
                Count = duplicateCount,
            });
        }

        // With a snapshot or tree unreadable, the blobs below it look unused although they are not: say nothing then.
        if (unusedCount > 0 && !_structureIncomplete)
        {
            _unusedBlobs = unusedCount;
            Hint(new CheckHint
            {
                Kind = CheckHintKind.UnusedBlobs,
                Message = $"{unusedCount} blobs are not used by any snapshot; this is non-critical, prune removes them",
                BlobIds = unused,
                Count = unusedCount,
            });
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Stage 4: read data

    private List<CheckerIndex.PackInfo>? SelectPacks()
    {
        var all = _index.Packs;
        if (_options.ReadData)
        {
            return [.. all];
        }

        if (_options.ReadDataSubset is not { } subset)
        {
            return null;
        }

        if (subset.Kind == ReadDataSubsetKind.Group)
        {
            // restic groups by the first byte of the pack ID, so the m groups partition the packs.
            return [.. all.Where(p => FirstByte(p.Id) % subset.Groups == subset.Group - 1)];
        }

        double percentage = subset.Percentage;
        if (subset.Kind == ReadDataSubsetKind.Size)
        {
            long repoSize = all.Sum(p => p.ExpectedSize);
            if (repoSize == 0)
            {
                return [];
            }

            percentage = Math.Min(subset.Bytes, repoSize) * 100.0 / repoSize;
        }

        int count = (int)(all.Count * (percentage / 100.0));
        if (all.Count > 0 && count < 1)
        {
            count = 1;
        }

        var random = _options.RandomSeed is { } seed ? new Random(seed) : new Random();
        var order = Enumerable.Range(0, all.Count).ToArray();
        random.Shuffle(order);
        return [.. order.Take(count).Select(i => all[i])];
    }

    private static byte FirstByte(ResticId id)
    {
        Span<byte> bytes = stackalloc byte[ResticId.Size];
        id.CopyTo(bytes);
        return bytes[0];
    }

    private async Task ReadPacksAsync(List<CheckerIndex.PackInfo> packs, CancellationToken cancellationToken)
    {
        // A missing pack is already an error; reading it again would only repeat it.
        var present = packs.Where(p => p.ActualSize >= 0).OrderBy(p => p.Id).ToList();
        int workers = _options.Concurrency ?? Math.Max(2, Math.Min(Backend.MaxConcurrency, Environment.ProcessorCount));
        int done = 0;
        // Largest bucket 16 MiB: a blob is at most the chunker's 8 MiB plus its sealing overhead.
        _dataBuffers = ArrayPool<byte>.Create(16 << 20, maxArraysPerBucket: workers + 1);
        Report(CheckPhase.ReadData, 0, present.Count, force: true);
        await Parallel.ForEachAsync(present, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = cancellationToken },
            async (pack, ct) =>
            {
                await VerifyPackAsync(pack, ct).ConfigureAwait(false);
                Interlocked.Increment(ref _packsRead);
                Report(CheckPhase.ReadData, Interlocked.Increment(ref done), present.Count);
            }).ConfigureAwait(false);
        Report(CheckPhase.ReadData, present.Count, present.Count, force: true);
    }

    /// <summary>Reads one pack front to back once: hashes all of it, verifies each indexed blob as it passes, keeps
    /// only the tail that can hold the header, then compares the header with the index. Memory per pack is one
    /// buffer of its largest blob plus the tail, never the whole pack.</summary>
    private async Task VerifyPackAsync(CheckerIndex.PackInfo pack, CancellationToken cancellationToken)
    {
        var handle = new FileHandle(FileType.Pack, pack.Id.ToString());
        string fileName = handle.RelativePath;
        long size = pack.ActualSize;
        int[] order = _index.ByPack.Slice(pack.Start, pack.Count).ToArray();
        var verified = new bool[order.Length];

        // One buffer for the largest blob that can be read (entries reaching past the end are not read at all).
        int largest = 64 * 1024;
        foreach (int i in order)
        {
            var e = _index[i];
            if ((long)e.Offset + e.Length <= size && e.Length <= MaxBlobSize)
            {
                largest = (int)Math.Max(largest, e.Length);
            }
        }

        byte[] buffer = _dataBuffers.Rent(largest);
        byte[]? tail = null;
        int tailLength = 0;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        try
        {
            try
            {
                var raw = await Backend.OpenReadAsync(handle, 0, -1, cancellationToken).ConfigureAwait(false);
                await using var input = new BufferedStream(raw, StreamBufferSize);
                long position = 0;
                for (int k = 0; k < order.Length; k++)
                {
                    int i = order[k];
                    var entry = _index[i];
                    if ((long)entry.Offset + entry.Length > size)
                    {
                        // The size check has already reported these as lost; say it again only if it has not.
                        if (!_index.HasFlag(i, Flags.LocationBad))
                        {
                            BlobDamaged(pack, i, "the pack ends before the blob does");
                        }

                        continue;
                    }

                    if (entry.Length < CryptoKey.Overhead || entry.Length > MaxBlobSize)
                    {
                        BlobDamaged(pack, i, $"the index gives it an implausible length of {entry.Length} bytes");
                        continue;
                    }

                    int length = (int)entry.Length;
                    if (entry.Offset < position)
                    {
                        // Overlaps the blob before (the gap error says so); read it on its own, off the stream.
                        await Backend.ReadAsync(handle, entry.Offset, buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await SkipAsync(input, entry.Offset - position, hash, buffer, cancellationToken).ConfigureAwait(false);
                        await input.ReadExactlyAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                        hash.AppendData(buffer, 0, length);
                        position = (long)entry.Offset + length;
                        Interlocked.Add(ref _bytesRead, length);
                    }

                    verified[k] = VerifyBlob(pack, i, buffer.AsSpan(0, length), fileName);
                }

                // The header sits at the end and is at most MaxHeaderSize long: skip (hashing) to where it can start.
                long rest = size - position;
                tailLength = (int)Math.Min(rest, PackHeader.MaxHeaderSize + 4);
                await SkipAsync(input, rest - tailLength, hash, buffer, cancellationToken).ConfigureAwait(false);
                tail = _dataBuffers.Rent(Math.Max(tailLength, 1));
                await input.ReadExactlyAsync(tail.AsMemory(0, tailLength), cancellationToken).ConfigureAwait(false);
                hash.AppendData(tail, 0, tailLength);
                Interlocked.Add(ref _bytesRead, rest);
            }
            catch (Exception ex) when (IsDataError(ex))
            {
                PackUnreadable(pack, order, verified, ex);
                return;
            }

            var actual = FinishHash(hash);
            if (actual != pack.Id)
            {
                Record(new ErrorRecord
                {
                    Phase = PhaseData,
                    Kind = CheckErrorKind.PackIdMismatch,
                    Message = $"Pack ID does not match, want {pack.Id}, got {actual}",
                    FileName = fileName,
                    PackId = pack.Id,
                    IndexFiles = IndexFilesOf(pack),
                });
            }

            var header = await ReadHeaderAsync(pack, handle, tail, tailLength, size, cancellationToken).ConfigureAwait(false);
            if (header is not null)
            {
                CompareHeader(pack, order, header);
            }
        }
        finally
        {
            _dataBuffers.Return(buffer);
            if (tail is not null)
            {
                _dataBuffers.Return(tail);
            }
        }
    }

    private static async Task SkipAsync(Stream input, long count, IncrementalHash hash, byte[] scratch, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            int n = (int)Math.Min(count, scratch.Length);
            await input.ReadExactlyAsync(scratch.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            hash.AppendData(scratch, 0, n);
            count -= n;
        }
    }

    private static ResticId FinishHash(IncrementalHash hash)
    {
        Span<byte> digest = stackalloc byte[ResticId.Size];
        hash.GetHashAndReset(digest);
        return ResticId.FromBytes(digest);
    }

    /// <summary>Decrypts, decompresses and hashes one blob; records it as damaged if any step fails.</summary>
    private bool VerifyBlob(CheckerIndex.PackInfo pack, int entry, Span<byte> stored, string fileName)
    {
        var location = _index.Location(entry);
        var id = _index[entry].Id;
        if (location.PlaintextLength > MaxBlobSize)
        {
            BlobDamaged(pack, entry, $"the index gives it an implausible plaintext length of {location.PlaintextLength} bytes");
            return false;
        }

        try
        {
            _repository.VerifyBlobInPlace(id, location, stored, fileName, _dataBuffers);
            return true;
        }
        catch (IntegrityException ex)
        {
            BlobDamaged(pack, entry, Reason(ex));
            return false;
        }
    }

    private void BlobDamaged(CheckerIndex.PackInfo pack, int entry, string reason)
    {
        var e = _index[entry];
        _index.SetFlag(entry, Flags.LocationBad);
        Record(new ErrorRecord
        {
            Phase = PhaseData,
            Kind = CheckErrorKind.BlobDamaged,
            Message = $"pack {pack.Id.ToShortString()}: {e.Type.ToString().ToLowerInvariant()} blob {e.Id}: {reason}",
            FileName = PackFileName(pack.Id),
            PackId = pack.Id,
            IndexFiles = IndexFilesOf(pack),
            BlobIds = [e.Id],
        }, [new BlobKeyValue(e.Id, e.Type)]);
    }

    private void PackUnreadable(CheckerIndex.PackInfo pack, int[] order, bool[] verified, Exception ex)
    {
        // What was verified before the failure is intact; the rest cannot be read now, so it counts as damaged.
        var lost = new List<BlobKeyValue>();
        for (int k = 0; k < order.Length; k++)
        {
            if (!verified[k] && _index.SetFlag(order[k], Flags.LocationBad))
            {
                var e = _index[order[k]];
                lost.Add(new BlobKeyValue(e.Id, e.Type));
            }
        }

        Record(new ErrorRecord
        {
            Phase = PhaseData,
            Kind = CheckErrorKind.PackReadFailed,
            Message = $"pack {pack.Id} failed to download: {Reason(ex)}",
            FileName = PackFileName(pack.Id),
            PackId = pack.Id,
            IndexFiles = IndexFilesOf(pack),
            BlobIds = [.. lost.Select(k => k.Id)],
        }, lost);
    }

    private async Task<List<PackBlob>?> ReadHeaderAsync(CheckerIndex.PackInfo pack, FileHandle handle, byte[]? tail, int tailLength, long size,
        CancellationToken cancellationToken)
    {
        try
        {
            if (tail is null || tailLength < 4)
            {
                throw new IntegrityException("the pack is too short to hold a header", handle.RelativePath);
            }

            uint headerLength = BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(tailLength - 4));
            if (headerLength < CryptoKey.Overhead || headerLength > PackHeader.MaxHeaderSize || headerLength > size - 4)
            {
                throw new IntegrityException($"header length {headerLength} is invalid for a pack of {size} bytes", handle.RelativePath);
            }

            if (headerLength + 4 > tailLength)
            {
                // The header claims to start inside the indexed blobs: the pack is broken, but read what it says.
                return await PackHeader.ReadAsync(Backend, pack.Id, size, _repository.Key, cancellationToken).ConfigureAwait(false);
            }

            return DecodeHeader(tail.AsSpan(tailLength - 4 - (int)headerLength, (int)headerLength), handle.RelativePath);
        }
        catch (Exception ex) when (IsDataError(ex) || IsDecodeError(ex))
        {
            Record(new ErrorRecord
            {
                Phase = PhaseData,
                Kind = CheckErrorKind.PackHeaderInvalid,
                Message = $"pack {pack.Id}: header: {Reason(ex)}",
                FileName = handle.RelativePath,
                PackId = pack.Id,
                IndexFiles = IndexFilesOf(pack),
            });
            return null;
        }
    }

    private List<PackBlob> DecodeHeader(ReadOnlySpan<byte> sealedHeader, string fileName)
    {
        var plain = new byte[sealedHeader.Length - CryptoKey.Overhead];
        if (!_repository.Key.TryOpen(sealedHeader, plain))
        {
            throw new IntegrityException("pack header failed authentication (MAC mismatch)", fileName);
        }

        try
        {
            return PackHeader.ParseEntries(plain);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException)
        {
            throw new IntegrityException(ex.Message, fileName, ex);
        }
    }

    /// <summary>The header and the index must describe the same blobs at the same places, field for field.</summary>
    private void CompareHeader(CheckerIndex.PackInfo pack, int[] order, List<PackBlob> header)
    {
        var indexed = new HashSet<PackBlob>(order.Length);
        foreach (int i in order)
        {
            var e = _index[i];
            indexed.Add(new PackBlob(e.Id, e.Type, e.Offset, e.Length, e.UncompressedLength));
        }

        var inHeader = header.ToHashSet();
        var notIndexed = header.Where(b => !indexed.Contains(b)).ToList();
        var notInHeader = indexed.Where(b => !inHeader.Contains(b)).ToList();
        if (notIndexed.Count == 0 && notInHeader.Count == 0)
        {
            return;
        }

        var parts = new List<string>();
        if (notIndexed.Count > 0)
        {
            parts.Add($"{notIndexed.Count} blobs of the header are not contained in index or position is incorrect ({string.Join(", ", notIndexed.Take(5).Select(b => b.Id.ToShortString()))})");
        }

        if (notInHeader.Count > 0)
        {
            parts.Add($"{notInHeader.Count} index entries are not in the header ({string.Join(", ", notInHeader.Take(5).Select(b => b.Id.ToShortString()))})");
        }

        Record(new ErrorRecord
        {
            Phase = PhaseData,
            Kind = CheckErrorKind.PackHeaderMismatch,
            Message = $"pack {pack.Id}: {string.Join("; ", parts)}",
            FileName = PackFileName(pack.Id),
            PackId = pack.Id,
            IndexFiles = IndexFilesOf(pack),
            BlobIds = [.. notIndexed.Concat(notInHeader).Select(b => b.Id).Distinct()],
        });
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Stage 5: which snapshot paths the damage reaches

    /// <summary>
    /// Decides which damaged blobs are lost (no intact copy), then walks the snapshots again to name the paths that
    /// need them. A first pass marks, per tree, whether anything lost or broken lies at or below it (each tree looked
    /// at once, the answer kept in the entry flags); only "dirty" trees are kept in memory and descended into when
    /// paths are named, so a clean repository costs nothing here and a damaged one costs a second read of its trees.
    /// </summary>
    private async Task<SortedSet<ResticId>> MapDamageAsync(List<(ResticId Id, ResticId Tree)> snapshots, CancellationToken cancellationToken)
    {
        var affectedSnapshots = new SortedSet<ResticId>(_errors.Where(e => e.SnapshotId is not null).Select(e => e.SnapshotId!.Value));
        var lost = new Dictionary<BlobKeyValue, List<int>>();
        foreach (var (key, errors) in _blobErrors)
        {
            int position = _index.Find(key.Id, key.Type);
            if (position < 0 || _index.AllCopiesBad(position))
            {
                lost[key] = errors;
            }
        }

        if (lost.Count == 0 && _nodeErrors.Count == 0)
        {
            return affectedSnapshots;
        }

        Report(CheckPhase.Affected, 0, snapshots.Count, force: true);
        var walk = new DamageWalk(this, lost);
        int budget = _options.MaxAffectedPaths;
        var all = new HashSet<AffectedPath>();
        for (int s = 0; s < snapshots.Count; s++)
        {
            var (snapshotId, root) = snapshots[s];
            if (!await walk.IsDirtyAsync(root, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            affectedSnapshots.Add(snapshotId);
            await walk.NameAsync(snapshotId, root, "/", all, budget, cancellationToken).ConfigureAwait(false);
            Report(CheckPhase.Affected, s + 1, snapshots.Count);
        }

        Report(CheckPhase.Affected, snapshots.Count, snapshots.Count, force: true);
        _affectedPaths = all;
        _affectedTruncated = walk.Truncated;
        return affectedSnapshots;
    }

    private sealed class DamageWalk(RepositoryChecker checker, Dictionary<BlobKeyValue, List<int>> lost)
    {
        private readonly Dictionary<ResticId, Tree> _dirtyTrees = [];
        private readonly CheckerIndex _index = checker._index;

        public bool Truncated { get; private set; }

        public async Task<bool> IsDirtyAsync(ResticId treeId, CancellationToken cancellationToken)
        {
            if (lost.ContainsKey(new BlobKeyValue(treeId, BlobType.Tree)))
            {
                return true;
            }

            int position = _index.Find(treeId, BlobType.Tree);
            if (position < 0)
            {
                return true;
            }

            int first = _index.Primary(position);
            if (!_index.SetFlag(first, Flags.ImpactVisited))
            {
                return _index.HasFlag(first, Flags.ImpactDirty);
            }

            var tree = await checker.LoadTreeAsync(treeId, report: false, cancellationToken).ConfigureAwait(false);
            if (tree is null)
            {
                _index.SetFlag(first, Flags.ImpactDirty);
                return true;
            }

            bool dirty = checker._nodeErrors.ContainsKey(treeId);
            foreach (var node in tree.Nodes)
            {
                if (node.Type == NodeType.File && node.Content is { } content)
                {
                    foreach (var blob in content)
                    {
                        dirty |= lost.ContainsKey(new BlobKeyValue(blob, BlobType.Data));
                    }
                }
                else if (node.Type == NodeType.Dir && node.Subtree is { IsZero: false } subtree)
                {
                    dirty |= await IsDirtyAsync(subtree, cancellationToken).ConfigureAwait(false);
                }
            }

            if (dirty)
            {
                _index.SetFlag(first, Flags.ImpactDirty);
                _dirtyTrees[treeId] = tree;
            }

            return dirty;
        }

        public async Task NameAsync(ResticId snapshotId, ResticId treeId, string path, HashSet<AffectedPath> all, int budget, CancellationToken cancellationToken)
        {
            if (lost.TryGetValue(new BlobKeyValue(treeId, BlobType.Tree), out var treeErrors))
            {
                Add(snapshotId, path, treeErrors, all, budget);
                return;
            }

            if (!_dirtyTrees.TryGetValue(treeId, out var tree))
            {
                return;
            }

            checker._nodeErrors.TryGetValue(treeId, out var nodeErrors);
            foreach (var node in tree.Nodes)
            {
                string childPath = path == "/" ? "/" + node.DisplayName : path + "/" + node.DisplayName;
                if (nodeErrors is not null)
                {
                    var own = nodeErrors.Where(n => n.Name.AsSpan().SequenceEqual(node.Name)).Select(n => n.Error).ToList();
                    if (own.Count > 0)
                    {
                        Add(snapshotId, childPath, own, all, budget);
                    }
                }

                if (node.Type == NodeType.File && node.Content is { } content)
                {
                    var errors = new List<int>();
                    foreach (var blob in content)
                    {
                        if (lost.TryGetValue(new BlobKeyValue(blob, BlobType.Data), out var blobErrors))
                        {
                            errors.AddRange(blobErrors);
                        }
                    }

                    if (errors.Count > 0)
                    {
                        Add(snapshotId, childPath, errors, all, budget);
                    }
                }
                else if (node.Type == NodeType.Dir && node.Subtree is { IsZero: false } subtree
                         && await IsDirtyAsync(subtree, cancellationToken).ConfigureAwait(false))
                {
                    await NameAsync(snapshotId, subtree, childPath, all, budget, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        private void Add(ResticId snapshotId, string path, IEnumerable<int> errors, HashSet<AffectedPath> all, int budget)
        {
            var affected = new AffectedPath(snapshotId, path);
            if (!all.Contains(affected))
            {
                if (all.Count >= budget)
                {
                    Truncated = true;
                    return;
                }

                all.Add(affected);
            }

            foreach (int e in errors)
            {
                var record = checker._errors[e];
                record.AffectedSet ??= [];
                if (record.AffectedSet.Add(affected))
                {
                    record.Affected.Add(affected);
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    private CheckResult BuildResult(int snapshots, SortedSet<ResticId> affectedSnapshots)
    {
        var errors = _errors
            .OrderBy(e => e.Phase)
            .ThenBy(e => e.Kind)
            .ThenBy(e => e.FileName ?? "", StringComparer.Ordinal)
            .ThenBy(e => e.TreeId?.ToString() ?? "", StringComparer.Ordinal)
            .ThenBy(e => e.Message, StringComparer.Ordinal)
            .Select(e => e.ToError())
            .ToList();
        var hints = _hints
            .OrderBy(h => h.Kind)
            .ThenBy(h => h.Message, StringComparer.Ordinal)
            .ToList();
        _repository.Logger.LogInformation("Check finished: {Errors} errors, {Hints} hints, {Snapshots} snapshots affected", errors.Count, hints.Count, affectedSnapshots.Count);
        return new CheckResult
        {
            Errors = errors,
            Hints = hints,
            AffectedPaths = [.. _affectedPaths.OrderBy(a => a.SnapshotId).ThenBy(a => a.Path, StringComparer.Ordinal)],
            AffectedPathsTruncated = _affectedTruncated,
            AffectedSnapshots = [.. affectedSnapshots],
            IndexFiles = _index.IndexFiles.Count,
            Packs = _index.Packs.Count,
            Blobs = _distinctBlobs,
            Snapshots = snapshots,
            Trees = _trees,
            UnreferencedPacks = _unreferencedPacks,
            UnusedBlobs = _unusedBlobs,
            PacksRead = _packsRead,
            BytesRead = Interlocked.Read(ref _bytesRead),
            Duration = _clock.Elapsed,
        };
    }
}
