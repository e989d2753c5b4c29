using System.Buffers;
using System.Diagnostics;
using System.Text;
using KubeBackup.Platform;
using KubeBackup.Restic.Json;
using KubeBackup.Restic.Locking;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Repository;

namespace KubeBackup.Restic.Archiver;

/// <summary>
/// Saves a stream as one file in a new snapshot, as restic's <c>backup --stdin --stdin-filename</c> does: the file sits at
/// its path under the root, folders on the way get mode 0755 and the current time. The stream is read to its end and
/// never held in memory; if it ends early (a shorter stream than promised, or a read error) no snapshot is written.
/// </summary>
internal sealed class StreamArchiver
{
    private readonly ResticRepository _repository;
    private readonly StreamBackupOptions _options;

    public StreamArchiver(ResticRepository repository, StreamBackupOptions options)
    {
        _repository = repository;
        _options = options;
    }

    public async Task<BackupResult> RunAsync(Stream stream, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        var parts = _options.FileName.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts.Any(p => p is "." or ".."))
        {
            throw new ArgumentException($"'{_options.FileName}' is not a usable file name for a stream.");
        }

        var clock = Stopwatch.StartNew();
        string hostname = _options.Hostname ?? _repository.Options.Hostname;
        string snapshotPath = "/" + string.Join('/', parts);
        await using var repoLock = await RepositoryLock.AcquireAsync(_repository, exclusive: false, cancellationToken: cancellationToken).ConfigureAwait(false);
        await _repository.LoadIndexAsync(cancellationToken).ConfigureAwait(false);
        ResticId? parent = _options.Parent;
        if (parent is null)
        {
            var snapshots = await _repository.ListSnapshotsAsync(cancellationToken).ConfigureAwait(false);
            parent = snapshots.Where(s => s.Hostname == hostname && s.Paths.Count == 1 && s.Paths[0] == snapshotPath)
                .OrderByDescending(s => s.Time).FirstOrDefault()?.Id;
        }

        var now = GoTime.FromDateTimeOffset(_options.Time ?? DateTimeOffset.Now);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await using var writer = new BlobWriter(_repository, cts.Token);
        await using var saver = new BlobSaver(_repository, writer, _repository.Options.Parallelism, cts.Token);
        var chunker = new ContentChunker(_repository.Config.ChunkerPolynomial, saver);
        long read = 0;
        var bytesProgress = progress is null ? null : new Progress<long>(n =>
        {
            read += n;
            progress.Report(new BackupProgress(0, 0, read, writer.PlainBytesAdded, 1, _options.ExpectedLength ?? 0, _options.ExpectedLength.HasValue, 0, clock.Elapsed));
        });

        ContentChunker.Result result;
        ResticId root;
        try
        {
            long received = 0;
            result = await chunker.ChunkAsync(async (buffer, token) =>
            {
                try
                {
                    int n = await stream.ReadAsync(buffer, token).ConfigureAwait(false);
                    received += n;
                    return n;
                }
                catch (IOException ex)
                {
                    throw new TruncatedStreamException(
                        $"Reading the stream for {snapshotPath} failed after {received} bytes: {ex.Message}; no snapshot was written.",
                        _options.ExpectedLength ?? -1, received, ex);
                }
            }, bytesProgress, cts.Token).ConfigureAwait(false);
            if (_options.ExpectedLength is { } expected && result.Bytes != expected)
            {
                throw new TruncatedStreamException(
                    $"The stream for {snapshotPath} delivered {result.Bytes} bytes, {expected} were expected; no snapshot was written.", expected, result.Bytes);
            }

            var file = NodeFactory.CreateVirtual(Encoding.UTF8.GetBytes(parts[^1]), NodeType.File, 0x1A4 /* 0644 */, now);
            file.Size = (ulong)result.Bytes;
            file.Content = result.Content;
            Node current = file;
            ResticId? tree = null;
            for (int i = parts.Length - 1; i >= 0; i--)
            {
                if (tree is { } subtree)
                {
                    current = NodeFactory.CreateVirtual(Encoding.UTF8.GetBytes(parts[i]), NodeType.Dir, 0x1ED /* 0755 */, now);
                    current.Subtree = subtree;
                }

                tree = await SaveTreeAsync(saver, current).ConfigureAwait(false);
            }

            root = tree!.Value;
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
            BackupStart = now,
            BackupEnd = GoTime.Now(),
            FilesNew = 1,
            DirsNew = (ulong)(parts.Length - 1),
            DataBlobs = (ulong)writer.BlobsAddedByType[(int)BlobType.Data],
            TreeBlobs = (ulong)writer.BlobsAddedByType[(int)BlobType.Tree],
            DataAdded = (ulong)writer.PlainBytesAdded,
            DataAddedPacked = (ulong)writer.PackedBytes,
            TotalFilesProcessed = 1,
            TotalBytesProcessed = (ulong)result.Bytes,
        };
        cancellationToken.ThrowIfCancellationRequested();
        var snapshot = await _repository.SaveSnapshotAsync(new Snapshot
        {
            Time = now,
            Parent = parent,
            Tree = root,
            Paths = [snapshotPath],
            Hostname = hostname,
            Username = _repository.Options.Username,
            Uid = PosixFile.EffectiveUserId,
            Gid = PosixFile.EffectiveGroupId,
            Tags = _options.Tags.Count > 0 ? [.. _options.Tags] : null,
            ProgramVersion = ProgramInfo.Version,
            Summary = summary,
        }, CancellationToken.None).ConfigureAwait(false);
        return new BackupResult
        {
            Snapshot = snapshot,
            Summary = summary,
            Errors = [],
            Parent = parent,
            Duration = clock.Elapsed,
            StoredBytesAdded = writer.PackedBytes,
        };
    }

    private static async Task<ResticId> SaveTreeAsync(BlobSaver saver, Node node)
    {
        var json = new ArrayBufferWriter<byte>(512);
        ResticJson.WriteTree([node], json);
        var id = ResticId.Hash(json.WrittenSpan);
        await saver.SaveCopyAsync(BlobType.Tree, id, json.WrittenSpan).ConfigureAwait(false);
        return id;
    }
}
