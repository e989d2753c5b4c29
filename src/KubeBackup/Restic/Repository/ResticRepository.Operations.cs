using System.Formats.Tar;
using System.Runtime.CompilerServices;
using KubeBackup.Restic.Archiver;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Restorer;
using KubeBackup.Restic.Snapshots;

namespace KubeBackup.Restic.Repository;

public sealed partial class ResticRepository
{
    /// <summary>Backs up files and folders into a new snapshot.</summary>
    /// <returns>The snapshot and statistics; <see cref="BackupResult.Errors"/> lists items that could not be read.</returns>
    /// <exception cref="RepositoryLockedException">Another process holds an exclusive lock.</exception>
    /// <exception cref="NotFoundException">None of the paths exists.</exception>
    /// <exception cref="OperationCanceledException">Cancelled: no snapshot was written, and the repository stays valid.</exception>
    public Task<BackupResult> BackupAsync(BackupOptions options, IProgress<BackupProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new Archiver.Archiver(this, options).RunAsync(progress, cancellationToken);
    }

    /// <summary>Backs up a stream as one file in a new snapshot (restic's <c>backup --stdin</c>).</summary>
    /// <exception cref="TruncatedStreamException">The stream delivered fewer or more bytes than <see cref="StreamBackupOptions.ExpectedLength"/>.</exception>
    public Task<BackupResult> BackupStreamAsync(Stream stream, StreamBackupOptions options, IProgress<BackupProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(options);
        return new StreamArchiver(this, options).RunAsync(stream, progress, cancellationToken);
    }

    /// <summary>Restores a snapshot (or part of it) into a folder.</summary>
    public Task<RestoreResult> RestoreAsync(Snapshot snapshot, RestoreOptions options, IProgress<RestoreProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(options);
        return new Restorer.Restorer(this, options).RunAsync(snapshot, progress, cancellationToken);
    }

    /// <summary>Finds a snapshot by <c>latest</c> or an ID prefix, among those passing <paramref name="filter"/>.</summary>
    public async Task<Snapshot> FindSnapshotAsync(string idOrLatest, SnapshotFilter? filter = null, CancellationToken cancellationToken = default)
    {
        filter ??= new SnapshotFilter();
        if (ResticId.TryParse(idOrLatest, out var fullId))
        {
            return await LoadSnapshotAsync(fullId, cancellationToken).ConfigureAwait(false);
        }

        var all = await ListSnapshotsAsync(cancellationToken).ConfigureAwait(false);
        return filter.Select(all, idOrLatest);
    }

    /// <summary>Lists everything in a snapshot, depth-first in name order (restic's <c>ls</c>).</summary>
    public async IAsyncEnumerable<SnapshotEntry> ListFilesAsync(Snapshot snapshot, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        await LoadIndexAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var e in ListFilesAsync(snapshot.Tree, "", cancellationToken).ConfigureAwait(false))
        {
            yield return e;
        }
    }

    private async IAsyncEnumerable<SnapshotEntry> ListFilesAsync(ResticId treeId, string path, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var tree = await LoadTreeAsync(treeId, cancellationToken).ConfigureAwait(false);
        foreach (var node in tree.Nodes)
        {
            string childPath = path + "/" + node.DisplayName;
            yield return new SnapshotEntry(childPath, node);
            if (node.Type == NodeType.Dir && node.Subtree is { } sub)
            {
                await foreach (var e in ListFilesAsync(sub, childPath, cancellationToken).ConfigureAwait(false))
                {
                    yield return e;
                }
            }
        }
    }

    /// <summary>Finds the node at a path in a snapshot (for example <c>/home/u/file.txt</c>).</summary>
    /// <exception cref="NotFoundException">No such path.</exception>
    public async Task<Node> FindNodeAsync(Snapshot snapshot, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(path);
        await LoadIndexAsync(cancellationToken).ConfigureAwait(false);
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var node = new Node { Name = [], Type = NodeType.Dir, Subtree = snapshot.Tree };
        foreach (var part in parts)
        {
            if (node.Type != NodeType.Dir || node.Subtree is not { } sub)
            {
                throw new NotFoundException($"'{path}' is not in snapshot {snapshot.Id.ToShortString()}.");
            }

            var tree = await LoadTreeAsync(sub, cancellationToken).ConfigureAwait(false);
            node = tree.Nodes.Find(n => n.DisplayName == part)
                ?? throw new NotFoundException($"'{path}' is not in snapshot {snapshot.Id.ToShortString()}.");
        }

        return node;
    }

    /// <summary>Writes a file's content from a snapshot to a stream (restic's <c>dump</c>). A folder is written as a tar
    /// archive of its contents, as restic does.</summary>
    public async Task DumpAsync(Snapshot snapshot, string path, Stream output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        var node = await FindNodeAsync(snapshot, path, cancellationToken).ConfigureAwait(false);
        if (node.Type == NodeType.File)
        {
            await WriteContentAsync(node, output, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (node.Type != NodeType.Dir || node.Subtree is not { } subtree)
        {
            throw new NotFoundException($"'{path}' is neither a file nor a folder.");
        }

        var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        await using (tar.ConfigureAwait(false))
        {
            await foreach (var entry in ListFilesAsync(subtree, "", cancellationToken).ConfigureAwait(false))
            {
                await WriteTarEntryAsync(tar, entry, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Opens a read-only, seekable stream over a file node's content; blobs are fetched as they are read.</summary>
    public Stream OpenFile(Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (node.Type != NodeType.File)
        {
            throw new ArgumentException("Only file nodes have content.", nameof(node));
        }

        var blobs = new List<(ResticId, Index.BlobLocation)>();
        foreach (var id in node.Content ?? [])
        {
            if (!Index.TryGet(id, BlobType.Data, out var location))
            {
                throw new NotFoundException($"data blob {id} of '{node.DisplayName}' is not in the index");
            }

            blobs.Add((id, location));
        }

        return new SnapshotFileStream(this, blobs);
    }

    private async Task WriteContentAsync(Node node, Stream output, CancellationToken cancellationToken)
    {
        foreach (var id in node.Content ?? [])
        {
            var data = await LoadBlobAsync(BlobType.Data, id, cancellationToken).ConfigureAwait(false);
            await output.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task WriteTarEntryAsync(TarWriter tar, SnapshotEntry entry, CancellationToken cancellationToken)
    {
        var node = entry.Node;
        string name = entry.Path.TrimStart('/');
        TarEntryType? type = node.Type switch
        {
            NodeType.File => TarEntryType.RegularFile,
            NodeType.Dir => TarEntryType.Directory,
            NodeType.Symlink => TarEntryType.SymbolicLink,
            NodeType.Fifo => TarEntryType.Fifo,
            NodeType.CharDev => TarEntryType.CharacterDevice,
            NodeType.Dev => TarEntryType.BlockDevice,
            _ => null,
        };
        if (type is null)
        {
            return;
        }

        var tarEntry = new PaxTarEntry(type.Value, type == TarEntryType.Directory ? name + "/" : name)
        {
            Mode = (UnixFileMode)(NodeFactory.PosixPermissions(node.Mode) & 0xFFF),
            ModificationTime = node.ModTime.ToDateTimeOffset(),
            Uid = (int)node.Uid,
            Gid = (int)node.Gid,
            UserName = node.User ?? "",
            GroupName = node.Group ?? "",
        };
        if (node.Type == NodeType.Symlink)
        {
            tarEntry.LinkName = System.Text.Encoding.UTF8.GetString(node.LinkTarget ?? []);
        }

        if (node.Type == NodeType.File)
        {
            // Streamed blob by blob, never the whole file in memory.
            await using var content = OpenFile(node);
            tarEntry.DataStream = content;
            await tar.WriteEntryAsync(tarEntry, cancellationToken).ConfigureAwait(false);
            return;
        }

        await tar.WriteEntryAsync(tarEntry, cancellationToken).ConfigureAwait(false);
    }
}
