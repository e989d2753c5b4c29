using KubeBackup.Configuration;
using KubeBackup.Restic;
using KubeBackup.Restic.Repository;
using KubeBackup.Restic.Snapshots;
using KubeBackup.Retention;

namespace KubeBackup.Functions;

/// <summary>Applies a retention policy to one target's snapshots (<see cref="ResticRetentionRunner"/>; tests can put a
/// recording one in its place).</summary>
internal interface IRetentionRunner
{
    /// <summary>Decides and (unless a dry run) removes snapshots of <paramref name="scope"/>'s host that carry none of
    /// its excluded tags.</summary>
    Task<RetentionRunResult> ApplyAsync(ResticRepository repository, RetentionSpec policy, RetentionScope scope, CancellationToken cancellationToken);
}

/// <summary>Which snapshots a retention run judges.</summary>
/// <param name="Host">Only snapshots of this host.</param>
/// <param name="ExcludedTags">Snapshots with any of these tags are neither kept nor removed by the policy.</param>
/// <param name="DryRun">Decide only.</param>
internal sealed record RetentionScope(string Host, IReadOnlyList<string> ExcludedTags, bool DryRun);

/// <summary>What a retention run removed and kept.</summary>
internal sealed record RetentionRunResult(IReadOnlyList<ResticId> Removed, IReadOnlyList<ResticId> Kept);

/// <summary>Checks a repository's integrity (restic's <c>check</c>); a seam so that sessions can be tested without a
/// real check, and a Kubernetes host could check elsewhere.</summary>
internal interface IRepositoryChecker
{
    Task<RepositoryCheckOutcome> CheckAsync(ResticRepository repository, bool readData, string? readDataSubset, CancellationToken cancellationToken);
}

/// <summary>A check's verdict.</summary>
internal sealed record RepositoryCheckOutcome(bool Ok, IReadOnlyList<string> Errors, IReadOnlyList<string> Hints);

/// <summary>
/// The retention engine: restic's forget semantics (<see cref="SnapshotRetention.Evaluate"/>) applied to the complete
/// snapshots of one host, then <see cref="ResticRepository.ForgetSnapshotsAsync"/> removes the ones not kept.
/// </summary>
/// <remarks>
/// Not <see cref="ResticRepository.ForgetAsync"/> with a filter: a filter can only include, and partial snapshots must
/// be left out of the policy (they are handled by the retention-apply function). The decision is made on a listing
/// taken before the exclusive lock; a snapshot another process adds meanwhile is simply not judged this time.
/// </remarks>
internal sealed class ResticRetentionRunner : IRetentionRunner
{
    public async Task<RetentionRunResult> ApplyAsync(ResticRepository repository, RetentionSpec policy, RetentionScope scope, CancellationToken cancellationToken)
    {
        var rules = ToPolicy(policy);
        var snapshots = await repository.ListSnapshotsAsync(cancellationToken).ConfigureAwait(false);
        var judged = snapshots.Where(s => s.Hostname == scope.Host && !(s.Tags ?? []).Any(scope.ExcludedTags.Contains)).ToList();
        var decisions = SnapshotRetention.Evaluate(judged, rules);
        var remove = decisions.Remove.Select(s => s.Id).ToList();
        if (!scope.DryRun && remove.Count > 0)
        {
            await repository.ForgetSnapshotsAsync(remove, dryRun: false, cancellationToken).ConfigureAwait(false);
        }

        return new RetentionRunResult(remove, [.. decisions.Keep.Select(s => s.Id)]);
    }

    internal static RetentionPolicy ToPolicy(RetentionSpec spec) => new()
    {
        Last = spec.KeepLast,
        Hourly = spec.KeepHourly,
        Daily = spec.KeepDaily,
        Weekly = spec.KeepWeekly,
        Monthly = spec.KeepMonthly,
        Yearly = spec.KeepYearly,
        Within = string.IsNullOrEmpty(spec.KeepWithin) ? default : RetentionDuration.Parse(spec.KeepWithin),
        KeepTags = spec.KeepTags.Count > 0 ? [spec.KeepTags] : [],
    };
}

/// <summary>The engine's checker: <see cref="ResticRepository.CheckAsync"/>, with errors and hints as text.</summary>
internal sealed class ResticRepositoryChecker : IRepositoryChecker
{
    public async Task<RepositoryCheckOutcome> CheckAsync(ResticRepository repository, bool readData, string? readDataSubset, CancellationToken cancellationToken)
    {
        var options = new KubeBackup.Restic.Checker.CheckOptions
        {
            ReadData = readData,
            ReadDataSubset = readDataSubset is null ? null : KubeBackup.Restic.Checker.ReadDataSubset.Parse(readDataSubset),
        };
        var result = await repository.CheckAsync(options, null, cancellationToken).ConfigureAwait(false);
        return new RepositoryCheckOutcome(result.IsClean,
            [.. result.Errors.Select(e => e.FileName is null ? e.Message : $"{e.FileName}: {e.Message}")],
            [.. result.Hints.Select(h => h.Message)]);
    }
}
