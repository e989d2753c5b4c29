using KubeBackup.Hooks;
using KubeBackup.Scheduling;
using KubeBackup.Sessions;
using KubeBackup.Tasks;

namespace KubeBackup.Configuration;

/// <summary>
/// What to back up (targets), where to (a repository), how (a task of function steps, or the driver's default), with
/// which hooks, retention, schedule and completeness policy. Load one from YAML or JSON with
/// <see cref="ConfigurationLoader"/>, or build it in code; <see cref="Validate"/> checks it before anything runs.
/// </summary>
public sealed class BackupConfiguration
{
    /// <summary>The configuration's name: part of every metric's tags and the key of <c>@…-random</c> schedules.</summary>
    public string Name { get; set; } = "";

    /// <summary>How targets without a task are backed up.</summary>
    public BackupDriver Driver { get; set; } = BackupDriver.Restic;

    /// <summary>Where the snapshots go.</summary>
    public RepositoryReference Repository { get; set; } = new();

    /// <summary>What is backed up; each target runs its task once per session.</summary>
    public List<BackupTarget> Targets { get; set; } = [];

    /// <summary>Named tasks the targets refer to.</summary>
    public Dictionary<string, TaskDefinition> Tasks { get; set; } = [];

    /// <summary>The task of targets that name none; null uses the driver's default task (see <see cref="DefaultTasks"/>).</summary>
    public string? Task { get; set; }

    /// <summary>The restore task of targets that name none; null has no default (a restore must say where to).</summary>
    public string? RestoreTask { get; set; }

    /// <summary>Hooks around the data steps of every target.</summary>
    public HookSet Hooks { get; set; } = new();

    /// <summary>Which snapshots the <c>retention-apply</c> function keeps; null: that function keeps everything.</summary>
    public RetentionSpec? Retention { get; set; }

    /// <summary>A cron expression (five or six fields), a macro such as <c>@daily</c>, or a randomized macro
    /// (<c>@hourly-random</c>, <c>@daily-random</c>, <c>@weekly-random</c>, <c>@monthly-random</c>); null: not scheduled.</summary>
    public string? Schedule { get; set; }

    /// <summary>The IANA time zone the schedule is read in (for example <c>Europe/Berlin</c>); null: UTC.</summary>
    public string? TimeZone { get; set; }

    /// <summary>What a scheduled run does while the previous run is still going.</summary>
    public ConcurrencyPolicy ConcurrencyPolicy { get; set; } = ConcurrencyPolicy.Skip;

    /// <summary>Scheduled runs are skipped while paused (a run started by hand still runs).</summary>
    public bool Paused { get; set; }

    /// <summary>The longest one target may take, hooks included; null: no limit.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>How often a failed target is tried again.</summary>
    public RetrySpec Retry { get; set; } = new();

    /// <summary>How many finished sessions a long-running host keeps (see <see cref="SessionHistory"/>).</summary>
    public int HistoryLimit { get; set; } = 10;

    /// <summary>What a non-zero exit, unreadable files, a short or empty stream or zero items mean.</summary>
    public CompletenessPolicy Completeness { get; set; } = new();

    /// <summary>Variables for <c>${NAME}</c> references in task parameters and hooks (targets can add or override).</summary>
    public Dictionary<string, string> Variables { get; set; } = [];

    /// <summary>Checks names, references, hooks, tasks and policies; loading does this already.</summary>
    /// <exception cref="ConfigurationException">Every problem found, listed.</exception>
    public void Validate() => ConfigurationValidator.Validate(this, functionNames: null);

    /// <summary>The target with this name.</summary>
    /// <exception cref="ConfigurationException">There is none.</exception>
    public BackupTarget GetTarget(string name) =>
        Targets.Find(t => t.Name == name) ?? throw new ConfigurationException($"Configuration '{Name}' has no target '{name}'.");

    /// <inheritdoc />
    public override string ToString() => $"BackupConfiguration {Name} ({Targets.Count} targets)";
}

/// <summary>How data is taken.</summary>
public enum BackupDriver
{
    /// <summary>Files and streams go into a restic repository.</summary>
    Restic,

    /// <summary>A volume snapshot of the storage system (CSI). Needs the Kubernetes package; core cannot run it.</summary>
    VolumeSnapshot,
}

/// <summary>One thing that is backed up.</summary>
public sealed class BackupTarget
{
    /// <summary>The target's name: the snapshots' host name (unless <see cref="Host"/> says otherwise), and a metric tag.</summary>
    public string Name { get; set; } = "";

    /// <summary>What kind of thing this is. Core knows <c>Local</c> (paths on this machine); the Kubernetes package
    /// adds workloads.</summary>
    public string Kind { get; set; } = "Local";

    /// <summary>Files and folders for the <c>file-backup</c> function.</summary>
    public List<string> Paths { get; set; } = [];

    /// <summary>restic-style exclude patterns.</summary>
    public List<string> Exclude { get; set; } = [];

    /// <summary>Tags every snapshot of this target gets.</summary>
    public List<string> Tags { get; set; } = [];

    /// <summary>The host name recorded in snapshots; default: <see cref="Name"/>. Retention and "latest" are per host.</summary>
    public string? Host { get; set; }

    /// <summary>The backup task; default: the configuration's.</summary>
    public string? Task { get; set; }

    /// <summary>The restore task; default: the configuration's.</summary>
    public string? RestoreTask { get; set; }

    /// <summary>Variables of this target (override the configuration's).</summary>
    public Dictionary<string, string> Variables { get; set; } = [];

    /// <summary>The host name snapshots of this target carry.</summary>
    public string SnapshotHost => string.IsNullOrEmpty(Host) ? Name : Host;

    /// <inheritdoc />
    public override string ToString() => $"target {Name}";
}

/// <summary>How often a failed target is tried again within one session.</summary>
public sealed class RetrySpec
{
    /// <summary>Attempts in all, the first included; 1 means no retry.</summary>
    public int MaxAttempts { get; set; } = 1;

    /// <summary>The pause between attempts.</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Which snapshots the <c>retention-apply</c> function keeps, in restic's <c>forget --keep-*</c> terms, per
/// target (snapshots of the target's host).</summary>
public sealed class RetentionSpec
{
    /// <summary>Keep the last N snapshots.</summary>
    public int KeepLast { get; set; }

    /// <summary>Keep the newest snapshot of each of the last N hours.</summary>
    public int KeepHourly { get; set; }

    /// <summary>Keep the newest snapshot of each of the last N days.</summary>
    public int KeepDaily { get; set; }

    /// <summary>Keep the newest snapshot of each of the last N weeks.</summary>
    public int KeepWeekly { get; set; }

    /// <summary>Keep the newest snapshot of each of the last N months.</summary>
    public int KeepMonthly { get; set; }

    /// <summary>Keep the newest snapshot of each of the last N years.</summary>
    public int KeepYearly { get; set; }

    /// <summary>Keep every snapshot within this duration of the newest, in restic's notation (<c>2y5m7d3h</c>).</summary>
    public string? KeepWithin { get; set; }

    /// <summary>Keep snapshots carrying all of these tags (one list, restic's <c>--keep-tag a,b</c>).</summary>
    public List<string> KeepTags { get; set; } = [];

    /// <summary>Also remove the data no snapshot needs any more (restic's <c>prune</c>), after forgetting.</summary>
    public bool Prune { get; set; }

    /// <summary>Decide and report, but remove nothing.</summary>
    public bool DryRun { get; set; }

    /// <summary>Whether no keep rule is set (restic refuses to forget with an empty policy; so does this).</summary>
    public bool IsEmpty => KeepLast == 0 && KeepHourly == 0 && KeepDaily == 0 && KeepWeekly == 0 && KeepMonthly == 0 && KeepYearly == 0
        && string.IsNullOrEmpty(KeepWithin) && KeepTags.Count == 0;
}
