using KubeBackup.Configuration;
using KubeBackup.Diagnostics;
using KubeBackup.Drills;
using KubeBackup.Restic;
using KubeBackup.Restic.Archiver;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Repository;
using KubeBackup.Sessions;
using Microsoft.Extensions.Logging;

namespace KubeBackup.Functions;

/// <summary>What a running step sees: its target, variables and repository, and where it records what it did.</summary>
public sealed class FunctionContext
{
    private readonly SessionEnvironment _session;

    internal FunctionContext(SessionEnvironment session, BackupTarget target, TargetResult result, IReadOnlyDictionary<string, string> variables, string stepName)
    {
        _session = session;
        Target = target;
        Result = result;
        Variables = variables;
        StepName = stepName;
    }

    /// <summary>The configuration running.</summary>
    public BackupConfiguration Configuration => _session.Configuration;

    /// <summary>The target.</summary>
    public BackupTarget Target { get; }

    /// <summary>Backup or restore.</summary>
    public SessionKind Kind => _session.Kind;

    /// <summary>The session's ID.</summary>
    public string SessionId => _session.SessionId;

    /// <summary>This step's name.</summary>
    public string StepName { get; }

    /// <summary>The resolved variables of this target.</summary>
    public IReadOnlyDictionary<string, string> Variables { get; }

    /// <summary>In a restore session: the snapshot asked for (<c>latest</c> or an ID); in a backup: <c>latest</c>.</summary>
    public string SnapshotSelector => _session.SnapshotSelector;

    /// <summary>The configuration's completeness policy.</summary>
    public CompletenessPolicy Completeness => Configuration.Completeness;

    /// <summary>The clock.</summary>
    public TimeProvider TimeProvider => _session.TimeProvider;

    /// <summary>A logger for the step.</summary>
    public ILogger Logger => _session.Logger;

    /// <summary>The instruments to record on.</summary>
    public KubeBackupMetrics Metrics => _session.Metrics;

    /// <summary>The host's services (for functions that need more), if the runner has them.</summary>
    public IServiceProvider? Services => _session.Services;

    /// <summary>Receives progress of data steps, if the caller asked for it.</summary>
    public IProgress<SessionProgress>? Progress => _session.Progress;

    /// <summary>The target's outcome so far.</summary>
    public SessionPhase CurrentPhase => Result.CurrentPhase;

    /// <summary>What has been recorded for this target so far.</summary>
    public TargetResult Result { get; }

    /// <summary>The repository, opened once per session.</summary>
    public Task<ResticRepository> GetRepositoryAsync(CancellationToken cancellationToken) => _session.GetRepositoryAsync(cancellationToken);

    /// <summary>Records a snapshot this step wrote, with its statistics.</summary>
    /// <param name="backup">The engine's result.</param>
    /// <param name="snapshot">The snapshot as it finally is, when it was changed after the backup (tagged); default:
    /// the result's.</param>
    public void RecordBackup(BackupResult backup, Snapshot? snapshot = null)
    {
        ArgumentNullException.ThrowIfNull(backup);
        RecordSnapshot(snapshot ?? backup.Snapshot);
        var s = Result.Statistics;
        s.FilesProcessed += (long)backup.Summary.TotalFilesProcessed;
        s.FilesNew += (long)backup.Summary.FilesNew;
        s.FilesChanged += (long)backup.Summary.FilesChanged;
        s.FilesUnmodified += (long)backup.Summary.FilesUnmodified;
        s.BytesProcessed += (long)backup.Summary.TotalBytesProcessed;
        s.BytesAdded += (long)backup.Summary.DataAdded;
        s.BytesStored += backup.StoredBytesAdded;
        s.Duration += backup.Duration;
    }

    /// <summary>Records a snapshot this step wrote; one that replaces an earlier version (its <c>original</c>) takes
    /// that version's place. A snapshot carrying the partial tag is marked partial; the step says why with
    /// <see cref="AddProblem"/>.</summary>
    public void RecordSnapshot(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var tags = snapshot.Tags ?? [];
        Result.SnapshotList.RemoveAll(r => snapshot.Original is { } original && r.Id == original);
        Result.SnapshotList.Add(new SnapshotRecord(snapshot.Id, StepName, [.. snapshot.Paths], [.. tags], tags.Contains(Completeness.PartialTag)));
    }

    /// <summary>Records a stream that passed through this step.</summary>
    public void RecordStream(StreamRecord stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Result.StreamList.Add(stream);
    }

    /// <summary>Records snapshots retention removed.</summary>
    public void RecordSnapshotsRemoved(IEnumerable<ResticId> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        Result.RemovedList.AddRange(ids);
    }

    /// <summary>Records a restore drill's verdict.</summary>
    public void RecordRestoreVerified(RestoreVerification verification)
    {
        ArgumentNullException.ThrowIfNull(verification);
        Result.RestoreVerified = verification;
    }

    /// <summary>Fails the target without stopping this step (throwing fails the step too).</summary>
    public void Fail(string reason) => Result.FailureList.Add($"{StepName}: {reason}");

    /// <summary>Makes the target PartiallyFailed at best.</summary>
    public void AddProblem(string problem) => Result.ProblemList.Add($"{StepName}: {problem}");

    /// <summary>Records a warning that does not change the phase.</summary>
    public void AddWarning(string warning) => Result.WarningList.Add($"{StepName}: {warning}");

    /// <summary>Reports progress of a data step.</summary>
    internal void ReportProgress(long bytes, long files) =>
        Progress?.Report(new SessionProgress(Configuration.Name, Target.Name, StepName, bytes, files));
}
