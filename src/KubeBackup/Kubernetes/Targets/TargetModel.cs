namespace KubeBackup.Kubernetes.Targets;

/// <summary>The kinds of object a backup can target.</summary>
public enum TargetKind
{
    /// <summary>apps/v1 Deployment: one ready pod is backed up.</summary>
    Deployment,

    /// <summary>apps/v1 StatefulSet: every replica, each as its own host (<c>name-ordinal</c>).</summary>
    StatefulSet,

    /// <summary>apps/v1 DaemonSet: every pod, each as its own host (<c>name-node</c>).</summary>
    DaemonSet,

    /// <summary>v1 Pod.</summary>
    Pod,

    /// <summary>v1 PersistentVolumeClaim (with the running pods that mount it, if any).</summary>
    PersistentVolumeClaim,
}

/// <summary>A reference to a backup target.</summary>
/// <param name="Kind">The kind.</param>
/// <param name="Namespace">The namespace.</param>
/// <param name="Name">The name.</param>
public sealed record TargetRef(TargetKind Kind, string Namespace, string Name)
{
    /// <inheritdoc />
    public override string ToString() => $"{Kind} {Namespace}/{Name}";
}

/// <summary>What to look for in a target's pods.</summary>
public sealed class TargetResolveOptions
{
    /// <summary>Paths inside the container to back up; the volumes mounted there are reported.</summary>
    public IList<string> Paths { get; } = [];

    /// <summary>The container to use; null picks the first container that mounts every path (or the first container).</summary>
    public string? Container { get; set; }
}

/// <summary>A volume mounted in the chosen container.</summary>
/// <param name="VolumeName">The pod's volume name.</param>
/// <param name="MountPath">Where the container mounts it.</param>
/// <param name="ClaimName">The PersistentVolumeClaim behind it, if any.</param>
/// <param name="ReadOnly">Whether the mount is read-only.</param>
public sealed record ResolvedVolume(string VolumeName, string MountPath, string? ClaimName, bool ReadOnly);

/// <summary>A running, ready pod of a target.</summary>
/// <param name="Namespace">The namespace.</param>
/// <param name="Name">The pod name.</param>
/// <param name="Container">The container commands run in.</param>
/// <param name="BackupHost">The host name its snapshots are recorded under (Stash's rules).</param>
/// <param name="NodeName">The node it runs on.</param>
/// <param name="Volumes">Volumes mounted at the requested paths (or all mounts when no path was given).</param>
public sealed record ResolvedPod(string Namespace, string Name, string Container, string BackupHost, string? NodeName, IReadOnlyList<ResolvedVolume> Volumes);

/// <summary>A target resolved to pods and claims.</summary>
public sealed class ResolvedTarget
{
    /// <summary>The target.</summary>
    public required TargetRef Target { get; init; }

    /// <summary>The pods to back up, in a stable order.</summary>
    public required IReadOnlyList<ResolvedPod> Pods { get; init; }

    /// <summary>The PersistentVolumeClaims of the target (for volume snapshots), in a stable order.</summary>
    public required IReadOnlyList<string> Claims { get; init; }
}

/// <summary>A target that cannot be backed up: missing, not ready, or without the volumes asked for. Never reported as
/// "nothing to do".</summary>
public sealed class TargetResolutionException : KubeBackupException
{
    /// <summary>Creates the exception.</summary>
    public TargetResolutionException(TargetRef target, string reason, Exception? innerException = null)
        : base($"{target}: {reason}", innerException)
    {
        Target = target;
        Reason = reason;
    }

    /// <summary>The target.</summary>
    public TargetRef Target { get; }

    /// <summary>Why it cannot be backed up.</summary>
    public string Reason { get; }
}
