using System.Text.Json.Serialization;

namespace KubeBackup.Kubernetes.Crds;

/// <summary>A BackupConfiguration: what to back up, how, when, and what to keep.</summary>
public sealed class BackupConfigurationResource : KubeBackupResource<BackupConfigurationSpec, BackupConfigurationStatus>
{
    /// <inheritdoc />
    [JsonPropertyName("kind")]
    public override string Kind { get; set; } = "BackupConfiguration";
}

/// <summary>The desired state of a BackupConfiguration.</summary>
public sealed class BackupConfigurationSpec
{
    /// <summary>The Repository.</summary>
    [JsonPropertyName("repository")]
    public ObjectReference Repository { get; set; } = new();

    /// <summary>Cron schedule (or a macro such as @daily).</summary>
    [JsonPropertyName("schedule")]
    public string? Schedule { get; set; }

    /// <summary>Whether scheduled runs are paused.</summary>
    [JsonPropertyName("paused")]
    public bool? Paused { get; set; }

    /// <summary>Restic (file or stream backup into the repository) or VolumeSnapshotter (CSI snapshots).</summary>
    [JsonPropertyName("driver")]
    public string? Driver { get; set; }

    /// <summary>The target.</summary>
    [JsonPropertyName("target")]
    public BackupTarget Target { get; set; } = new();

    /// <summary>The task (ordered functions) that performs the backup.</summary>
    [JsonPropertyName("task")]
    public TaskReference? Task { get; set; }

    /// <summary>Hooks around the backup.</summary>
    [JsonPropertyName("hooks")]
    public BackupHooks? Hooks { get; set; }

    /// <summary>What to keep.</summary>
    [JsonPropertyName("retentionPolicy")]
    public RetentionPolicySpec? RetentionPolicy { get; set; }

    /// <summary>Time limit of a session (Go duration).</summary>
    [JsonPropertyName("timeout")]
    public string? Timeout { get; set; }

    /// <summary>Retries of a failed session.</summary>
    [JsonPropertyName("retryConfig")]
    public RetryConfig? RetryConfig { get; set; }

    /// <summary>How many finished BackupSessions to keep.</summary>
    [JsonPropertyName("backupHistoryLimit")]
    public int? BackupHistoryLimit { get; set; }
}

/// <summary>The target of a backup and how it is read.</summary>
public sealed class BackupTarget
{
    /// <summary>The workload or claim.</summary>
    [JsonPropertyName("ref")]
    public TargetReference Ref { get; set; } = new();

    /// <summary>Agentless (tar over exec), Sidecar (injected container) or Stream (a command's stdout).</summary>
    [JsonPropertyName("mode")]
    public string? Mode { get; set; }

    /// <summary>The container to use.</summary>
    [JsonPropertyName("container")]
    public string? Container { get; set; }

    /// <summary>Paths in the container.</summary>
    [JsonPropertyName("paths")]
    public List<string>? Paths { get; set; }

    /// <summary>Exclude patterns.</summary>
    [JsonPropertyName("exclude")]
    public List<string>? Exclude { get; set; }

    /// <summary>For Stream: the argv whose stdout is backed up.</summary>
    [JsonPropertyName("command")]
    public List<string>? Command { get; set; }

    /// <summary>For Stream: the file name in the snapshot.</summary>
    [JsonPropertyName("fileName")]
    public string? FileName { get; set; }

    /// <summary>For VolumeSnapshotter: the VolumeSnapshotClass.</summary>
    [JsonPropertyName("volumeSnapshotClassName")]
    public string? VolumeSnapshotClassName { get; set; }
}

/// <summary>A task by name with parameters.</summary>
public sealed class TaskReference
{
    /// <summary>The task's name.</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    /// <summary>Parameters.</summary>
    [JsonPropertyName("params")]
    public List<NameValue>? Params { get; set; }
}

/// <summary>A name and a value.</summary>
public sealed class NameValue
{
    /// <summary>The name.</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    /// <summary>The value.</summary>
    [JsonPropertyName("value")]
    public string Value { get; set; } = "";
}

/// <summary>Hooks before and after a backup.</summary>
public sealed class BackupHooks
{
    /// <summary>Before.</summary>
    [JsonPropertyName("preBackup")]
    public List<HookSpec>? PreBackup { get; set; }

    /// <summary>After.</summary>
    [JsonPropertyName("postBackup")]
    public List<HookSpec>? PostBackup { get; set; }
}

/// <summary>One hook.</summary>
public sealed class HookSpec
{
    /// <summary>The hook's name (reported in the session's status).</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    /// <summary>A command in a container.</summary>
    [JsonPropertyName("exec")]
    public ExecAction? Exec { get; set; }

    /// <summary>An HTTP GET.</summary>
    [JsonPropertyName("httpGet")]
    public HttpGetAction? HttpGet { get; set; }

    /// <summary>Always, OnSuccess or OnFailure (post hooks).</summary>
    [JsonPropertyName("executionPolicy")]
    public string? ExecutionPolicy { get; set; }

    /// <summary>Fail or Continue.</summary>
    [JsonPropertyName("onError")]
    public string? OnError { get; set; }

    /// <summary>Time limit (Go duration).</summary>
    [JsonPropertyName("timeout")]
    public string? Timeout { get; set; }
}

/// <summary>A command in a container.</summary>
public sealed class ExecAction
{
    /// <summary>The container.</summary>
    [JsonPropertyName("container")]
    public string? Container { get; set; }

    /// <summary>The argv.</summary>
    [JsonPropertyName("command")]
    public List<string> Command { get; set; } = [];
}

/// <summary>An HTTP GET.</summary>
public sealed class HttpGetAction
{
    /// <summary>The URL.</summary>
    [JsonPropertyName("url")]
    public string Url { get; set; } = "";
}

/// <summary>restic's retention flags.</summary>
public sealed class RetentionPolicySpec
{
    /// <summary>--keep-last.</summary>
    [JsonPropertyName("keepLast")]
    public int? KeepLast { get; set; }

    /// <summary>--keep-hourly.</summary>
    [JsonPropertyName("keepHourly")]
    public int? KeepHourly { get; set; }

    /// <summary>--keep-daily.</summary>
    [JsonPropertyName("keepDaily")]
    public int? KeepDaily { get; set; }

    /// <summary>--keep-weekly.</summary>
    [JsonPropertyName("keepWeekly")]
    public int? KeepWeekly { get; set; }

    /// <summary>--keep-monthly.</summary>
    [JsonPropertyName("keepMonthly")]
    public int? KeepMonthly { get; set; }

    /// <summary>--keep-yearly.</summary>
    [JsonPropertyName("keepYearly")]
    public int? KeepYearly { get; set; }

    /// <summary>--keep-within (e.g. 1y2m3d).</summary>
    [JsonPropertyName("keepWithin")]
    public string? KeepWithin { get; set; }

    /// <summary>--keep-tag.</summary>
    [JsonPropertyName("keepTags")]
    public List<string>? KeepTags { get; set; }

    /// <summary>Prune after forgetting.</summary>
    [JsonPropertyName("prune")]
    public bool? Prune { get; set; }

    /// <summary>Decide but remove nothing.</summary>
    [JsonPropertyName("dryRun")]
    public bool? DryRun { get; set; }

    /// <summary>As the library's retention policy.</summary>
    public KubeBackup.Retention.RetentionPolicy ToPolicy() => new()
    {
        Last = KeepLast ?? 0,
        Hourly = KeepHourly ?? 0,
        Daily = KeepDaily ?? 0,
        Weekly = KeepWeekly ?? 0,
        Monthly = KeepMonthly ?? 0,
        Yearly = KeepYearly ?? 0,
        Within = KeepWithin is null ? default : KubeBackup.Retention.RetentionDuration.Parse(KeepWithin),
        KeepTags = KeepTags is null ? [] : KeepTags.Select(t => (IReadOnlyList<string>)t.Split(',')).ToList(),
    };
}

/// <summary>Retries of a failed session.</summary>
public sealed class RetryConfig
{
    /// <summary>How many retries.</summary>
    [JsonPropertyName("maxRetry")]
    public int? MaxRetry { get; set; }

    /// <summary>Pause between retries (Go duration).</summary>
    [JsonPropertyName("delay")]
    public string? Delay { get; set; }
}

/// <summary>The observed state of a BackupConfiguration.</summary>
public sealed class BackupConfigurationStatus
{
    /// <summary>Ready, Invalid or Paused.</summary>
    [JsonPropertyName("phase")]
    public string? Phase { get; set; }

    /// <summary>The generation this status describes.</summary>
    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }

    /// <summary>When the last backup ran.</summary>
    [JsonPropertyName("lastBackupTime")]
    public DateTimeOffset? LastBackupTime { get; set; }

    /// <summary>When the next one is due.</summary>
    [JsonPropertyName("nextBackupTime")]
    public DateTimeOffset? NextBackupTime { get; set; }

    /// <summary>The last session.</summary>
    [JsonPropertyName("lastSessionName")]
    public string? LastSessionName { get; set; }

    /// <summary>Conditions.</summary>
    [JsonPropertyName("conditions")]
    public List<ResourceCondition>? Conditions { get; set; }
}
