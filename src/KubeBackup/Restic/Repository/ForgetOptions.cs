using KubeBackup.Restic.Model;
using KubeBackup.Restic.Snapshots;
using KubeBackup.Retention;

namespace KubeBackup.Restic.Repository;

/// <summary>How <see cref="ResticRepository.ForgetAsync"/> selects and removes snapshots (on top of how the policy is
/// applied: grouping, compatibility, clock).</summary>
public sealed class ForgetOptions : RetentionOptions
{
    /// <summary>Only these snapshots are considered (restic's <c>--host</c>, <c>--tag</c>, <c>--path</c>); the others are
    /// neither kept nor removed.</summary>
    public SnapshotFilter Filter { get; init; } = new();

    /// <summary>Decide, but remove nothing (restic's <c>--dry-run</c>).</summary>
    public bool DryRun { get; init; }

    /// <summary>How long to wait for other processes' locks before failing (restic's <c>--retry-lock</c>).</summary>
    public TimeSpan RetryLock { get; init; }
}

/// <summary>What <see cref="ResticRepository.ForgetAsync"/> decided and did.</summary>
public sealed class ForgetResult
{
    internal ForgetResult(RetentionResult<Snapshot>? decisions, IReadOnlyList<Snapshot> removed, bool dryRun)
    {
        Decisions = decisions;
        Removed = removed;
        DryRun = dryRun;
    }

    /// <summary>The decisions per group, with reasons; null when snapshots were forgotten by ID.</summary>
    public RetentionResult<Snapshot>? Decisions { get; }

    /// <summary>The snapshots removed, or that would be removed in a dry run.</summary>
    public IReadOnlyList<Snapshot> Removed { get; }

    /// <summary>Whether this was a dry run (nothing was removed).</summary>
    public bool DryRun { get; }
}
