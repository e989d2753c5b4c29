using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using KubeBackup.Platform;
using KubeBackup.Restic.Archiver;
using KubeBackup.Restic.Filtering;
using KubeBackup.Restic.Index;
using KubeBackup.Restic.Locking;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Repository;
using KubeBackup.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace KubeBackup.Restic.Restorer;

/// <summary>
/// Restores a snapshot into a folder. Every file system operation goes through a directory handle and one validated
/// name at a time, and never follows a symlink at that name, so no name in a snapshot ('..', 'a/b', '/etc/x') and no
/// symlink restored (or planted) earlier can lead a write outside the target. Blobs are fetched and written in
/// parallel, several per large file, and the blobs of several files are handed out in turn so that different files are
/// written side by side; files of 1 MiB or more go past the page cache (<see cref="DirectFileWriter"/>); zero runs
/// stay holes; folders get their modes and times last, deepest first, so restoring their contents does not disturb
/// them.
/// </summary>
internal sealed class Restorer
{
    private readonly ResticRepository _repository;
    private readonly RestoreOptions _options;
    private readonly PathPatternList _includes;
    private readonly PathPatternList _excludes;
    private readonly bool _restoreOwner;
    private readonly List<RestoreError> _errors = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Dictionary<(ulong Device, ulong Inode), byte[][]> _firstLinks = [];
    private readonly List<(byte[][] Dir, byte[] Name, byte[][] Original, string Path)> _pendingLinks = [];
    private string _target = "";
    private Channel<PackRange<BlobTarget>> _jobs = null!;
    private readonly PackRangeBatcher<BlobTarget> _smallFiles = new();
    // The restore's own buffers: ArrayPool.Shared would keep megabyte buffers per thread that returned one, several
    // times what is ever in flight. This pool keeps at most the busiest moment's worth and goes with the restore.
    private ArrayPool<byte> _buffers = null!;
    private long _files, _dirs, _others, _bytes, _filesTotal, _bytesTotal;

    /// <summary>A folder restored; its metadata is applied at the end, after everything inside it.</summary>
    private sealed class RestoredDir
    {
        public required byte[] Name { get; init; }
        public required Node? Node { get; init; }
        public List<RestoredDir> Children { get; } = [];
    }

    /// <summary>A directory handle shared by the file jobs inside it; closed when the last one is done.</summary>
    private sealed class SharedDirectory(DirectoryHandle handle)
    {
        private int _refs = 1;
        public DirectoryHandle Handle { get; } = handle;
        public void AddRef() => Interlocked.Increment(ref _refs);

        public void Release()
        {
            if (Interlocked.Decrement(ref _refs) == 0)
            {
                Handle.Dispose();
            }
        }
    }

    /// <summary>One file being written; the last of its blob jobs closes it and applies its metadata.</summary>
    private sealed class FileState(SharedDirectory dir, byte[] name, Node node, string path, SafeFileHandle handle, int blobs, long size)
    {
        private int _remaining = blobs;

        /// <summary>The file's full length: blobs finish in any order, so the last one done does not know it.</summary>
        public long Size { get; } = size;
        public SharedDirectory Dir { get; } = dir;
        public byte[] Name { get; } = name;
        public Node Node { get; } = node;
        public string Path { get; } = path;
        public SafeFileHandle Handle { get; } = handle;

        /// <summary>Writes past the page cache, for a large file on a file system that takes <c>O_DIRECT</c>.</summary>
        public DirectFileWriter? Direct { get; init; }
        public volatile bool Failed;

        /// <summary>Whether the blob that ends at <see cref="Size"/> was written; if so the file already has its
        /// length and needs no truncate (a sparse restore leaves a zero tail as a hole, which does need one).</summary>
        public volatile bool TailWritten;

        public bool CompleteOne() => Interlocked.Decrement(ref _remaining) == 0;
    }

    /// <summary>Where one blob's plaintext goes: a file and the offset in it.</summary>
    private readonly record struct BlobTarget(FileState File, long Offset);

    /// <summary>A file of several blobs whose jobs are being handed out, alternating with other such files.</summary>
    private sealed class MultiBlobFile(FileState state, IReadOnlyList<ResticId> content, BlobLocation[] locations)
    {
        public FileState State { get; } = state;
        public IReadOnlyList<ResticId> Content { get; } = content;
        public BlobLocation[] Locations { get; } = locations;
        public int Next;
        public long Offset;
        public bool Done => Next == Content.Count;

        /// <summary>The file's next blobs as one range: those that follow each other in the same pack, as a backup
        /// stores a file's chunks, up to <see cref="PackRangeBatcher{T}.MaxRangeBytes"/> (one blob if it is larger).</summary>
        public PackRange<BlobTarget> TakeRange()
        {
            var first = Locations[Next];
            long start = first.Offset, end = start;
            var reads = new List<BlobRead<BlobTarget>>();
            while (Next < Content.Count)
            {
                var location = Locations[Next];
                if (reads.Count > 0 && (location.PackId != first.PackId || location.Offset != end
                    || end + location.Length - start > PackRangeBatcher<BlobTarget>.MaxRangeBytes))
                {
                    break;
                }

                reads.Add(new BlobRead<BlobTarget>(Content[Next], location, new BlobTarget(State, Offset)));
                end = location.Offset + location.Length;
                Offset += location.PlaintextLength;
                Next++;
            }

            return new PackRange<BlobTarget>(first.PackId, start, (int)(end - start), reads.ToArray());
        }
    }

    private readonly List<MultiBlobFile> _multiBlobFiles = [];

    /// <summary>How many files of several blobs hand out jobs at once: one per worker, so the blobs in flight mostly
    /// belong to different files. Workers writing one file take turns on its inode lock (the waiting ones spin), while
    /// different files are written side by side, each by its own core: on ext4 here, 1 GiB written as two files at
    /// once took about half the time of the same bytes written into one file by two writers.</summary>
    private int _multiBlobFilesAtOnce;

    /// <summary>Set once the target's file system refused <c>O_DIRECT</c> (at open or at a write): later files go
    /// through the page cache without trying again.</summary>
    private volatile bool _directUnavailable;

    public Restorer(ResticRepository repository, RestoreOptions options)
    {
        _repository = repository;
        _options = options;
        _includes = new PathPatternList(options.Includes);
        _excludes = new PathPatternList(options.Excludes);
        _restoreOwner = options.RestoreOwnership ?? PosixFile.EffectiveUserId == 0;
    }

    public async Task<RestoreResult> RunAsync(Snapshot snapshot, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(_options.Target);
        // The lock's second look for a conflicting prune runs while the restore starts; success waits for it.
        await using var repoLock = await RepositoryLock.AcquireSharedAsync(_repository, cancellationToken).ConfigureAwait(false);
        return await repoLock.RunAsync(async ct =>
        {
            var result = await RunLockedAsync(snapshot, progress, ct).ConfigureAwait(false);
            await repoLock.ConfirmAsync(ct).ConfigureAwait(false);
            return result;
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task<RestoreResult> RunLockedAsync(Snapshot snapshot, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken)
    {
        await _repository.LoadIndexAsync(cancellationToken).ConfigureAwait(false);
        string target = Path.GetFullPath(_options.Target);
        _target = target;
        Directory.CreateDirectory(target);
        using var root = DirectoryHandle.Open(target);

        int workers = _options.Concurrency ?? Math.Max(4, _repository.Options.Parallelism * 2);
        // Every blob queued is a file held open, and a range of small files holds up to PackRangeBatcher's limit:
        // the queue stays short so the restore keeps a few hundred files open at most, well below a 1024 limit.
        _jobs = Channel.CreateBounded<PackRange<BlobTarget>>(new BoundedChannelOptions(workers * 2) { SingleWriter = true });
        _multiBlobFilesAtOnce = workers;
        _buffers = ArrayPool<byte>.Create(16 << 20, maxArraysPerBucket: (workers * 2) + 2);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var workerTasks = Enumerable.Range(0, workers).Select(_ => Task.Run(() => WorkAsync(cts.Token), CancellationToken.None)).ToArray();
        using var reporter = progress is null ? null : new Timer(_ => Report(progress), null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));

        var top = new RestoredDir { Name = [], Node = null };
        var rootDir = new SharedDirectory(DirectoryHandle.Open(target));
        try
        {
            var tree = await _repository.LoadTreeAsync(snapshot.Tree, cts.Token).ConfigureAwait(false);
            await RestoreTreeAsync(rootDir, top, tree, [], "", cts.Token).ConfigureAwait(false);
            await QueueAsync(_smallFiles.Flush(), cts.Token).ConfigureAwait(false);
            await DrainMultiBlobFilesAsync(0, cts.Token).ConfigureAwait(false);
            rootDir.Release();
            _jobs.Writer.TryComplete();
            await Task.WhenAll(workerTasks).ConfigureAwait(false);
        }
        catch
        {
            await cts.CancelAsync().ConfigureAwait(false);
            _jobs.Writer.TryComplete();
            await Task.WhenAll(workerTasks.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);
            throw;
        }

        CreateHardLinks();
        ApplyDirectoryMetadata(root, top);
        if (progress is not null)
        {
            Report(progress);
        }

        return new RestoreResult
        {
            Files = _files,
            Directories = _dirs,
            OtherNodes = _others,
            Bytes = _bytes,
            Errors = _errors.ToArray(),
            Duration = _clock.Elapsed,
        };
    }

    private void Report(IProgress<RestoreProgress> progress) =>
        progress.Report(new RestoreProgress(Interlocked.Read(ref _files), Interlocked.Read(ref _filesTotal), Interlocked.Read(ref _bytes),
            Interlocked.Read(ref _bytesTotal), _clock.Elapsed));

    private void AddError(string path, string message, Exception? exception = null)
    {
        lock (_errors)
        {
            _errors.Add(new RestoreError(path, message, exception));
        }

        _repository.Logger.LogWarning("Cannot restore {Path}: {Message}", path, message);
    }

    /// <summary>A name is safe if it is one path component: not empty, not '.' or '..', no '/' and no NUL.</summary>
    internal static bool IsSafeName(ReadOnlySpan<byte> name) =>
        name.Length > 0 && !name.SequenceEqual("."u8) && !name.SequenceEqual(".."u8) && name.IndexOfAny((byte)'/', (byte)0) < 0;

    private async Task RestoreTreeAsync(SharedDirectory dir, RestoredDir restoredDir, Tree tree, byte[][] relDir, string path, CancellationToken ct)
    {
        foreach (var node in tree.Nodes)
        {
            ct.ThrowIfCancellationRequested();
            string display = node.DisplayName;
            string itemPath = path + "/" + display;
            if (!IsSafeName(node.Name))
            {
                AddError(itemPath, "the snapshot holds an unsafe name (empty, '.', '..', or containing '/'); it was not restored");
                continue;
            }

            bool selected = (_includes.IsEmpty || _includes.Matches(itemPath)) && !_excludes.Matches(itemPath);
            if (node.Type == NodeType.Dir)
            {
                bool descend = !_excludes.Matches(itemPath) && (selected || _includes.MayMatchBelow(PathPattern.SplitPath(itemPath)));
                if (!descend || node.Subtree is not { } subtree)
                {
                    continue;
                }

                // Created owner-writable; the real mode comes at the end, after the contents.
                DirectoryHandle child;
                try
                {
                    child = dir.Handle.CreateDirectory(node.Name, 0x1C0);
                }
                catch (IOException ex)
                {
                    AddError(itemPath, ex.Message);
                    continue;
                }

                var restoredChild = new RestoredDir { Name = node.Name, Node = node };
                restoredDir.Children.Add(restoredChild);
                Interlocked.Increment(ref _dirs);
                var shared = new SharedDirectory(child);
                try
                {
                    var childTree = await _repository.LoadTreeAsync(subtree, ct).ConfigureAwait(false);
                    await RestoreTreeAsync(shared, restoredChild, childTree, [.. relDir, node.Name], itemPath, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IntegrityException or NotFoundException)
                {
                    AddError(itemPath, ex.Message, ex);
                }
                finally
                {
                    shared.Release();
                }

                continue;
            }

            if (!selected)
            {
                continue;
            }

            try
            {
                await RestoreNodeAsync(dir, node, relDir, itemPath, ct).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                AddError(itemPath, ex.Message);
            }
        }
    }

    private async Task RestoreNodeAsync(SharedDirectory dir, Node node, byte[][] relDir, string itemPath, CancellationToken ct)
    {
        switch (node.Type)
        {
            case NodeType.File:
                if (node.Links > 1 && node.Inode != 0)
                {
                    var key = (node.DeviceId, node.Inode);
                    if (_firstLinks.TryGetValue(key, out var original))
                    {
                        // Linked after all files are written, to the copy restored first.
                        _pendingLinks.Add((relDir, node.Name, original, itemPath));
                        return;
                    }

                    _firstLinks[key] = [.. relDir, node.Name];
                }

                await RestoreFileAsync(dir, node, itemPath, ct).ConfigureAwait(false);
                break;

            case NodeType.Symlink:
                dir.Handle.CreateSymlink(node.Name, node.LinkTarget ?? []);
                ApplyMetadata(dir.Handle, node, isSymlink: true);
                Interlocked.Increment(ref _others);
                break;

            case NodeType.Fifo:
            case NodeType.Dev:
            case NodeType.CharDev:
                var kind = node.Type switch
                {
                    NodeType.Fifo => PosixFileKind.Fifo,
                    NodeType.Dev => PosixFileKind.BlockDevice,
                    _ => PosixFileKind.CharDevice,
                };
                dir.Handle.CreateSpecial(node.Name, kind, NodeFactory.PosixPermissions(node.Mode), node.Device);
                ApplyMetadata(dir.Handle, node, isSymlink: false);
                Interlocked.Increment(ref _others);
                break;

            case NodeType.Socket:
                // A socket only means something to the process that bound it; restic does not restore them either.
                break;

            default:
                AddError(itemPath, $"node type {node.Type} cannot be restored");
                break;
        }
    }

    private async Task RestoreFileAsync(SharedDirectory dir, Node node, string itemPath, CancellationToken ct)
    {
        var content = node.Content ?? [];
        var locations = new BlobLocation[content.Count];
        long size = 0;
        for (int i = 0; i < content.Count; i++)
        {
            if (!_repository.Index.TryGet(content[i], BlobType.Data, out locations[i]))
            {
                AddError(itemPath, $"data blob {content[i].ToShortString()} is not in the index; the file was not restored");
                return;
            }

            size += locations[i].PlaintextLength;
        }

        var handle = dir.Handle.CreateFile(node.Name, 0x180);
        Interlocked.Increment(ref _filesTotal);
        Interlocked.Add(ref _bytesTotal, size);
        var direct = OpenDirectWriter(dir.Handle, node.Name, handle, size);
        var state = new FileState(dir, node.Name, node, itemPath, handle, content.Count, size)
        {
            Direct = direct,
            // Its length is set up front (below), so the blob at its end need not be written to give it one.
            TailWritten = direct is not null,
        };
        dir.AddRef();
        if (content.Count == 0)
        {
            FinishFile(state);
            return;
        }

        if (content.Count > 1)
        {
            await EnqueueMultiBlobFileAsync(new MultiBlobFile(state, content, locations), ct).ConfigureAwait(false);
            return;
        }

        // A file of one blob waits for others in the same pack, to be fetched with them in one read.
        await QueueAsync(_smallFiles.Add(new BlobRead<BlobTarget>(content[0], locations[0], new BlobTarget(state, 0))), ct).ConfigureAwait(false);
    }

    private async Task QueueAsync(IReadOnlyList<PackRange<BlobTarget>> ranges, CancellationToken ct)
    {
        foreach (var range in ranges)
        {
            await _jobs.Writer.WriteAsync(range, ct).ConfigureAwait(false);
        }
    }

    /// <summary>A writer past the page cache for a new file of <paramref name="size"/> bytes, where the options, the
    /// size and the file system allow one; the file then gets its length at once, so direct writes fill it in place
    /// instead of extending it.</summary>
    private DirectFileWriter? OpenDirectWriter(DirectoryHandle dir, byte[] name, SafeFileHandle handle, long size)
    {
        if (!_options.BypassPageCache || _directUnavailable || size < DirectFileWriter.MinimumFileSize)
        {
            return null;
        }

        var direct = DirectFileWriter.TryOpen(dir, name, handle);
        if (direct is null)
        {
            _directUnavailable = true;
            return null;
        }

        try
        {
            PosixFile.SetLength(handle, size);
            return direct;
        }
        catch (PosixException)
        {
            // The ordinary writes will meet (and report) whatever refused the length.
            direct.Dispose();
            return null;
        }
    }

    /// <summary>Adds a file of several blobs to the ones handing out jobs. Once <see cref="_multiBlobFilesAtOnce"/>
    /// are, their blobs go out a range from each in turn (the blobs that follow each other in a pack, up to 4 MiB)
    /// until one file is done; the walk then goes on, and the next such file takes the free place. So the workers
    /// write several files side by side instead of queueing on the inode lock of one, and fetch a large file with a
    /// request per few blobs.</summary>
    private async Task EnqueueMultiBlobFileAsync(MultiBlobFile file, CancellationToken ct)
    {
        _multiBlobFiles.Add(file);
        await DrainMultiBlobFilesAsync(_multiBlobFilesAtOnce - 1, ct).ConfigureAwait(false);
    }

    /// <summary>Hands out jobs of the files of several blobs, in turn, until at most <paramref name="keep"/> have jobs
    /// left.</summary>
    private async Task DrainMultiBlobFilesAsync(int keep, CancellationToken ct)
    {
        while (_multiBlobFiles.Count > keep)
        {
            for (int i = 0; i < _multiBlobFiles.Count; i++)
            {
                await _jobs.Writer.WriteAsync(_multiBlobFiles[i].TakeRange(), ct).ConfigureAwait(false);
            }

            _multiBlobFiles.RemoveAll(f => f.Done);
        }
    }

    private async Task WorkAsync(CancellationToken ct)
    {
        using var staging = new DirectFileWriter.Staging();
        await foreach (var range in _jobs.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            await RestoreRangeAsync(range, staging, ct).ConfigureAwait(false);
            foreach (var read in range.Reads)
            {
                if (read.Item.File.CompleteOne())
                {
                    FinishFile(read.Item.File);
                }
            }
        }
    }

    /// <summary>Fetches one range of a pack and writes every blob in it to the files that need it. A failure fails
    /// the files it concerns: all of the range's for a failed read, a blob's own for a damaged blob.</summary>
    private async Task RestoreRangeAsync(PackRange<BlobTarget> range, DirectFileWriter.Staging staging, CancellationToken ct)
    {
        if (ct.IsCancellationRequested)
        {
            FailAll(range.Reads, null);
            return;
        }

        if (range.Reads.All(r => r.Item.File.Failed))
        {
            return;
        }

        byte[] stored = _buffers.Rent(range.Length);
        try
        {
            try
            {
                await _repository.ReadPackRangeAsync(range.Pack, range.Offset, stored.AsMemory(0, range.Length), ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or KubeBackupException)
            {
                FailAll(range.Reads, ex);
                return;
            }
            catch (OperationCanceledException)
            {
                FailAll(range.Reads, null);
                return;
            }

            // Reads of the same blob are adjacent (the batcher sorts them): it is opened once, in place, and written to
            // every file that holds it. The pack's name is for error messages, made once per range.
            string packFile = new FileHandle(FileType.Pack, range.Pack.ToString()).RelativePath;
            for (int i = 0; i < range.Reads.Length;)
            {
                int next = i + 1;
                while (next < range.Reads.Length && range.Reads[next].Location == range.Reads[i].Location && range.Reads[next].Id == range.Reads[i].Id)
                {
                    next++;
                }

                RestoreBlob(range.Reads.AsSpan(i, next - i), stored.AsSpan((int)(range.Reads[i].Location.Offset - range.Offset), (int)range.Reads[i].Location.Length), packFile, staging);
                i = next;
            }
        }
        finally
        {
            _buffers.Return(stored);
        }
    }

    private void RestoreBlob(ReadOnlySpan<BlobRead<BlobTarget>> reads, Span<byte> stored, string packFile, DirectFileWriter.Staging staging)
    {
        var (id, location, _) = reads[0];
        bool needed = false;
        foreach (var read in reads)
        {
            needed |= !read.Item.File.Failed;
        }

        if (!needed)
        {
            return;
        }

        int length = (int)location.PlaintextLength;
        byte[]? decompressed = location.IsCompressed ? _buffers.Rent(length) : null;
        try
        {
            ReadOnlySpan<byte> data;
            try
            {
                data = _repository.OpenBlobInPlace(id, location, stored, decompressed.AsSpan(0, decompressed is null ? 0 : length), packFile);
            }
            catch (KubeBackupException ex)
            {
                FailAll(reads, ex);
                return;
            }

            // Zero blobs are left as holes; the file's length comes from its last blob or a truncate.
            bool write = !_options.Sparse || data.IndexOfAnyExcept((byte)0) >= 0;
            foreach (var read in reads)
            {
                var (file, offset) = read.Item;
                if (file.Failed)
                {
                    continue;
                }

                try
                {
                    if (write)
                    {
                        Write(file, data, offset, staging);
                    }

                    Interlocked.Add(ref _bytes, length);
                }
                catch (IOException ex)
                {
                    file.Failed = true;
                    AddError(file.Path, ex.Message, ex);
                }
            }
        }
        finally
        {
            if (decompressed is not null)
            {
                _buffers.Return(decompressed);
            }
        }
    }

    private void Write(FileState file, ReadOnlySpan<byte> data, long offset, DirectFileWriter.Staging staging)
    {
        if (file.Direct is { } direct)
        {
            direct.Write(file.Handle, data, offset, staging, file.Path);
            if (direct.Refused)
            {
                _directUnavailable = true;
            }
        }
        else
        {
            RandomAccess.Write(file.Handle, data, offset);
        }

        if (offset + data.Length == file.Size)
        {
            file.TailWritten = true;
        }
    }

    /// <summary>Marks the files of <paramref name="reads"/> failed, with the error once per file (none when
    /// cancelled).</summary>
    private void FailAll(ReadOnlySpan<BlobRead<BlobTarget>> reads, Exception? error)
    {
        foreach (var read in reads)
        {
            var file = read.Item.File;
            if (!file.Failed)
            {
                file.Failed = true;
                if (error is not null)
                {
                    AddError(file.Path, error.Message, error);
                }
            }
        }
    }

    private void FinishFile(FileState file)
    {
        try
        {
            if (!file.Failed)
            {
                if (!file.TailWritten && file.Size > 0)
                {
                    PosixFile.SetLength(file.Handle, file.Size);
                }

                // Through the open descriptor: no name lookups, and nothing can have replaced the file at its name.
                ApplyMetadata(new OpenFileTarget(file.Handle), file.Node, isSymlink: false);
                file.Handle.Dispose();
                Interlocked.Increment(ref _files);
            }
            else
            {
                file.Handle.Dispose();
                // A file that could not be restored whole is removed: half a file would pass for the real thing.
                file.Dir.Handle.Remove(file.Name, directory: false);
            }
        }
        catch (IOException ex)
        {
            AddError(file.Path, ex.Message);
        }
        finally
        {
            file.Direct?.Dispose();
            file.Handle.Dispose();
            file.Dir.Release();
        }
    }

    private void ApplyMetadata(DirectoryHandle dir, Node node, bool isSymlink) =>
        ApplyMetadata(new NamedEntryTarget(dir, node.Name), node, isSymlink);

    // Generic over the target struct: the calls bind statically, no boxing per restored file.
    private void ApplyMetadata<TTarget>(TTarget target, Node node, bool isSymlink)
        where TTarget : struct, IMetadataTarget
    {
        // Owner first: chown clears setuid/setgid bits, so the mode must come after it.
        if (_restoreOwner)
        {
            target.SetOwner(node.Uid, node.Gid);
        }

        if (!isSymlink)
        {
            target.SetPermissions(NodeFactory.PosixPermissions(node.Mode));
            if (node.ExtendedAttributes is { } xattrs)
            {
                foreach (var a in xattrs)
                {
                    try
                    {
                        target.SetExtendedAttribute(a.Name, a.Value);
                    }
                    catch (PosixException ex)
                    {
                        _repository.Logger.LogDebug("Extended attribute {Name} of {Node} not restored: {Message}", a.Name, node.DisplayName, ex.Message);
                    }
                }
            }
        }

        // Last: every write and attribute change before this one moves the times.
        target.SetTimes(ToTimeSpec(node.AccessTime), ToTimeSpec(node.ModTime));
    }

    private static TimeSpec ToTimeSpec(GoTime t) => new(t.UnixSeconds, t.Nanoseconds);

    private void CreateHardLinks()
    {
        foreach (var (relDir, name, original, path) in _pendingLinks)
        {
            try
            {
                using var linkDir = OpenRelative(relDir);
                using var originalDir = OpenRelative(original[..^1]);
                linkDir.CreateHardLink(name, originalDir, original[^1]);
                Interlocked.Increment(ref _others);
            }
            catch (IOException ex)
            {
                AddError(path, "hard link: " + ex.Message);
            }
        }
    }

    private DirectoryHandle OpenRelative(byte[][] components)
    {
        // Components were restored by us as real folders; OpenDirectory refuses anything else at each step.
        var current = DirectoryHandle.Open(_target);
        foreach (var c in components)
        {
            var next = current.OpenDirectory(c);
            current.Dispose();
            current = next;
        }

        return current;
    }

    private void ApplyDirectoryMetadata(DirectoryHandle parent, RestoredDir dir)
    {
        foreach (var child in dir.Children)
        {
            try
            {
                using (var handle = parent.OpenDirectory(child.Name))
                {
                    ApplyDirectoryMetadata(handle, child);
                }

                ApplyMetadata(parent, child.Node!, isSymlink: false);
            }
            catch (IOException ex)
            {
                AddError(child.Node!.DisplayName, ex.Message);
            }
        }
    }
}
