using KubeBackup.Restic.Pruning;

namespace KubeBackup.Restic.Repository;

public sealed partial class ResticRepository
{
    /// <summary>Removes data that no snapshot references (restic's <c>prune</c>) under an exclusive lock. Safe to
    /// interrupt at any moment: the repository stays valid and a later prune finishes the job.</summary>
    /// <exception cref="RepositoryLockedException">Another process holds a lock.</exception>
    /// <exception cref="IntegrityException">The index and the storage disagree (a pack is missing or has the wrong
    /// size, or a snapshot needs a blob no index has): prune changes nothing and says what is wrong.</exception>
    public Task<PruneResult> PruneAsync(PruneOptions? options = null, IProgress<PruneProgress>? progress = null, CancellationToken cancellationToken = default) =>
        new Pruner(this, options ?? new PruneOptions(), progress).RunAsync(cancellationToken);
}
