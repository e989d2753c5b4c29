using KubeBackup.Restic.Model;
using KubeBackup.Retention;

namespace KubeBackup.Restic.Snapshots;

/// <summary>Retention for restic snapshots: what the rules see of a snapshot.</summary>
public static class SnapshotRetention
{
    /// <summary>A snapshot's time (with its recorded UTC offset, to the nanosecond), host, paths and tags.</summary>
    public static RetentionSubject Subject(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return new RetentionSubject(snapshot.Time, snapshot.Hostname, snapshot.Paths, snapshot.Tags ?? []);
    }

    /// <summary>Applies a policy to snapshots (no repository access; <see cref="Repository.ResticRepository.ForgetAsync"/>
    /// also selects, locks and deletes).</summary>
    /// <exception cref="RetentionException">Current semantics refuse the policy.</exception>
    public static RetentionResult<Snapshot> Evaluate(IEnumerable<Snapshot> snapshots, RetentionPolicy policy, RetentionOptions? options = null) =>
        RetentionEvaluator.Evaluate(snapshots, Subject, policy, options);
}
