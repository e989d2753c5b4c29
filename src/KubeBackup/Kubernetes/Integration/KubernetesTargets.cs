using System.Collections.Concurrent;
using KubeBackup.Configuration;
using KubeBackup.Kubernetes.Targets;

namespace KubeBackup.Kubernetes.Integration;

/// <summary>Finds the Kubernetes object behind a session target (hooks only know the configuration and target names).</summary>
public interface IKubernetesTargetLookup
{
    /// <summary>The target's Kubernetes reference, or null for a target that is not a Kubernetes object (a local one).</summary>
    TargetRef? Find(string configurationName, string targetName);
}

/// <summary>
/// How session targets map to Kubernetes objects: a target whose <see cref="BackupTarget.Kind"/> is Deployment,
/// StatefulSet, DaemonSet, Pod or PersistentVolumeClaim names the object by the variable <c>WORKLOAD</c> (default: the
/// target's name) in the namespace of the variable <c>NAMESPACE</c> (target's, then configuration's; default
/// <see cref="DefaultNamespace"/>). Register each configuration the host runs.
/// </summary>
public sealed class KubernetesTargetRegistry : IKubernetesTargetLookup
{
    private readonly ConcurrentDictionary<(string, string), TargetRef> _targets = new();

    /// <summary>The namespace of targets that name none. Default <c>default</c>.</summary>
    public string DefaultNamespace { get; set; } = "default";

    /// <summary>Registers every Kubernetes target of a configuration.</summary>
    public void Register(BackupConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var target in configuration.Targets)
        {
            if (ToTargetRef(configuration, target, DefaultNamespace) is { } reference)
            {
                _targets[(configuration.Name, target.Name)] = reference;
            }
        }
    }

    /// <inheritdoc />
    public TargetRef? Find(string configurationName, string targetName) =>
        _targets.TryGetValue((configurationName, targetName), out var r) ? r : null;

    /// <summary>The Kubernetes reference of a target, or null if its kind is not a Kubernetes kind.</summary>
    public static TargetRef? ToTargetRef(BackupConfiguration configuration, BackupTarget target, string defaultNamespace = "default")
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(target);
        if (!Enum.TryParse<TargetKind>(target.Kind, ignoreCase: true, out var kind) || int.TryParse(target.Kind, out _))
        {
            return null;
        }

        string ns = target.Variables.GetValueOrDefault("NAMESPACE") ?? configuration.Variables.GetValueOrDefault("NAMESPACE") ?? defaultNamespace;
        string name = target.Variables.GetValueOrDefault("WORKLOAD") ?? target.Name;
        return new TargetRef(kind, ns, name);
    }
}
