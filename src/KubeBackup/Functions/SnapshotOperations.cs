using KubeBackup.Restic;
using KubeBackup.Restic.Locking;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Repository;
using KubeBackup.Storage;

namespace KubeBackup.Functions;

/// <summary>Snapshot changes the functions need: tagging a snapshot after the fact, removing one, and choosing the
/// snapshot a restore means.</summary>
internal static class SnapshotOperations
{
    private static readonly TimeSpan LockRetry = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Adds a tag as restic's <c>tag --add</c> does: a copy with the tag (and <c>original</c> pointing at the first
    /// version) is written first, then the old file removed, so at no moment is there no snapshot, and a crash between
    /// the two leaves the tagged copy next to the old one rather than losing it.
    /// </summary>
    public static async Task<Snapshot> AddTagAsync(ResticRepository repository, Snapshot snapshot, string tag, CancellationToken cancellationToken)
    {
        if (snapshot.Tags?.Contains(tag) == true)
        {
            return snapshot;
        }

        await using var repoLock = await RepositoryLock.AcquireAsync(repository, exclusive: true, LockRetry, cancellationToken).ConfigureAwait(false);
        var copy = Copy(snapshot);
        copy.Tags = [.. snapshot.Tags ?? [], tag];
        copy.Original = snapshot.Original ?? snapshot.Id;
        var saved = await repository.SaveSnapshotAsync(copy, CancellationToken.None).ConfigureAwait(false);
        await repository.Backend.RemoveAsync(new FileHandle(FileType.Snapshot, snapshot.Id.ToString()), CancellationToken.None).ConfigureAwait(false);
        return saved;
    }

    /// <summary>Removes snapshot files (restic's <c>forget ID</c>); their data stays until a prune.</summary>
    public static async Task RemoveAsync(ResticRepository repository, IReadOnlyCollection<ResticId> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return;
        }

        await using var repoLock = await RepositoryLock.AcquireAsync(repository, exclusive: true, LockRetry, cancellationToken).ConfigureAwait(false);
        foreach (var id in ids)
        {
            await repository.Backend.RemoveAsync(new FileHandle(FileType.Snapshot, id.ToString()), CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The snapshot a restore means: an ID (prefix), or for <c>latest</c> the newest snapshot of the host that is not
    /// tagged partial (unless partial ones are allowed), optionally one that contains a path.
    /// </summary>
    public static async Task<Snapshot> FindAsync(ResticRepository repository, string selector, string host, string? path, bool allowPartial, string partialTag,
        CancellationToken cancellationToken)
    {
        var all = await repository.ListSnapshotsAsync(cancellationToken).ConfigureAwait(false);
        if (selector != "latest")
        {
            return new Restic.Snapshots.SnapshotFilter().Select(all, selector);
        }

        var candidates = all.Where(s => s.Hostname == host && (allowPartial || s.Tags?.Contains(partialTag) != true)
            && (path is null || s.Paths.Contains(path))).OrderByDescending(s => s.Time).ThenByDescending(s => s.Id).ToList();
        return candidates.Count > 0
            ? candidates[0]
            : throw new SnapshotNotFoundException($"No {(allowPartial ? "" : "complete ")}snapshot of host {host}{(path is null ? "" : $" with path {path}")} exists.");
    }

    private static Snapshot Copy(Snapshot s) => new()
    {
        Time = s.Time, Parent = s.Parent, Tree = s.Tree, Paths = [.. s.Paths], Hostname = s.Hostname, Username = s.Username,
        Uid = s.Uid, Gid = s.Gid, Excludes = s.Excludes is null ? null : [.. s.Excludes], Tags = s.Tags is null ? null : [.. s.Tags],
        ProgramVersion = s.ProgramVersion, Summary = s.Summary,
    };
}
