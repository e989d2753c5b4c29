using System.Text.Json.Serialization;

namespace KubeBackup.Kubernetes.Crds;

/// <summary>A Repository: where snapshots live and which Secret opens them.</summary>
public sealed class RepositoryResource : KubeBackupResource<RepositorySpec, RepositoryStatus>
{
    /// <inheritdoc />
    [JsonPropertyName("kind")]
    public override string Kind { get; set; } = "Repository";
}

/// <summary>The Repository's desired state.</summary>
public sealed class RepositorySpec
{
    /// <summary>The storage backend.</summary>
    [JsonPropertyName("backend")]
    public RepositoryBackend Backend { get; set; } = new();

    /// <summary>The Secret key holding the repository password.</summary>
    [JsonPropertyName("passwordSecretRef")]
    public SecretKeyReference PasswordSecretRef { get; set; } = new();

    /// <summary>Maintenance settings.</summary>
    [JsonPropertyName("maintenance")]
    public RepositoryMaintenance? Maintenance { get; set; }
}

/// <summary>A storage backend.</summary>
public sealed class RepositoryBackend
{
    /// <summary>local, s3, azure, gcs or rest.</summary>
    [JsonPropertyName("type")]
    public string Type { get; set; } = "";

    /// <summary>Folder (local) or prefix in the bucket or container.</summary>
    [JsonPropertyName("path")]
    public string? Path { get; set; }

    /// <summary>The bucket (s3, gcs).</summary>
    [JsonPropertyName("bucket")]
    public string? Bucket { get; set; }

    /// <summary>The container (azure).</summary>
    [JsonPropertyName("container")]
    public string? Container { get; set; }

    /// <summary>The service endpoint.</summary>
    [JsonPropertyName("endpoint")]
    public string? Endpoint { get; set; }

    /// <summary>The region.</summary>
    [JsonPropertyName("region")]
    public string? Region { get; set; }

    /// <summary>The URL (rest).</summary>
    [JsonPropertyName("url")]
    public string? Url { get; set; }

    /// <summary>The Secret with the backend's credentials.</summary>
    [JsonPropertyName("credentialsSecretRef")]
    public SecretReference? CredentialsSecretRef { get; set; }
}

/// <summary>Maintenance of a repository.</summary>
public sealed class RepositoryMaintenance
{
    /// <summary>How long a maintenance Lease lasts without renewal.</summary>
    [JsonPropertyName("leaseDurationSeconds")]
    public int? LeaseDurationSeconds { get; set; }

    /// <summary>When to check (cron).</summary>
    [JsonPropertyName("checkSchedule")]
    public string? CheckSchedule { get; set; }

    /// <summary>When to prune (cron).</summary>
    [JsonPropertyName("pruneSchedule")]
    public string? PruneSchedule { get; set; }

    /// <summary>Which part of the data a check reads (n/m or a percentage).</summary>
    [JsonPropertyName("readDataSubset")]
    public string? ReadDataSubset { get; set; }
}

/// <summary>The Repository's observed state.</summary>
public sealed class RepositoryStatus
{
    /// <summary>Pending, Ready or Failed.</summary>
    [JsonPropertyName("phase")]
    public string? Phase { get; set; }

    /// <summary>The repository's ID.</summary>
    [JsonPropertyName("repositoryId")]
    public string? RepositoryId { get; set; }

    /// <summary>How many snapshots it holds.</summary>
    [JsonPropertyName("snapshotCount")]
    public int? SnapshotCount { get; set; }

    /// <summary>Stored bytes.</summary>
    [JsonPropertyName("totalBytes")]
    public long? TotalBytes { get; set; }

    /// <summary>The last check.</summary>
    [JsonPropertyName("lastCheckTime")]
    public DateTimeOffset? LastCheckTime { get; set; }

    /// <summary>The last prune.</summary>
    [JsonPropertyName("lastPruneTime")]
    public DateTimeOffset? LastPruneTime { get; set; }

    /// <summary>The generation this status describes.</summary>
    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }

    /// <summary>Conditions.</summary>
    [JsonPropertyName("conditions")]
    public List<ResourceCondition>? Conditions { get; set; }
}
