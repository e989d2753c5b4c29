using System.Buffers;
using System.Diagnostics;
using System.Formats.Tar;
using System.Globalization;
using System.Text;
using KubeBackup.Kubernetes.Exec;
using KubeBackup.Restic;
using KubeBackup.Restic.Archiver;
using KubeBackup.Restic.Json;
using KubeBackup.Restic.Locking;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Repository;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KubeBackup.Kubernetes.Agentless;

/// <summary>A folder in a pod's container to back up without any agent in the pod.</summary>
public sealed class AgentlessBackupRequest
{
    /// <summary>The pod's namespace.</summary>
    public required string Namespace { get; init; }

    /// <summary>The pod.</summary>
    public required string Pod { get; init; }

    /// <summary>The container; null for the pod's first.</summary>
    public string? Container { get; init; }

    /// <summary>The absolute folder path inside the container (usually a volume's mount path).</summary>
    public required string Path { get; init; }

    /// <summary>The host recorded in the snapshot (the target's backup host); parents are looked up by host and path.</summary>
    public required string Hostname { get; init; }

    /// <summary>Tags of the snapshot.</summary>
    public IList<string> Tags { get; } = [];

    /// <summary>Read every file even if the parent snapshot has it unchanged.</summary>
    public bool Force { get; init; }

    /// <summary>Time limit of each command; null for none.</summary>
    public TimeSpan? Timeout { get; init; }
}

/// <summary>What an agentless backup did.</summary>
public sealed class AgentlessBackupResult
{
    /// <summary>The snapshot written.</summary>
    public required Snapshot Snapshot { get; init; }

    /// <summary>The parent compared against, if any.</summary>
    public ResticId? Parent { get; init; }

    /// <summary>Files not in the parent.</summary>
    public long FilesNew { get; init; }

    /// <summary>Files whose size or modification time changed.</summary>
    public long FilesChanged { get; init; }

    /// <summary>Files taken from the parent without reading them.</summary>
    public long FilesUnmodified { get; init; }

    /// <summary>File content bytes that came out of the pod (unchanged files send none).</summary>
    public long ContentBytesRead { get; init; }

    /// <summary>Plaintext bytes of new blobs.</summary>
    public long BytesAdded { get; init; }

    /// <summary>Entries that vanished between listing and reading, left out of the snapshot.</summary>
    public IReadOnlyList<string> Skipped { get; init; } = [];
}

/// <summary>
/// Backs up a folder in a pod with nothing but <c>find</c> and <c>tar</c> in the container (GNU findutils and tar): a
/// listing (type, size, times, owner, mode of every entry) is compared with the parent snapshot, and only new or
/// changed files are streamed out as a tar over exec. Each tar entry is chunked into the repository as its own file
/// node, so files deduplicate one by one and unchanged files cost neither transfer nor reading. Restore streams the
/// snapshot's folder as a tar into <c>tar -x</c> in the pod.
/// </summary>
public sealed class AgentlessFileBackup
{
    private readonly IPodExecutor _executor;
    private readonly ILogger _logger;

    /// <summary>Creates the backup over an executor.</summary>
    public AgentlessFileBackup(IPodExecutor executor, ILogger<AgentlessFileBackup>? logger = null)
    {
        _executor = executor ?? throw new ArgumentNullException(nameof(executor));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    private sealed class Entry
    {
        public required string RelativePath { get; init; }
        public required byte[] RawPath { get; init; }
        public required Node Node { get; init; }
        public List<Entry> Children { get; } = [];
        public bool NeedsContent { get; set; }
        public bool Missing { get; set; }
    }

    /// <summary>Backs up the folder into a new snapshot.</summary>
    /// <exception cref="PodExecException">Listing or reading in the pod failed; no snapshot was written.</exception>
    public async Task<AgentlessBackupResult> BackupAsync(ResticRepository repository, AgentlessBackupRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(request);
        string root = NormalizePath(request.Path);
        var clock = Stopwatch.StartNew();
        var start = GoTime.Now();
        await using var repoLock = await RepositoryLock.AcquireAsync(repository, exclusive: false, cancellationToken: cancellationToken).ConfigureAwait(false);
        await repository.LoadIndexAsync(cancellationToken).ConfigureAwait(false);

        var entries = await ListAsync(request, root, cancellationToken).ConfigureAwait(false);
        var rootEntry = entries.GetValueOrDefault("") ?? throw new PodExecException($"{root} is not a folder in {request.Namespace}/{request.Pod}.");
        if (rootEntry.Node.Type != NodeType.Dir)
        {
            throw new PodExecException($"{root} in {request.Namespace}/{request.Pod} is not a folder.");
        }

        Snapshot? parent = null;
        var parentNodes = new Dictionary<string, Node>(StringComparer.Ordinal);
        if (!request.Force)
        {
            var snapshots = await repository.ListSnapshotsAsync(cancellationToken).ConfigureAwait(false);
            parent = snapshots.Where(s => s.Hostname == request.Hostname && s.Paths.Count == 1 && s.Paths[0] == root).OrderByDescending(s => s.Time).FirstOrDefault();
            if (parent is not null)
            {
                await LoadParentAsync(repository, parent, root, parentNodes, cancellationToken).ConfigureAwait(false);
            }
        }

        long filesNew = 0, filesChanged = 0, filesUnmodified = 0;
        var toRead = new List<Entry>();
        foreach (var e in entries.Values.Where(e => e.Node.Type == NodeType.File))
        {
            if (parentNodes.TryGetValue(e.RelativePath, out var old) && IsUnchanged(repository, e.Node, old))
            {
                e.Node.Content = old.Content;
                filesUnmodified++;
                continue;
            }

            if (old is null)
            {
                filesNew++;
            }
            else
            {
                filesChanged++;
            }

            if (e.Node.Size == 0)
            {
                e.Node.Content = [];
            }
            else
            {
                e.NeedsContent = true;
                toRead.Add(e);
            }
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await using var writer = new BlobWriter(repository, cts.Token);
        await using var saver = new BlobSaver(repository, writer, repository.Options.Parallelism, cts.Token);
        var chunker = new ContentChunker(repository.Config.ChunkerPolynomial, saver);
        long contentBytes = 0;
        var skipped = new List<string>();
        ResticId rootTree;
        try
        {
            if (toRead.Count > 0)
            {
                contentBytes = await ReadContentAsync(request, root, toRead, entries, chunker, cts.Token).ConfigureAwait(false);
            }

            foreach (var e in toRead.Where(e => e.NeedsContent))
            {
                // Listed but not in the tar: deleted in between. Left out, and said so.
                e.Missing = true;
                skipped.Add(root + "/" + e.RelativePath);
            }

            var dirTree = await SaveDirectoryAsync(saver, rootEntry).ConfigureAwait(false);
            rootEntry.Node.Subtree = dirTree;
            rootTree = await SaveRootAsync(saver, root, rootEntry.Node).ConfigureAwait(false);
            await saver.CompleteAsync().ConfigureAwait(false);
            await writer.FlushAsync(cts.Token).ConfigureAwait(false);
        }
        catch
        {
            await cts.CancelAsync().ConfigureAwait(false);
            throw;
        }

        var summary = new SnapshotSummary
        {
            BackupStart = start,
            BackupEnd = GoTime.Now(),
            FilesNew = (ulong)filesNew,
            FilesChanged = (ulong)filesChanged,
            FilesUnmodified = (ulong)filesUnmodified,
            DirsNew = (ulong)entries.Values.Count(e => e.Node.Type == NodeType.Dir),
            DataBlobs = (ulong)writer.BlobsAddedByType[(int)BlobType.Data],
            TreeBlobs = (ulong)writer.BlobsAddedByType[(int)BlobType.Tree],
            DataAdded = (ulong)writer.PlainBytesAdded,
            DataAddedPacked = (ulong)writer.PackedBytes,
            TotalFilesProcessed = (ulong)(filesNew + filesChanged + filesUnmodified - skipped.Count),
            TotalBytesProcessed = (ulong)entries.Values.Where(e => e.Node.Type == NodeType.File && !e.Missing).Sum(e => (long)e.Node.Size),
        };
        cancellationToken.ThrowIfCancellationRequested();
        var snapshot = await repository.SaveSnapshotAsync(new Snapshot
        {
            Time = start,
            Parent = parent?.Id,
            Tree = rootTree,
            Paths = [root],
            Hostname = request.Hostname,
            Username = repository.Options.Username,
            Tags = request.Tags.Count > 0 ? [.. request.Tags] : null,
            ProgramVersion = ProgramInfo.Version,
            Summary = summary,
        }, CancellationToken.None).ConfigureAwait(false);
        _logger.LogInformation("Agentless backup of {Path} in {Pod}: snapshot {Snapshot}, {New} new, {Changed} changed, {Unmodified} unmodified files, {Bytes} bytes read in {Elapsed}",
            root, request.Pod, snapshot.Id.ToShortString(), filesNew, filesChanged, filesUnmodified, contentBytes, clock.Elapsed);
        return new AgentlessBackupResult
        {
            Snapshot = snapshot, Parent = parent?.Id, FilesNew = filesNew, FilesChanged = filesChanged, FilesUnmodified = filesUnmodified,
            ContentBytesRead = contentBytes, BytesAdded = writer.PlainBytesAdded, Skipped = skipped,
        };
    }

    private static string NormalizePath(string path)
    {
        if (!path.StartsWith('/'))
        {
            throw new ArgumentException("The path in the container must be absolute.", nameof(path));
        }

        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Any(p => p is "." or ".."))
        {
            throw new ArgumentException("The path in the container must not contain '.' or '..'.", nameof(path));
        }

        return "/" + string.Join('/', parts);
    }

    // -------------------------------------------------------------------------------------------------------------------
    // Listing: find prints one record per entry: "type size mtime ctime mode uid gid user group\0relative path\0link target\0".

    private const string FindFormat = "%y %s %T@ %C@ %m %U %G %u %g\\0%P\\0%l\\0";

    private async Task<Dictionary<string, Entry>> ListAsync(AgentlessBackupRequest request, string root, CancellationToken ct)
    {
        var exec = new PodExecRequest
        {
            Namespace = request.Namespace, Pod = request.Pod, Container = request.Container, Timeout = request.Timeout,
            Command = ["find", root, "-xdev", "-printf", FindFormat], Stdout = ExecOutputMode.Stream,
        };
        var session = await _executor.StartAsync(exec, ct).ConfigureAwait(false);
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        await using (session.ConfigureAwait(false))
        {
            var fields = new List<byte[]>(3);
            var current = new ArrayBufferWriter<byte>(256);
            var buffer = new byte[64 * 1024];
            int n;
            while ((n = await session.StandardOutput!.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            {
                int start = 0;
                for (int i = 0; i < n; i++)
                {
                    if (buffer[i] != 0)
                    {
                        continue;
                    }

                    current.Write(buffer.AsSpan(start, i - start));
                    fields.Add(current.WrittenSpan.ToArray());
                    current.Clear();
                    start = i + 1;
                    if (fields.Count == 3)
                    {
                        AddEntry(entries, fields[0], fields[1], fields[2]);
                        fields.Clear();
                    }
                }

                current.Write(buffer.AsSpan(start, n - start));
            }

            var result = await session.WaitAsync(ct).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                throw new PodExecException($"Listing {root} in {request.Namespace}/{request.Pod} failed: {result.FailureReason}", result);
            }
        }

        // Link children to their folders.
        foreach (var e in entries.Values)
        {
            if (e.RelativePath.Length == 0)
            {
                continue;
            }

            int slash = e.RelativePath.LastIndexOf('/');
            string parentPath = slash < 0 ? "" : e.RelativePath[..slash];
            if (entries.TryGetValue(parentPath, out var parent))
            {
                parent.Children.Add(e);
            }
        }

        return entries;
    }

    private static void AddEntry(Dictionary<string, Entry> entries, byte[] meta, byte[] rawPath, byte[] link)
    {
        var f = Encoding.UTF8.GetString(meta).Split(' ');
        if (f.Length < 9)
        {
            throw new FormatException("unexpected listing line from find");
        }

        var type = f[0] switch
        {
            "f" => NodeType.File,
            "d" => NodeType.Dir,
            "l" => NodeType.Symlink,
            "p" => NodeType.Fifo,
            "s" => NodeType.Socket,
            "c" => NodeType.CharDev,
            "b" => NodeType.Dev,
            _ => (NodeType?)null,
        };
        if (type is null)
        {
            return;
        }

        uint perm = Convert.ToUInt32(f[4], 8);
        uint mode = (perm & GoFileMode.Permissions)
            | ((perm & 0x800) != 0 ? GoFileMode.Setuid : 0) | ((perm & 0x400) != 0 ? GoFileMode.Setgid : 0) | ((perm & 0x200) != 0 ? GoFileMode.Sticky : 0)
            | type switch
            {
                NodeType.Dir => GoFileMode.Dir,
                NodeType.Symlink => GoFileMode.Symlink,
                NodeType.Fifo => GoFileMode.NamedPipe,
                NodeType.Socket => GoFileMode.Socket,
                NodeType.CharDev => GoFileMode.Device | GoFileMode.CharDevice,
                NodeType.Dev => GoFileMode.Device,
                _ => 0u,
            };
        string rel = Encoding.UTF8.GetString(rawPath);
        int slash = rel.LastIndexOf('/');
        var mtime = ParseTime(f[2]);
        var node = new Node
        {
            Name = rawPath.AsSpan(rawPath.AsSpan().LastIndexOf((byte)'/') + 1).ToArray(),
            Type = type.Value,
            Mode = mode,
            ModTime = mtime,
            AccessTime = mtime,
            ChangeTime = ParseTime(f[3]),
            Uid = uint.Parse(f[5], CultureInfo.InvariantCulture),
            Gid = uint.Parse(f[6], CultureInfo.InvariantCulture),
            User = f[7] == f[5] ? null : f[7],
            Group = f[8] == f[6] ? null : f[8],
            Size = type == NodeType.File ? ulong.Parse(f[1], CultureInfo.InvariantCulture) : 0,
            Links = 1,
            LinkTarget = type == NodeType.Symlink ? link : null,
        };
        entries[rel] = new Entry { RelativePath = rel, RawPath = rawPath, Node = node };
        _ = slash;
    }

    private static GoTime ParseTime(string text)
    {
        // find prints seconds with a fraction ("1732700000.1234567890"); keep nanoseconds.
        int dot = text.IndexOf('.', StringComparison.Ordinal);
        long seconds = long.Parse(dot < 0 ? text : text[..dot], CultureInfo.InvariantCulture);
        int nanos = 0;
        if (dot >= 0)
        {
            var frac = (text[(dot + 1)..] + "000000000")[..9];
            nanos = int.Parse(frac, CultureInfo.InvariantCulture);
        }

        return new GoTime(seconds, nanos, 0);
    }

    private static bool IsUnchanged(ResticRepository repository, Node current, Node previous)
    {
        if (previous.Type != NodeType.File || previous.Content is null || previous.Size != current.Size || !previous.ModTime.SameInstant(current.ModTime))
        {
            return false;
        }

        return previous.Content.All(id => repository.Index.Contains(id, BlobType.Data));
    }

    private static async Task LoadParentAsync(ResticRepository repository, Snapshot parent, string root, Dictionary<string, Node> result, CancellationToken ct)
    {
        Node folder;
        try
        {
            folder = await repository.FindNodeAsync(parent, root, ct).ConfigureAwait(false);
        }
        catch (NotFoundException)
        {
            return;
        }

        if (folder.Subtree is { } subtree)
        {
            await WalkAsync(subtree, "").ConfigureAwait(false);
        }

        async Task WalkAsync(ResticId treeId, string prefix)
        {
            var tree = await repository.LoadTreeAsync(treeId, ct).ConfigureAwait(false);
            foreach (var node in tree.Nodes)
            {
                string path = prefix.Length == 0 ? node.DisplayName : prefix + "/" + node.DisplayName;
                result[path] = node;
                if (node.Type == NodeType.Dir && node.Subtree is { } child)
                {
                    await WalkAsync(child, path).ConfigureAwait(false);
                }
            }
        }
    }

    // -------------------------------------------------------------------------------------------------------------------
    // Content: one tar of the files that need reading, names passed on stdin (v5), or the whole folder on v4.

    private async Task<long> ReadContentAsync(AgentlessBackupRequest request, string root, List<Entry> toRead, Dictionary<string, Entry> entries,
        ContentChunker chunker, CancellationToken ct)
    {
        var listRequest = new PodExecRequest
        {
            Namespace = request.Namespace, Pod = request.Pod, Container = request.Container, Timeout = request.Timeout,
            Command = ["tar", "-c", "-f", "-", "--format=pax", "--null", "--no-recursion", "-C", root, "-T", "-"], Stdin = true, Stdout = ExecOutputMode.Stream,
        };
        var session = await _executor.StartAsync(listRequest, ct).ConfigureAwait(false);
        if (!session.CanCloseStdin)
        {
            // v4 cannot end a name list on stdin: read the whole folder and skip what is unchanged.
            await session.DisposeAsync().ConfigureAwait(false);
            _logger.LogInformation("The API server speaks only exec v4: reading all of {Path} and skipping unchanged files locally", root);
            session = await _executor.StartAsync(new PodExecRequest
            {
                Namespace = request.Namespace, Pod = request.Pod, Container = request.Container, Timeout = request.Timeout,
                Command = ["tar", "-c", "-f", "-", "--format=pax", "-C", root, "."], Stdout = ExecOutputMode.Stream,
            }, ct).ConfigureAwait(false);
        }

        await using (session.ConfigureAwait(false))
        {
            Task feed = Task.CompletedTask;
            if (session.CanCloseStdin)
            {
                feed = Task.Run(async () =>
                {
                    var names = new ArrayBufferWriter<byte>();
                    foreach (var e in toRead)
                    {
                        names.Write(e.RawPath);
                        names.Write([(byte)0]);
                    }

                    await session.CopyToStdinAsync(new MemoryStream(names.WrittenMemory.ToArray()), ct).ConfigureAwait(false);
                }, ct);
            }

            long bytes = 0;
            var reader = new TarReader(session.StandardOutput!, leaveOpen: true);
            await using (reader.ConfigureAwait(false))
            {
                TarEntry? entry;
                while ((entry = await reader.GetNextEntryAsync(copyData: false, ct).ConfigureAwait(false)) is not null)
                {
                    if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null)
                    {
                        continue;
                    }

                    string name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
                    if (!entries.TryGetValue(name, out var e) || !e.NeedsContent)
                    {
                        continue;
                    }

                    var data = entry.DataStream;
                    var result = await chunker.ChunkAsync(async (buffer, token) => await data.ReadAsync(buffer, token).ConfigureAwait(false), null, ct).ConfigureAwait(false);
                    e.Node.Content = result.Content;
                    // What was read is what is recorded, even if the file changed since the listing.
                    e.Node.Size = (ulong)result.Bytes;
                    // The listing's time has nanoseconds; the tar header may not. Only a file that changed after the
                    // listing (another second) takes the tar's time, so the next run still sees unchanged files as such.
                    var tarTime = entry is PaxTarEntry pax && pax.ExtendedAttributes.TryGetValue("mtime", out var precise)
                        ? ParseTime(precise)
                        : GoTime.FromDateTimeOffset(entry.ModificationTime.ToUniversalTime());
                    if (tarTime.UnixSeconds != e.Node.ModTime.UnixSeconds)
                    {
                        e.Node.ModTime = tarTime;
                    }

                    e.Node.AccessTime = e.Node.ModTime;
                    e.NeedsContent = false;
                    bytes += result.Bytes;
                }

                // Drain the end-of-archive blocks so the command can finish writing.
                await session.StandardOutput!.CopyToAsync(Stream.Null, ct).ConfigureAwait(false);
            }

            await feed.ConfigureAwait(false);
            var exit = await session.WaitAsync(ct).ConfigureAwait(false);
            // GNU tar exits 1 when a file changed or vanished while it was read: those are reported, not fatal.
            if (!exit.Succeeded && exit.ExitCode != 1)
            {
                throw new PodExecException($"Reading files of {root} in {request.Namespace}/{request.Pod} with tar failed: {exit.FailureReason}", exit);
            }

            return bytes;
        }
    }

    // -------------------------------------------------------------------------------------------------------------------
    // Trees

    private static async Task<ResticId> SaveDirectoryAsync(BlobSaver saver, Entry dir)
    {
        var nodes = new List<Node>();
        foreach (var child in dir.Children.Where(c => !c.Missing))
        {
            if (child.Node.Type == NodeType.Dir)
            {
                child.Node.Subtree = await SaveDirectoryAsync(saver, child).ConfigureAwait(false);
            }

            nodes.Add(child.Node);
        }

        nodes.Sort((a, b) => a.Name.AsSpan().SequenceCompareTo(b.Name));
        return await SaveTreeAsync(saver, nodes).ConfigureAwait(false);
    }

    private static async Task<ResticId> SaveRootAsync(BlobSaver saver, string root, Node folder)
    {
        // The snapshot mirrors the absolute path, as restic does; folders on the way carry no metadata of their own.
        var parts = root.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            return folder.Subtree!.Value;
        }

        folder.Name = Encoding.UTF8.GetBytes(parts[^1]);
        Node current = folder;
        ResticId tree = await SaveTreeAsync(saver, [current]).ConfigureAwait(false);
        for (int i = parts.Length - 2; i >= 0; i--)
        {
            current = NodeFactory.CreateVirtual(Encoding.UTF8.GetBytes(parts[i]), NodeType.Dir, 0x1ED, new GoTime(0, 0, 0));
            current.Uid = 0;
            current.Gid = 0;
            current.Subtree = tree;
            tree = await SaveTreeAsync(saver, [current]).ConfigureAwait(false);
        }

        return tree;
    }

    private static async Task<ResticId> SaveTreeAsync(BlobSaver saver, List<Node> nodes)
    {
        var json = new ArrayBufferWriter<byte>(256 + nodes.Count * 300);
        ResticJson.WriteTree(nodes, json);
        var id = ResticId.Hash(json.WrittenSpan);
        await saver.SaveCopyAsync(BlobType.Tree, id, json.WrittenSpan).ConfigureAwait(false);
        return id;
    }

    // -------------------------------------------------------------------------------------------------------------------
    // Restore

    /// <summary>Restores a backed-up folder into a folder of a pod's container by streaming a tar into <c>tar -x</c>
    /// (needs the v5 exec protocol). Files, folders, symlinks, modes and modification times come back.</summary>
    /// <param name="repository">The repository.</param>
    /// <param name="snapshot">The snapshot.</param>
    /// <param name="sourcePath">The folder in the snapshot (the backed-up container path).</param>
    /// <param name="request">Where to restore: pod, container, and <see cref="AgentlessBackupRequest.Path"/> as the target folder.</param>
    /// <param name="cancellationToken">Cancels the restore.</param>
    public async Task<PodExecResult> RestoreAsync(ResticRepository repository, Snapshot snapshot, string sourcePath, AgentlessBackupRequest request,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(request);
        string target = NormalizePath(request.Path);
        var session = await _executor.StartAsync(new PodExecRequest
        {
            Namespace = request.Namespace, Pod = request.Pod, Container = request.Container, Timeout = request.Timeout,
            Command = ["tar", "-x", "-f", "-", "-p", "-C", target], Stdin = true, Stdout = ExecOutputMode.Capture,
        }, cancellationToken).ConfigureAwait(false);
        await using (session.ConfigureAwait(false))
        {
            if (!session.CanCloseStdin)
            {
                await session.CloseStdinAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var stdin = new StdinStream(session))
            {
                await repository.DumpAsync(snapshot, sourcePath, stdin, cancellationToken).ConfigureAwait(false);
            }

            await session.CloseStdinAsync(cancellationToken).ConfigureAwait(false);
            var result = await session.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                throw new PodExecException($"Restoring into {target} in {request.Namespace}/{request.Pod} failed: {result.FailureReason}", result);
            }

            return result;
        }
    }

    /// <summary>A write-only stream into a session's stdin, buffered into large frames.</summary>
    private sealed class StdinStream : Stream
    {
        private readonly PodExecSession _session;
        private readonly byte[] _buffer = new byte[256 * 1024];
        private int _count;

        public StdinStream(PodExecSession session) => _session = session;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();
        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (buffer.Length > 0)
            {
                int n = Math.Min(buffer.Length, _buffer.Length - _count);
                buffer[..n].CopyTo(_buffer.AsMemory(_count));
                _count += n;
                buffer = buffer[n..];
                if (_count == _buffer.Length)
                {
                    await FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }

        public override async Task FlushAsync(CancellationToken cancellationToken)
        {
            if (_count > 0)
            {
                await _session.WriteStdinAsync(_buffer.AsMemory(0, _count), cancellationToken).ConfigureAwait(false);
                _count = 0;
            }
        }

        public override async ValueTask DisposeAsync()
        {
            await FlushAsync(CancellationToken.None).ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
}
