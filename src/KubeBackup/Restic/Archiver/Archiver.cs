using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using KubeBackup.Platform;
using KubeBackup.Restic.Filtering;
using KubeBackup.Restic.Json;
using KubeBackup.Restic.Locking;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Repository;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace KubeBackup.Restic.Archiver;

/// <summary>
/// Backs up files and folders into a repository as restic's archiver does: walks the targets depth-first in byte order
/// of names, reuses the content of files its parent snapshot says are unchanged, chunks and hashes changed files on
/// several readers, compresses and encrypts new blobs on a worker pool, writes one tree blob per folder, and writes the
/// snapshot only after every pack and index file is stored. The walk waits whenever the file queue is full, so memory
/// stays bounded by the queue, not by the size of the tree.
/// </summary>
internal sealed class Archiver
{
    private readonly ResticRepository _repository;
    private readonly BackupOptions _options;
    private readonly PathPatternList _excludes;
    private readonly List<BackupError> _errors = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Counters _counters = new();
    private readonly bool _checkInode;
    private readonly bool _checkChangeTime;
    private BlobSaver _saver = null!;
    private ContentChunker _chunker = null!;
    private Channel<FileJob> _fileJobs = null!;
    private int _targetsArchived;

    // Folders are walked by several tasks at once when a slot is free (never waiting for one, so a walk that holds a
    // slot can always finish): stat, listxattr, readdir and loading the parent's trees are latency, not CPU, and a
    // walk of one task at a time left most of an unchanged backup's time waiting.
    private SemaphoreSlim _walkSlots = null!;
    private readonly List<Task> _walkers = [];

    private sealed class Counters
    {
        public long FilesNew, FilesChanged, FilesUnmodified, DirsNew, DirsChanged, DirsUnmodified, BytesRead, Directories;
        public long ScanFiles, ScanBytes;
        public volatile bool ScanDone;
    }

    private sealed record FileJob(string Path, SafeFileHandle File, Node Node, bool HadParent, TaskCompletionSource<Node?> Result);

    public Archiver(ResticRepository repository, BackupOptions options)
    {
        _repository = repository;
        _options = options;
        _excludes = new PathPatternList(options.Excludes);
        _checkInode = !options.IgnoreInode;
        _checkChangeTime = !options.IgnoreChangeTime;
    }

    public async Task<BackupResult> RunAsync(IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        var targets = NormalizeTargets(_options.Paths);
        // The lock's second look for a conflicting prune runs while the backup starts; the snapshot waits for it.
        await using var repoLock = await RepositoryLock.AcquireSharedAsync(_repository, cancellationToken).ConfigureAwait(false);
        return await repoLock.RunAsync(ct => RunLockedAsync(targets, repoLock, progress, ct), cancellationToken).ConfigureAwait(false);
    }

    private async Task<BackupResult> RunLockedAsync(List<string> targets, RepositoryLock repoLock, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        await _repository.LoadIndexAsync(cancellationToken).ConfigureAwait(false);
        string hostname = _options.Hostname ?? _repository.Options.Hostname;
        var parent = await FindParentAsync(hostname, targets, cancellationToken).ConfigureAwait(false);
        Tree? parentRoot = parent is null ? null : await _repository.LoadTreeAsync(parent.Tree, cancellationToken).ConfigureAwait(false);

        using var linkedCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var ct = linkedCts.Token;
        await using var writer = new BlobWriter(_repository, ct) { IndexGate = repoLock.ConfirmAsync };
        await using var saver = new BlobSaver(_repository, writer, _repository.Options.Parallelism, ct);
        _saver = saver;
        _chunker = new ContentChunker(_repository.Config.ChunkerPolynomial, saver, maxLargeSources: Math.Max(2, _repository.Options.Parallelism));
        int readers = _options.ReadConcurrency ?? Math.Max(2, _repository.Options.Parallelism * 2);
        _fileJobs = Channel.CreateBounded<FileJob>(new BoundedChannelOptions(readers * 4) { SingleWriter = false });
        _walkSlots = new SemaphoreSlim(Math.Max(2, _repository.Options.Parallelism));
        var fileWorkers = Enumerable.Range(0, readers).Select(_ => Task.Run(() => FileWorkerAsync(ct), CancellationToken.None)).ToArray();
        // The scan only feeds the progress totals (a second stat of every entry); without a listener it is skipped.
        var scan = progress is null ? Task.CompletedTask : Task.Run(() => Scan(targets, ct), CancellationToken.None);
        using var reporter = progress is null ? null : new Timer(_ => Report(progress, writer), null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));

        var start = GoTime.FromDateTimeOffset(_options.Time ?? DateTimeOffset.Now);
        ResticId rootTree;
        try
        {
            var rootFuture = await ArchiveRootAsync(targets, parentRoot, ct).ConfigureAwait(false);
            await WalkersDoneAsync().ConfigureAwait(false);
            _fileJobs.Writer.TryComplete();
            rootTree = await rootFuture.ConfigureAwait(false);
            await Task.WhenAll(fileWorkers).ConfigureAwait(false);
            await saver.CompleteAsync().ConfigureAwait(false);
            await writer.FlushAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            // Stop the readers and the savers; whatever was uploaded stays unreferenced, which restic check accepts.
            await linkedCts.CancelAsync().ConfigureAwait(false);
            await WalkersDoneAsync().ConfigureAwait(false);
            _fileJobs.Writer.TryComplete();
            await Task.WhenAll(fileWorkers.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);
            throw;
        }
        finally
        {
            await scan.ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }

        var summary = new SnapshotSummary
        {
            BackupStart = start,
            BackupEnd = GoTime.Now(),
            FilesNew = (ulong)_counters.FilesNew,
            FilesChanged = (ulong)_counters.FilesChanged,
            FilesUnmodified = (ulong)_counters.FilesUnmodified,
            DirsNew = (ulong)_counters.DirsNew,
            DirsChanged = (ulong)_counters.DirsChanged,
            DirsUnmodified = (ulong)_counters.DirsUnmodified,
            DataBlobs = (ulong)writer.BlobsAddedByType[(int)BlobType.Data],
            TreeBlobs = (ulong)writer.BlobsAddedByType[(int)BlobType.Tree],
            DataAdded = (ulong)writer.PlainBytesAdded,
            DataAddedPacked = (ulong)writer.PackedBytes,
            TotalFilesProcessed = (ulong)(_counters.FilesNew + _counters.FilesChanged + _counters.FilesUnmodified),
            TotalBytesProcessed = (ulong)Interlocked.Read(ref _counters.BytesRead),
        };
        var snapshot = new Snapshot
        {
            Time = start,
            Parent = parent?.Id,
            Tree = rootTree,
            Paths = [.. targets],
            Hostname = hostname,
            Username = _repository.Options.Username,
            Uid = PosixFile.EffectiveUserId,
            Gid = PosixFile.EffectiveGroupId,
            Excludes = _options.Excludes.Count > 0 ? [.. _options.Excludes] : null,
            Tags = _options.Tags.Count > 0 ? [.. _options.Tags] : null,
            ProgramVersion = ProgramInfo.Version,
            Summary = summary,
        };
        // Cancelling after this point would leave nothing to undo, but a caller that cancelled expects no snapshot.
        cancellationToken.ThrowIfCancellationRequested();
        await repoLock.ConfirmAsync(cancellationToken).ConfigureAwait(false);
        snapshot = await _repository.SaveSnapshotAsync(snapshot, CancellationToken.None).ConfigureAwait(false);
        if (progress is not null)
        {
            Report(progress, writer);
        }

        _repository.Logger.LogInformation("Snapshot {SnapshotId} saved: {Files} files, {Added} bytes added, {Errors} errors",
            snapshot.Id.ToShortString(), summary.TotalFilesProcessed, summary.DataAdded, _errors.Count);
        return new BackupResult
        {
            Snapshot = snapshot,
            Summary = summary,
            Errors = _errors.ToArray(),
            Parent = parent?.Id,
            Duration = _clock.Elapsed,
            StoredBytesAdded = writer.PackedBytes,
        };
    }

    private void Report(IProgress<BackupProgress> progress, BlobWriter writer)
    {
        int errors;
        lock (_errors)
        {
            errors = _errors.Count;
        }

        progress.Report(new BackupProgress(
            Interlocked.Read(ref _counters.FilesNew) + Interlocked.Read(ref _counters.FilesChanged) + Interlocked.Read(ref _counters.FilesUnmodified),
            Interlocked.Read(ref _counters.Directories),
            Interlocked.Read(ref _counters.BytesRead),
            writer.PlainBytesAdded,
            Interlocked.Read(ref _counters.ScanFiles),
            Interlocked.Read(ref _counters.ScanBytes),
            _counters.ScanDone,
            errors,
            _clock.Elapsed));
    }

    private void AddError(string path, string message)
    {
        lock (_errors)
        {
            _errors.Add(new BackupError(path, message));
        }

        _repository.Logger.LogWarning("Cannot back up {Path}: {Message}", path, message);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Targets and parent

    internal static List<string> NormalizeTargets(IEnumerable<string> paths)
    {
        var full = paths.Select(p =>
        {
            if (string.IsNullOrWhiteSpace(p))
            {
                throw new ArgumentException("A backup path must not be empty.");
            }

            var f = Path.GetFullPath(p);
            return f.Length > 1 ? f.TrimEnd('/') : f;
        }).Distinct(StringComparer.Ordinal).OrderBy(p => p, StringComparer.Ordinal).ToList();
        if (full.Count == 0)
        {
            throw new ArgumentException("At least one path to back up is required.");
        }

        // A target inside another target is already covered by it.
        return full.Where(p => !full.Any(o => o != p && (o == "/" || p.StartsWith(o + "/", StringComparison.Ordinal)))).ToList();
    }

    private async Task<Snapshot?> FindParentAsync(string hostname, List<string> targets, CancellationToken cancellationToken)
    {
        if (_options.Force)
        {
            return null;
        }

        if (_options.Parent is { } explicitParent)
        {
            return await _repository.LoadSnapshotAsync(explicitParent, cancellationToken).ConfigureAwait(false);
        }

        var snapshots = await _repository.ListSnapshotsAsync(cancellationToken).ConfigureAwait(false);
        var sortedTargets = targets.OrderBy(p => p, StringComparer.Ordinal).ToList();
        return snapshots
            .Where(s => s.Hostname == hostname && s.Paths.OrderBy(p => p, StringComparer.Ordinal).SequenceEqual(sortedTargets))
            .OrderByDescending(s => s.Time)
            .FirstOrDefault();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The root: intermediate folders mirror each target's absolute path

    private sealed class PathNode
    {
        public SortedDictionary<byte[], PathNode> Children { get; } = new(ByteNameComparer.Instance);
        public string? Target { get; set; }
    }

    private async Task<Task<ResticId>> ArchiveRootAsync(List<string> targets, Tree? parentRoot, CancellationToken ct)
    {
        var root = new PathNode();
        foreach (var target in targets)
        {
            if (target == "/")
            {
                root.Target = "/";
                continue;
            }

            var node = root;
            foreach (var part in target.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                var key = Encoding.UTF8.GetBytes(part);
                if (!node.Children.TryGetValue(key, out var child))
                {
                    child = new PathNode();
                    node.Children.Add(key, child);
                }

                node = child;
            }

            node.Target = target;
        }

        List<Task<Node?>> children;
        if (root.Target == "/")
        {
            using var dir = DirectoryHandle.Open("/");
            children = await ArchiveDirectoryEntriesAsync(dir, "", parentRoot, ct).ConfigureAwait(false);
        }
        else
        {
            children = await ArchiveIntermediateChildrenAsync(root, "", parentRoot, ct).ConfigureAwait(false);
        }

        return FinishRootAsync();

        async Task<ResticId> FinishRootAsync()
        {
            var nodes = await Task.WhenAll(children).ConfigureAwait(false);
            // Folders on the way to a target exist even when the target does not; only real targets count.
            if (Volatile.Read(ref _targetsArchived) == 0 && root.Target != "/")
            {
                throw new NotFoundException("None of the paths to back up could be read: " + string.Join(", ", _errors.Select(e => $"{e.Path}: {e.Message}")));
            }

            return await SaveTreeAsync(nodes).ConfigureAwait(false);
        }
    }

    private async Task<List<Task<Node?>>> ArchiveIntermediateChildrenAsync(PathNode pathNode, string path, Tree? parentTree, CancellationToken ct)
    {
        var result = new List<Task<Node?>>();
        foreach (var (name, child) in pathNode.Children)
        {
            string childPath = path + "/" + Encoding.UTF8.GetString(name);
            var parentNode = FindNode(parentTree, name);
            if (child.Target is not null)
            {
                result.Add(await ArchiveTargetAsync(child.Target, name, parentNode, ct).ConfigureAwait(false));
                continue;
            }

            FileStatus st;
            try
            {
                st = PosixFile.LStat(childPath);
            }
            catch (PosixException ex)
            {
                AddError(childPath, ex.Message);
                continue;
            }

            var dirNode = NodeFactory.Create(name, NodeType.Dir, st, ReadXattrsByPath(childPath), _options.WithAccessTime);
            Tree? parentSubtree = await LoadParentSubtreeAsync(parentNode, ct).ConfigureAwait(false);
            var grandChildren = await ArchiveIntermediateChildrenAsync(child, childPath, parentSubtree, ct).ConfigureAwait(false);
            result.Add(FinishDirectoryAsync(dirNode, parentNode, grandChildren));
        }

        return result;
    }

    private static List<ExtendedAttribute>? ReadXattrsByPath(string path)
    {
        var parentPath = Path.GetDirectoryName(path) ?? "/";
        try
        {
            using var parent = DirectoryHandle.Open(parentPath);
            return ToXattrs(parent.ReadExtendedAttributes(Encoding.UTF8.GetBytes(Path.GetFileName(path))));
        }
        catch (PosixException)
        {
            return null;
        }
    }

    private static List<ExtendedAttribute> ToXattrs(List<(string Name, byte[] Value)> attrs) =>
        attrs.Select(a => new ExtendedAttribute(a.Name, a.Value)).ToList();

    private async Task<Task<Node?>> ArchiveTargetAsync(string target, byte[] name, Node? parentNode, CancellationToken ct)
    {
        if (_excludes.Matches(target))
        {
            return Task.FromResult<Node?>(null);
        }

        string parentPath = Path.GetDirectoryName(target) ?? "/";
        DirectoryHandle dir;
        try
        {
            dir = DirectoryHandle.Open(parentPath);
        }
        catch (PosixException ex)
        {
            AddError(target, ex.Message);
            return Task.FromResult<Node?>(null);
        }

        using (dir)
        {
            var node = await ArchiveEntryAsync(dir, name, target, parentNode, ct).ConfigureAwait(false);
            return CountTargetAsync(node);
        }
    }

    private async Task<Node?> CountTargetAsync(Task<Node?> node)
    {
        var result = await node.ConfigureAwait(false);
        if (result is not null)
        {
            Interlocked.Increment(ref _targetsArchived);
        }

        return result;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The walk

    private async Task<List<Task<Node?>>> ArchiveDirectoryEntriesAsync(DirectoryHandle dir, string path, Tree? parentTree, CancellationToken ct)
    {
        List<byte[]> names;
        try
        {
            names = dir.ReadEntries();
        }
        catch (PosixException ex)
        {
            AddError(path.Length == 0 ? "/" : path, ex.Message);
            return [];
        }

        // restic requires nodes in byte order of their names.
        names.Sort(ByteNameComparer.Instance);
        var result = new List<Task<Node?>>(names.Count);
        foreach (var name in names)
        {
            ct.ThrowIfCancellationRequested();
            string childPath = path + "/" + Encoding.UTF8.GetString(name);
            if (_excludes.Matches(childPath))
            {
                continue;
            }

            result.Add(await ArchiveEntryAsync(dir, name, childPath, FindNode(parentTree, name), ct).ConfigureAwait(false));
        }

        return result;
    }

    private async Task<Task<Node?>> ArchiveEntryAsync(DirectoryHandle dir, byte[] name, string path, Node? parentNode, CancellationToken ct)
    {
        try
        {
            var st = dir.StatChild(name);
            var type = NodeFactory.TypeOf(st.Kind);
            if (type is null)
            {
                AddError(path, "unsupported file type");
                return Task.FromResult<Node?>(null);
            }

            var xattrs = type == NodeType.Symlink ? null : ToXattrs(dir.ReadExtendedAttributes(name));
            switch (type.Value)
            {
                case NodeType.Dir:
                {
                    var node = NodeFactory.Create(name, NodeType.Dir, st, xattrs, _options.WithAccessTime);
                    var child = dir.OpenDirectory(name);
                    if (_walkSlots.Wait(0))
                    {
                        var walk = Task.Run(async () =>
                        {
                            try
                            {
                                return await WalkDirectoryAsync(child, node, parentNode, path, ct).ConfigureAwait(false);
                            }
                            finally
                            {
                                _walkSlots.Release();
                            }
                        }, CancellationToken.None);
                        lock (_walkers)
                        {
                            _walkers.Add(walk);
                        }

                        return walk.Unwrap();
                    }

                    return await WalkDirectoryAsync(child, node, parentNode, path, ct).ConfigureAwait(false);
                }

                case NodeType.File:
                    return await ArchiveFileAsync(dir, name, path, st, xattrs, parentNode, ct).ConfigureAwait(false);

                case NodeType.Symlink:
                {
                    var node = NodeFactory.Create(name, NodeType.Symlink, st, null, _options.WithAccessTime);
                    node.LinkTarget = dir.ReadLink(name);
                    return Task.FromResult<Node?>(node);
                }

                default:
                    return Task.FromResult<Node?>(NodeFactory.Create(name, type.Value, st, xattrs, _options.WithAccessTime));
            }
        }
        catch (PosixException ex)
        {
            AddError(path, ex.Message);
            return Task.FromResult<Node?>(null);
        }
    }

    /// <summary>Walks one folder (its handle is closed when its entries are queued) and returns its node's future.</summary>
    private async Task<Task<Node?>> WalkDirectoryAsync(DirectoryHandle directory, Node node, Node? parentNode, string path, CancellationToken ct)
    {
        using (directory)
        {
            var parentSubtree = await LoadParentSubtreeAsync(parentNode, ct).ConfigureAwait(false);
            var children = await ArchiveDirectoryEntriesAsync(directory, path, parentSubtree, ct).ConfigureAwait(false);
            return FinishDirectoryAsync(node, parentNode, children);
        }
    }

    /// <summary>Waits until every folder walk started in parallel has queued its entries (a walk may start others).
    /// Their failures surface through the node futures; here they only need to be over.</summary>
    private async Task WalkersDoneAsync()
    {
        while (true)
        {
            Task[] running;
            lock (_walkers)
            {
                running = [.. _walkers];
            }

            await Task.WhenAll(running).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            lock (_walkers)
            {
                if (_walkers.Count == running.Length)
                {
                    return;
                }
            }
        }
    }

    private async Task<Task<Node?>> ArchiveFileAsync(DirectoryHandle dir, byte[] name, string path, FileStatus st, List<ExtendedAttribute>? xattrs,
        Node? parentNode, CancellationToken ct)
    {
        var node = NodeFactory.Create(name, NodeType.File, st, xattrs, _options.WithAccessTime);
        if (parentNode is not null && IsUnchanged(node, parentNode))
        {
            node.Content = parentNode.Content;
            Interlocked.Increment(ref _counters.FilesUnmodified);
            Interlocked.Add(ref _counters.BytesRead, (long)node.Size);
            return Task.FromResult<Node?>(node);
        }

        var file = dir.OpenFileForRead(name);
        var tcs = new TaskCompletionSource<Node?>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await _fileJobs.Writer.WriteAsync(new FileJob(path, file, node, parentNode is not null, tcs), ct).ConfigureAwait(false);
        }
        catch
        {
            file.Dispose();
            throw;
        }

        return tcs.Task;
    }

    private bool IsUnchanged(Node current, Node previous)
    {
        // restic's rule: same type, mtime, ctime, size and inode, and every blob of the old content still indexed.
        if (previous.Type != NodeType.File || previous.Content is null
            || current.ModTime.CompareTo(previous.ModTime) != 0
            || (_checkChangeTime && current.ChangeTime.CompareTo(previous.ChangeTime) != 0)
            || current.Size != previous.Size
            || (_checkInode && current.Inode != previous.Inode))
        {
            return false;
        }

        foreach (var id in previous.Content)
        {
            if (!_repository.Index.Contains(id, BlobType.Data))
            {
                return false;
            }
        }

        return true;
    }

    private async Task FileWorkerAsync(CancellationToken ct)
    {
        await foreach (var job in _fileJobs.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            using (job.File)
            {
                if (ct.IsCancellationRequested)
                {
                    job.Result.TrySetCanceled(ct);
                    continue;
                }

                try
                {
                    long offset = 0;
                    var file = job.File;
                    var result = await _chunker.ChunkAsync(async (buffer, token) =>
                    {
                        int n = await RandomAccess.ReadAsync(file, buffer, offset, token).ConfigureAwait(false);
                        offset += n;
                        return n;
                    }, null, ct).ConfigureAwait(false);
                    job.Node.Content = result.Content;
                    // The size is what was read: a file that grew or shrank while we read it is recorded consistently.
                    job.Node.Size = (ulong)result.Bytes;
                    Interlocked.Add(ref _counters.BytesRead, result.Bytes);
                    Interlocked.Increment(ref job.HadParent ? ref _counters.FilesChanged : ref _counters.FilesNew);
                    job.Result.TrySetResult(job.Node);
                }
                catch (IOException ex) when (!ct.IsCancellationRequested)
                {
                    // An unreadable file is left out and reported; the rest of the backup goes on (restic's exit code 3).
                    AddError(job.Path, ex.Message);
                    job.Result.TrySetResult(null);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    job.Result.TrySetCanceled(ct);
                }
                catch (Exception ex)
                {
                    job.Result.TrySetException(ex);
                }
            }
        }
    }

    private async Task<Node?> FinishDirectoryAsync(Node dirNode, Node? parentNode, List<Task<Node?>> children)
    {
        var nodes = await Task.WhenAll(children).ConfigureAwait(false);
        var id = await SaveTreeAsync(nodes).ConfigureAwait(false);
        dirNode.Subtree = id;
        Interlocked.Increment(ref _counters.Directories);
        if (parentNode is null || parentNode.Type != NodeType.Dir)
        {
            Interlocked.Increment(ref _counters.DirsNew);
        }
        else if (parentNode.Subtree == id)
        {
            Interlocked.Increment(ref _counters.DirsUnmodified);
        }
        else
        {
            Interlocked.Increment(ref _counters.DirsChanged);
        }

        return dirNode;
    }

    private async Task<ResticId> SaveTreeAsync(Node?[] nodes)
    {
        var list = new List<Node>(nodes.Length);
        foreach (var n in nodes)
        {
            if (n is not null)
            {
                list.Add(n);
            }
        }

        using var json = new PooledBufferWriter(_saver.Buffers, 256 + list.Count * 300);
        ResticJson.WriteTree(list, json);
        var id = ResticId.Hash(json.WrittenSpan);
        int length = json.WrittenCount;
        // The saver takes the pooled buffer as it is (and returns it when the tree is sealed or already stored).
        await _saver.SaveAsync(BlobType.Tree, id, json.Detach(), length).ConfigureAwait(false);
        return id;
    }

    private async Task<Tree?> LoadParentSubtreeAsync(Node? parentNode, CancellationToken ct)
    {
        if (parentNode is not { Type: NodeType.Dir, Subtree: { } subtree })
        {
            return null;
        }

        try
        {
            return await _repository.LoadTreeAsync(subtree, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NotFoundException or IntegrityException)
        {
            // A damaged parent only costs speed: everything below is read again.
            _repository.Logger.LogWarning(ex, "Parent tree {TreeId} cannot be loaded; reading its files again", subtree.ToShortString());
            return null;
        }
    }

    private static Node? FindNode(Tree? tree, byte[] name)
    {
        if (tree is null)
        {
            return null;
        }

        var nodes = tree.Nodes;
        int lo = 0, hi = nodes.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            int c = nodes[mid].Name.AsSpan().SequenceCompareTo(name);
            if (c == 0)
            {
                return nodes[mid];
            }

            if (c < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        // Trees written by other tools might not be sorted; fall back to a scan rather than miss the parent.
        return nodes.Find(n => n.Name.AsSpan().SequenceEqual(name));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The scan runs beside the backup and only counts, so progress can show totals and an estimate.

    private void Scan(List<string> targets, CancellationToken ct)
    {
        try
        {
            foreach (var target in targets)
            {
                if (_excludes.Matches(target))
                {
                    continue;
                }

                FileStatus st;
                try
                {
                    st = PosixFile.LStat(target);
                }
                catch (PosixException)
                {
                    continue;
                }

                if (st.Kind == PosixFileKind.Directory)
                {
                    using var dir = DirectoryHandle.Open(target);
                    ScanDirectory(dir, target == "/" ? "" : target, ct);
                }
                else if (st.Kind == PosixFileKind.Regular)
                {
                    Interlocked.Increment(ref _counters.ScanFiles);
                    Interlocked.Add(ref _counters.ScanBytes, st.Size);
                }
            }
        }
        catch (Exception ex) when (ex is PosixException or OperationCanceledException)
        {
        }
        finally
        {
            _counters.ScanDone = true;
        }
    }

    private void ScanDirectory(DirectoryHandle dir, string path, CancellationToken ct)
    {
        foreach (var name in dir.ReadEntries())
        {
            ct.ThrowIfCancellationRequested();
            string childPath = path + "/" + Encoding.UTF8.GetString(name);
            if (_excludes.Matches(childPath) || !dir.TryStatChild(name, out var st))
            {
                continue;
            }

            if (st.Kind == PosixFileKind.Directory)
            {
                try
                {
                    using var child = dir.OpenDirectory(name);
                    ScanDirectory(child, childPath, ct);
                }
                catch (PosixException)
                {
                }
            }
            else if (st.Kind == PosixFileKind.Regular)
            {
                Interlocked.Increment(ref _counters.ScanFiles);
                Interlocked.Add(ref _counters.ScanBytes, st.Size);
            }
        }
    }
}

/// <summary>Orders raw names byte by byte, as restic (Go string comparison) does.</summary>
internal sealed class ByteNameComparer : IComparer<byte[]>
{
    public static readonly ByteNameComparer Instance = new();

    public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
}
