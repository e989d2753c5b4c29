using System.Text.Json.Serialization;

namespace KubeBackup.Kubernetes.Crds;

/// <summary>A BackupSession: one run of a BackupConfiguration.</summary>
public sealed class BackupSessionResource : KubeBackupResource<BackupSessionSpec, BackupSessionStatus>
{
    /// <inheritdoc />
    [JsonPropertyName("kind")]
    public override string Kind { get; set; } = "BackupSession";
}

/// <summary>What started a session.</summary>
public sealed class BackupSessionSpec
{
    /// <summary>The BackupConfiguration.</summary>
    [JsonPropertyName("invoker")]
    public InvokerReference Invoker { get; set; } = new();

    /// <summary>Scheduled or Manual.</summary>
    [JsonPropertyName("trigger")]
    public string? Trigger { get; set; }

    /// <summary>Retries left.</summary>
    [JsonPropertyName("retryLeft")]
    public int? RetryLeft { get; set; }
}

/// <summary>The object that invoked a session.</summary>
public sealed class InvokerReference
{
    /// <summary>BackupConfiguration.</summary>
    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "BackupConfiguration";

    /// <summary>The name.</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";
}

/// <summary>How a session went.</summary>
public sealed class BackupSessionStatus
{
    /// <summary>Pending, Skipped, Running, Succeeded, PartiallyFailed, Failed or Unknown.</summary>
    [JsonPropertyName("phase")]
    public string? Phase { get; set; }

    /// <summary>Why it is in this phase (for failures: what went wrong).</summary>
    [JsonPropertyName("reason")]
    public string? Reason { get; set; }

    /// <summary>Start.</summary>
    [JsonPropertyName("startTime")]
    public DateTimeOffset? StartTime { get; set; }

    /// <summary>End.</summary>
    [JsonPropertyName("completionTime")]
    public DateTimeOffset? CompletionTime { get; set; }

    /// <summary>Duration (Go duration).</summary>
    [JsonPropertyName("duration")]
    public string? Duration { get; set; }

    /// <summary>Per-target results.</summary>
    [JsonPropertyName("targets")]
    public List<TargetStatus>? Targets { get; set; }

    /// <summary>Hook results.</summary>
    [JsonPropertyName("hooks")]
    public List<HookStatus>? Hooks { get; set; }

    /// <summary>Conditions.</summary>
    [JsonPropertyName("conditions")]
    public List<ResourceCondition>? Conditions { get; set; }
}

/// <summary>One target's result.</summary>
public sealed class TargetStatus
{
    /// <summary>The target's kind.</summary>
    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "";

    /// <summary>The target's name.</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    /// <summary>Pending, Running, Succeeded or Failed.</summary>
    [JsonPropertyName("phase")]
    public string? Phase { get; set; }

    /// <summary>Why it failed.</summary>
    [JsonPropertyName("reason")]
    public string? Reason { get; set; }

    /// <summary>Per-host results.</summary>
    [JsonPropertyName("hosts")]
    public List<HostStatus>? Hosts { get; set; }

    /// <summary>VolumeSnapshots taken.</summary>
    [JsonPropertyName("volumeSnapshots")]
    public List<VolumeSnapshotStatus>? VolumeSnapshots { get; set; }
}

/// <summary>One host's result.</summary>
public sealed class HostStatus
{
    /// <summary>The backup host (name-ordinal, name-node, ...).</summary>
    [JsonPropertyName("hostname")]
    public string Hostname { get; set; } = "";

    /// <summary>Succeeded or Failed.</summary>
    [JsonPropertyName("phase")]
    public string? Phase { get; set; }

    /// <summary>The snapshot ID.</summary>
    [JsonPropertyName("snapshot")]
    public string? Snapshot { get; set; }

    /// <summary>What went wrong.</summary>
    [JsonPropertyName("error")]
    public string? Error { get; set; }

    /// <summary>Duration (Go duration).</summary>
    [JsonPropertyName("duration")]
    public string? Duration { get; set; }

    /// <summary>New files.</summary>
    [JsonPropertyName("filesNew")]
    public long? FilesNew { get; set; }

    /// <summary>Changed files.</summary>
    [JsonPropertyName("filesChanged")]
    public long? FilesChanged { get; set; }

    /// <summary>Unchanged files.</summary>
    [JsonPropertyName("filesUnmodified")]
    public long? FilesUnmodified { get; set; }

    /// <summary>New bytes.</summary>
    [JsonPropertyName("bytesAdded")]
    public long? BytesAdded { get; set; }

    /// <summary>Bytes processed.</summary>
    [JsonPropertyName("bytesTotal")]
    public long? BytesTotal { get; set; }

    /// <summary>SHA-256 of a stream backup.</summary>
    [JsonPropertyName("sha256")]
    public string? Sha256 { get; set; }
}

/// <summary>A VolumeSnapshot of a session.</summary>
public sealed class VolumeSnapshotStatus
{
    /// <summary>Its name.</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    /// <summary>The source claim.</summary>
    [JsonPropertyName("claim")]
    public string? Claim { get; set; }

    /// <summary>Whether it is ready.</summary>
    [JsonPropertyName("readyToUse")]
    public bool? ReadyToUse { get; set; }

    /// <summary>The controller's error.</summary>
    [JsonPropertyName("error")]
    public string? Error { get; set; }
}

/// <summary>A hook's result.</summary>
public sealed class HookStatus
{
    /// <summary>The hook.</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    /// <summary>The pod it ran in.</summary>
    [JsonPropertyName("pod")]
    public string? Pod { get; set; }

    /// <summary>Succeeded, Failed or Skipped.</summary>
    [JsonPropertyName("phase")]
    public string Phase { get; set; } = "";

    /// <summary>What went wrong.</summary>
    [JsonPropertyName("error")]
    public string? Error { get; set; }
}

/// <summary>A RestoreSession.</summary>
public sealed class RestoreSessionResource : KubeBackupResource<RestoreSessionSpec, RestoreSessionStatus>
{
    /// <inheritdoc />
    [JsonPropertyName("kind")]
    public override string Kind { get; set; } = "RestoreSession";
}

/// <summary>What to restore where.</summary>
public sealed class RestoreSessionSpec
{
    /// <summary>The Repository (not needed for VolumeSnapshot restores).</summary>
    [JsonPropertyName("repository")]
    public ObjectReference? Repository { get; set; }

    /// <summary>Where to restore.</summary>
    [JsonPropertyName("target")]
    public RestoreTarget Target { get; set; } = new();

    /// <summary>What to restore.</summary>
    [JsonPropertyName("rules")]
    public List<RestoreRule>? Rules { get; set; }

    /// <summary>Time limit (Go duration).</summary>
    [JsonPropertyName("timeout")]
    public string? Timeout { get; set; }
}

/// <summary>The target of a restore.</summary>
public sealed class RestoreTarget
{
    /// <summary>The workload or claim.</summary>
    [JsonPropertyName("ref")]
    public TargetReference Ref { get; set; } = new();

    /// <summary>The container.</summary>
    [JsonPropertyName("container")]
    public string? Container { get; set; }

    /// <summary>For stream restores: the argv reading the file on stdin.</summary>
    [JsonPropertyName("command")]
    public List<string>? Command { get; set; }

    /// <summary>For VolumeSnapshot restores: the snapshot.</summary>
    [JsonPropertyName("volumeSnapshotName")]
    public string? VolumeSnapshotName { get; set; }

    /// <summary>The new claim's name.</summary>
    [JsonPropertyName("claimName")]
    public string? ClaimName { get; set; }

    /// <summary>The pod-template volume to point at the new claim.</summary>
    [JsonPropertyName("repointVolume")]
    public string? RepointVolume { get; set; }
}

/// <summary>What to take from which snapshot.</summary>
public sealed class RestoreRule
{
    /// <summary>A snapshot ID prefix or "latest".</summary>
    [JsonPropertyName("snapshot")]
    public string? Snapshot { get; set; }

    /// <summary>The host the snapshot was taken for.</summary>
    [JsonPropertyName("sourceHost")]
    public string? SourceHost { get; set; }

    /// <summary>Paths in the snapshot.</summary>
    [JsonPropertyName("paths")]
    public List<string>? Paths { get; set; }

    /// <summary>Where to put them.</summary>
    [JsonPropertyName("targetPath")]
    public string? TargetPath { get; set; }

    /// <summary>Include patterns.</summary>
    [JsonPropertyName("include")]
    public List<string>? Include { get; set; }

    /// <summary>Exclude patterns.</summary>
    [JsonPropertyName("exclude")]
    public List<string>? Exclude { get; set; }
}

/// <summary>How a restore went.</summary>
public sealed class RestoreSessionStatus
{
    /// <summary>Pending, Running, Succeeded, Failed or Unknown.</summary>
    [JsonPropertyName("phase")]
    public string? Phase { get; set; }

    /// <summary>Why.</summary>
    [JsonPropertyName("reason")]
    public string? Reason { get; set; }

    /// <summary>Start.</summary>
    [JsonPropertyName("startTime")]
    public DateTimeOffset? StartTime { get; set; }

    /// <summary>End.</summary>
    [JsonPropertyName("completionTime")]
    public DateTimeOffset? CompletionTime { get; set; }

    /// <summary>Duration (Go duration).</summary>
    [JsonPropertyName("duration")]
    public string? Duration { get; set; }

    /// <summary>Per-host results.</summary>
    [JsonPropertyName("hosts")]
    public List<RestoreHostStatus>? Hosts { get; set; }

    /// <summary>Conditions.</summary>
    [JsonPropertyName("conditions")]
    public List<ResourceCondition>? Conditions { get; set; }
}

/// <summary>One host's restore.</summary>
public sealed class RestoreHostStatus
{
    /// <summary>The host.</summary>
    [JsonPropertyName("hostname")]
    public string Hostname { get; set; } = "";

    /// <summary>Succeeded or Failed.</summary>
    [JsonPropertyName("phase")]
    public string? Phase { get; set; }

    /// <summary>What went wrong.</summary>
    [JsonPropertyName("error")]
    public string? Error { get; set; }

    /// <summary>Duration (Go duration).</summary>
    [JsonPropertyName("duration")]
    public string? Duration { get; set; }

    /// <summary>Bytes restored.</summary>
    [JsonPropertyName("bytesRestored")]
    public long? BytesRestored { get; set; }
}
