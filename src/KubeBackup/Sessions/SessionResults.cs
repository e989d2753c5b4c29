using KubeBackup.Drills;
using KubeBackup.Hooks;
using KubeBackup.Restic;

namespace KubeBackup.Sessions;

/// <summary>Where a session or a target stands.</summary>
public enum SessionPhase
{
    /// <summary>Not started yet.</summary>
    Pending,

    /// <summary>Running.</summary>
    Running,

    /// <summary>Finished, complete, no failure.</summary>
    Succeeded,

    /// <summary>Finished with data written, but something is incomplete or failed (a partial snapshot, a hook that
    /// failed with Continue, some targets failed).</summary>
    PartiallyFailed,

    /// <summary>Finished without a usable result.</summary>
    Failed,

    /// <summary>Not run (paused, or the previous run was still going).</summary>
    Skipped,
}

/// <summary>Whether a session backs up or restores.</summary>
public enum SessionKind
{
    /// <summary>A backup.</summary>
    Backup,

    /// <summary>A restore.</summary>
    Restore,
}

/// <summary>The common part of backup and restore session results.</summary>
public abstract class SessionResult
{
    private protected SessionResult(string id, string configurationName, SessionKind kind)
    {
        Id = id;
        ConfigurationName = configurationName;
        Kind = kind;
    }

    /// <summary>A unique ID (also the <c>SESSION_ID</c> variable).</summary>
    public string Id { get; }

    /// <summary>The configuration that ran.</summary>
    public string ConfigurationName { get; }

    /// <summary>Backup or restore.</summary>
    public SessionKind Kind { get; }

    /// <summary>The outcome over all targets: Succeeded when all succeeded, Failed when all failed, PartiallyFailed
    /// for anything in between, Skipped when nothing ran.</summary>
    public SessionPhase Phase { get; internal set; } = SessionPhase.Pending;

    /// <summary>When the session started.</summary>
    public DateTimeOffset StartedAt { get; internal set; }

    /// <summary>When it finished.</summary>
    public DateTimeOffset? FinishedAt { get; internal set; }

    /// <summary>How long it took.</summary>
    public TimeSpan Duration => FinishedAt is { } f ? f - StartedAt : TimeSpan.Zero;

    /// <summary>Why the whole session failed or was skipped (for example: the repository could not be opened).</summary>
    public string? Reason { get; internal set; }

    /// <summary>One result per target, in the configuration's order.</summary>
    public IReadOnlyList<TargetResult> Targets => TargetList;

    internal List<TargetResult> TargetList { get; } = [];

    internal void Finish(DateTimeOffset now)
    {
        FinishedAt = now;
        if (Phase == SessionPhase.Skipped)
        {
            return;
        }

        if (Reason is not null && TargetList.Count == 0)
        {
            Phase = SessionPhase.Failed;
            return;
        }

        var phases = TargetList.Select(t => t.Phase).Where(p => p != SessionPhase.Skipped).ToList();
        Phase = phases.Count == 0 ? (Reason is null ? SessionPhase.Skipped : SessionPhase.Failed)
            : phases.All(p => p == SessionPhase.Succeeded) ? SessionPhase.Succeeded
            : phases.All(p => p == SessionPhase.Failed) ? SessionPhase.Failed
            : SessionPhase.PartiallyFailed;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Kind} session {Id} of {ConfigurationName}: {Phase}";
}

/// <summary>The result of a backup session.</summary>
public sealed class BackupSession : SessionResult
{
    internal BackupSession(string id, string configurationName) : base(id, configurationName, SessionKind.Backup)
    {
    }
}

/// <summary>The result of a restore session.</summary>
public sealed class RestoreSession : SessionResult
{
    internal RestoreSession(string id, string configurationName, string snapshot) : base(id, configurationName, SessionKind.Restore)
    {
        Snapshot = snapshot;
    }

    /// <summary>The snapshot asked for (<c>latest</c> or an ID).</summary>
    public string Snapshot { get; }
}

/// <summary>What happened to one target in a session.</summary>
public sealed class TargetResult
{
    internal TargetResult(string name) => Name = name;

    /// <summary>The target's name.</summary>
    public string Name { get; }

    /// <summary>Failed when anything failed, PartiallyFailed when something is incomplete, otherwise Succeeded.</summary>
    public SessionPhase Phase { get; internal set; } = SessionPhase.Pending;

    /// <summary>When the target started.</summary>
    public DateTimeOffset StartedAt { get; internal set; }

    /// <summary>When it finished.</summary>
    public DateTimeOffset? FinishedAt { get; internal set; }

    /// <summary>How many attempts were made (see the configuration's retry).</summary>
    public int Attempts { get; internal set; }

    /// <summary>Totals over the data steps.</summary>
    public TargetStatistics Statistics { get; } = new();

    /// <summary>The snapshots written (and kept), in order.</summary>
    public IReadOnlyList<SnapshotRecord> Snapshots => SnapshotList;

    /// <summary>Why the target failed; empty unless Failed.</summary>
    public IReadOnlyList<string> Failures => FailureList;

    /// <summary>What made the target PartiallyFailed.</summary>
    public IReadOnlyList<string> Problems => ProblemList;

    /// <summary>Things worth knowing that did not change the phase (conditions the policy says to Warn about).</summary>
    public IReadOnlyList<string> Warnings => WarningList;

    /// <summary>Every hook run, in order, with its exit code, duration and output tail.</summary>
    public IReadOnlyList<HookOutcome> Hooks => HookList;

    /// <summary>Every step, in order.</summary>
    public IReadOnlyList<StepOutcome> Steps => StepList;

    /// <summary>Streams backed up or restored, with byte counts and hashes.</summary>
    public IReadOnlyList<StreamRecord> Streams => StreamList;

    /// <summary>The restore drill's verdict, when a drill ran.</summary>
    public RestoreVerification? RestoreVerified { get; internal set; }

    /// <summary>Snapshots removed by retention.</summary>
    public IReadOnlyList<ResticId> SnapshotsRemoved => RemovedList;

    internal List<SnapshotRecord> SnapshotList { get; } = [];
    internal List<string> FailureList { get; } = [];
    internal List<string> ProblemList { get; } = [];
    internal List<string> WarningList { get; } = [];
    internal List<HookOutcome> HookList { get; } = [];
    internal List<StepOutcome> StepList { get; } = [];
    internal List<StreamRecord> StreamList { get; } = [];
    internal List<ResticId> RemovedList { get; } = [];

    /// <summary>The phase the recorded facts give so far.</summary>
    internal SessionPhase CurrentPhase => FailureList.Count > 0 ? SessionPhase.Failed : ProblemList.Count > 0 ? SessionPhase.PartiallyFailed : SessionPhase.Succeeded;

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {Phase}";
}

/// <summary>Totals of a target's data steps.</summary>
public sealed class TargetStatistics
{
    /// <summary>Files (and streams) processed.</summary>
    public long FilesProcessed { get; internal set; }

    /// <summary>New files.</summary>
    public long FilesNew { get; internal set; }

    /// <summary>Changed files.</summary>
    public long FilesChanged { get; internal set; }

    /// <summary>Files unchanged since the parent snapshot.</summary>
    public long FilesUnmodified { get; internal set; }

    /// <summary>Bytes read.</summary>
    public long BytesProcessed { get; internal set; }

    /// <summary>New plaintext bytes (what deduplication did not find).</summary>
    public long BytesAdded { get; internal set; }

    /// <summary>Bytes uploaded in packs (compressed and encrypted).</summary>
    public long BytesStored { get; internal set; }

    /// <summary>Time spent in data steps.</summary>
    public TimeSpan Duration { get; internal set; }
}

/// <summary>A snapshot a step wrote.</summary>
/// <param name="Id">The snapshot's ID.</param>
/// <param name="Step">The step that wrote it.</param>
/// <param name="Paths">The snapshot's paths.</param>
/// <param name="Tags">Its tags.</param>
/// <param name="Partial">Whether it carries the partial tag.</param>
public sealed record SnapshotRecord(ResticId Id, string Step, IReadOnlyList<string> Paths, IReadOnlyList<string> Tags, bool Partial);

/// <summary>What a step did.</summary>
/// <param name="Name">The step's name.</param>
/// <param name="Function">Its function.</param>
/// <param name="Phase">Succeeded, Failed or Skipped.</param>
/// <param name="Duration">How long it took.</param>
/// <param name="Error">Why it failed, if it did.</param>
public sealed record StepOutcome(string Name, string Function, SessionPhase Phase, TimeSpan Duration, string? Error);

/// <summary>A stream that was backed up from a command's output, or restored into a command's input.</summary>
/// <param name="Step">The step.</param>
/// <param name="FileName">The file's path in the snapshot.</param>
/// <param name="Bytes">Bytes that passed.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of exactly those bytes.</param>
/// <param name="ExitCode">The command's exit code (128 + signal when killed by a signal).</param>
/// <param name="Conditions">What the completeness policy saw.</param>
/// <param name="ErrorTail">The end of the command's error output.</param>
public sealed record StreamRecord(string Step, string FileName, long Bytes, string Sha256, int? ExitCode, IReadOnlyList<CompletenessCondition> Conditions, string ErrorTail);
