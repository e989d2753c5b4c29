using KubeBackup.Restic.Locking;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Snapshots;
using KubeBackup.Retention;
using KubeBackup.Storage;
using Microsoft.Extensions.Logging;

namespace KubeBackup.Restic.Repository;

public sealed partial class ResticRepository
{
    /// <summary>
    /// Applies a retention policy to the repository's snapshots and removes those it does not keep (restic's
    /// <c>forget --keep-*</c>). Only the snapshot files go; the data they referenced stays until a prune.
    /// </summary>
    /// <remarks>
    /// Takes an exclusive lock first, also for a dry run (as restic does), so the decisions are made on a list no
    /// backup is adding to. Snapshots with equal times are decided in ID order, which makes repeated runs agree
    /// (restic's order for them depends on the order its parallel readers finish).
    /// </remarks>
    /// <param name="policy">The policy.</param>
    /// <param name="options">Filter, grouping, compatibility, dry run; defaults if null.</param>
    /// <param name="cancellationToken">Cancels; snapshots already removed stay removed.</param>
    /// <exception cref="RepositoryLockedException">Another process holds a lock.</exception>
    /// <exception cref="RetentionException">Current semantics refuse the policy; nothing was removed.</exception>
    public async Task<ForgetResult> ForgetAsync(RetentionPolicy policy, ForgetOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        options ??= new ForgetOptions();
        policy.Validate(options.Compatibility);

        var (repoLock, owned) = await RepositoryLock.AcquireExclusiveForOperationAsync(this, options.RetryLock, cancellationToken).ConfigureAwait(false);
        await using var ownedLock = owned;
        var snapshots = await ListSnapshotsAsync(cancellationToken).ConfigureAwait(false);
        var selected = snapshots.Where(options.Filter.Matches).OrderBy(s => s.Id).ToList();
        var decisions = SnapshotRetention.Evaluate(selected, policy, options);
        var remove = decisions.Remove.ToList();
        if (!options.DryRun)
        {
            await repoLock.ConfirmAsync(cancellationToken).ConfigureAwait(false);
            await RemoveSnapshotFilesAsync(remove, cancellationToken).ConfigureAwait(false);
        }

        return new ForgetResult(decisions, remove, options.DryRun);
    }

    /// <summary>Removes the given snapshots (restic's <c>forget ID…</c>), under an exclusive lock.</summary>
    /// <param name="ids">Full snapshot IDs.</param>
    /// <param name="dryRun">Check that they exist, but remove nothing.</param>
    /// <param name="cancellationToken">Cancels; snapshots already removed stay removed.</param>
    /// <exception cref="SnapshotNotFoundException">One of the snapshots does not exist; nothing was removed.</exception>
    /// <exception cref="RepositoryLockedException">Another process holds a lock.</exception>
    public async Task<ForgetResult> ForgetSnapshotsAsync(IEnumerable<ResticId> ids, bool dryRun, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var (repoLock, owned) = await RepositoryLock.AcquireExclusiveForOperationAsync(this, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        await using var ownedLock = owned;
        var snapshots = new List<Snapshot>();
        foreach (var id in ids.Distinct())
        {
            snapshots.Add(await LoadSnapshotAsync(id, cancellationToken).ConfigureAwait(false));
        }

        if (!dryRun)
        {
            await repoLock.ConfirmAsync(cancellationToken).ConfigureAwait(false);
            await RemoveSnapshotFilesAsync(snapshots, cancellationToken).ConfigureAwait(false);
        }

        return new ForgetResult(null, snapshots, dryRun);
    }

    private async Task RemoveSnapshotFilesAsync(IReadOnlyList<Snapshot> snapshots, CancellationToken cancellationToken)
    {
        // One at a time and in order: an interrupted forget has then removed a prefix of the list, nothing else, and a
        // snapshot file is small enough that parallel removal would not save much.
        foreach (var snapshot in snapshots)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Backend.RemoveAsync(new FileHandle(FileType.Snapshot, snapshot.Id.ToString()), cancellationToken).ConfigureAwait(false);
            _logger.LogDebug("Removed snapshot {SnapshotId}", snapshot.Id.ToShortString());
        }
    }
}
