using System.Buffers;
using KubeBackup.Restic.Archiver;
using KubeBackup.Restic.Locking;
using KubeBackup.Restic.Model;

namespace KubeBackup.Restic.Repository;

/// <summary>What a copy did.</summary>
/// <param name="Copied">Snapshots written to the destination (source ID → new ID).</param>
/// <param name="Skipped">Source snapshots the destination already had.</param>
/// <param name="BlobsCopied">Blobs the destination did not have.</param>
/// <param name="BytesCopied">Plaintext bytes of those blobs.</param>
public sealed record CopyResult(IReadOnlyDictionary<ResticId, ResticId> Copied, IReadOnlyList<ResticId> Skipped, long BlobsCopied, long BytesCopied);

public sealed partial class ResticRepository
{
    /// <summary>Copies snapshots into another repository (restic's <c>copy</c>), which may live on other storage and
    /// use another password. Only blobs the destination lacks are transferred; they are re-encrypted with its key.
    /// Snapshots already copied earlier (same original snapshot) are skipped, so copying again is cheap.</summary>
    /// <param name="destination">The repository to copy into.</param>
    /// <param name="snapshots">The snapshots to copy (from <see cref="ListSnapshotsAsync"/> of this repository).</param>
    /// <param name="cancellationToken">Cancels the copy; snapshots already copied stay.</param>
    public async Task<CopyResult> CopyToAsync(ResticRepository destination, IEnumerable<Snapshot> snapshots, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(snapshots);
        await using var sourceLock = await RepositoryLock.AcquireAsync(this, exclusive: false, cancellationToken: cancellationToken).ConfigureAwait(false);
        await using var destinationLock = await RepositoryLock.AcquireAsync(destination, exclusive: false, cancellationToken: cancellationToken).ConfigureAwait(false);
        await LoadIndexAsync(cancellationToken).ConfigureAwait(false);
        await destination.LoadIndexAsync(cancellationToken).ConfigureAwait(false);
        var existing = (await destination.ListSnapshotsAsync(cancellationToken).ConfigureAwait(false))
            .Select(s => s.Original ?? s.Id).ToHashSet();

        var copied = new Dictionary<ResticId, ResticId>();
        var skipped = new List<ResticId>();
        long blobs = 0, bytes = 0;
        foreach (var snapshot in snapshots)
        {
            var original = snapshot.Original ?? snapshot.Id;
            if (existing.Contains(original))
            {
                skipped.Add(snapshot.Id);
                continue;
            }

            await using (var writer = new BlobWriter(destination, cancellationToken))
            {
                await using var saver = new BlobSaver(destination, writer, destination.Options.Parallelism, cancellationToken);
                var pending = new Stack<ResticId>();
                pending.Push(snapshot.Tree);
                var seenTrees = new HashSet<ResticId>();
                while (pending.Count > 0)
                {
                    var treeId = pending.Pop();
                    if (!seenTrees.Add(treeId) || writer.Has(treeId, BlobType.Tree))
                    {
                        // A tree the destination has implies it has everything below it.
                        continue;
                    }

                    // Trees are copied byte for byte, so their IDs (and the snapshot's) stay the same.
                    var treeBytes = await LoadBlobAsync(BlobType.Tree, treeId, cancellationToken).ConfigureAwait(false);
                    var tree = Json.ResticJson.ReadTree(treeBytes);
                    foreach (var node in tree.Nodes)
                    {
                        foreach (var id in node.Content ?? [])
                        {
                            if (!writer.Has(id, BlobType.Data) && Index.TryGet(id, BlobType.Data, out var location))
                            {
                                var buffer = saver.Buffers.Rent((int)Math.Max(1, location.PlaintextLength));
                                await LoadBlobAsync(id, location, buffer.AsMemory(0, (int)location.PlaintextLength), cancellationToken).ConfigureAwait(false);
                                if (await saver.SaveAsync(BlobType.Data, id, buffer, (int)location.PlaintextLength).ConfigureAwait(false))
                                {
                                    blobs++;
                                    bytes += location.PlaintextLength;
                                }
                            }
                            else if (!writer.Has(id, BlobType.Data))
                            {
                                throw new IntegrityException($"data blob {id.ToShortString()} of snapshot {snapshot.Id.ToShortString()} is not in the source index");
                            }
                        }

                        if (node.Subtree is { } sub)
                        {
                            pending.Push(sub);
                        }
                    }

                    if (await saver.SaveCopyAsync(BlobType.Tree, treeId, treeBytes).ConfigureAwait(false))
                    {
                        blobs++;
                        bytes += treeBytes.Length;
                    }
                }

                await saver.CompleteAsync().ConfigureAwait(false);
                await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            var copy = new Snapshot
            {
                Time = snapshot.Time,
                Parent = null,
                Tree = snapshot.Tree,
                Paths = [.. snapshot.Paths],
                Hostname = snapshot.Hostname,
                Username = snapshot.Username,
                Uid = snapshot.Uid,
                Gid = snapshot.Gid,
                Excludes = snapshot.Excludes,
                Tags = snapshot.Tags,
                Original = original,
                ProgramVersion = snapshot.ProgramVersion,
                Summary = snapshot.Summary,
            };
            copied[snapshot.Id] = (await destination.SaveSnapshotAsync(copy, cancellationToken).ConfigureAwait(false)).Id;
            existing.Add(original);
        }

        return new CopyResult(copied, skipped, blobs, bytes);
    }
}
