using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace KubeBackup.Kubernetes.Crds;

/// <summary>The API group and version of KubeBackup's custom resources (deploy/crds).</summary>
public static class KubeBackupApi
{
    /// <summary>The API group.</summary>
    public const string Group = "kubebackup.io";

    /// <summary>The served version.</summary>
    public const string Version = "v1alpha1";

    /// <summary>The <c>apiVersion</c> of every resource.</summary>
    public const string ApiVersion = Group + "/" + Version;
}

/// <summary>The common shape of KubeBackup's resources: type, metadata, spec and status.</summary>
/// <typeparam name="TSpec">The spec type.</typeparam>
/// <typeparam name="TStatus">The status type.</typeparam>
public abstract class KubeBackupResource<TSpec, TStatus> : IKubernetesObject<V1ObjectMeta>
    where TSpec : new()
{
    /// <summary>Always <see cref="KubeBackupApi.ApiVersion"/>.</summary>
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = KubeBackupApi.ApiVersion;

    /// <summary>The kind.</summary>
    [JsonPropertyName("kind")]
    public abstract string Kind { get; set; }

    /// <summary>Standard object metadata.</summary>
    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    /// <summary>The desired state.</summary>
    [JsonPropertyName("spec")]
    public TSpec Spec { get; set; } = new();

    /// <summary>The observed state (written through the status subresource).</summary>
    [JsonPropertyName("status")]
    public TStatus? Status { get; set; }
}

/// <summary>A reference to an object by name (and namespace).</summary>
public sealed class ObjectReference
{
    /// <summary>The name.</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    /// <summary>The namespace; null for the referring object's.</summary>
    [JsonPropertyName("namespace")]
    public string? Namespace { get; set; }
}

/// <summary>A key in a Secret.</summary>
public sealed class SecretKeyReference
{
    /// <summary>The Secret.</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    /// <summary>The key.</summary>
    [JsonPropertyName("key")]
    public string Key { get; set; } = "";
}

/// <summary>A Secret by name.</summary>
public sealed class SecretReference
{
    /// <summary>The Secret.</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";
}

/// <summary>A standard condition (type, status, reason, message).</summary>
public sealed class ResourceCondition
{
    /// <summary>The condition type.</summary>
    [JsonPropertyName("type")]
    public string Type { get; set; } = "";

    /// <summary>"True", "False" or "Unknown".</summary>
    [JsonPropertyName("status")]
    public string Status { get; set; } = "Unknown";

    /// <summary>A machine-readable reason.</summary>
    [JsonPropertyName("reason")]
    public string? Reason { get; set; }

    /// <summary>A human-readable message.</summary>
    [JsonPropertyName("message")]
    public string? Message { get; set; }

    /// <summary>When the status last changed.</summary>
    [JsonPropertyName("lastTransitionTime")]
    public DateTimeOffset? LastTransitionTime { get; set; }
}

/// <summary>The workload or claim a configuration or restore points at.</summary>
public sealed class TargetReference
{
    /// <summary>apps/v1 or v1.</summary>
    [JsonPropertyName("apiVersion")]
    public string? ApiVersion { get; set; }

    /// <summary>Deployment, StatefulSet, DaemonSet, Pod or PersistentVolumeClaim.</summary>
    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "";

    /// <summary>The name.</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    /// <summary>As a <see cref="Targets.TargetRef"/> in a namespace.</summary>
    public Targets.TargetRef ToTargetRef(string ns) => new(Enum.Parse<Targets.TargetKind>(Kind), ns, Name);
}
