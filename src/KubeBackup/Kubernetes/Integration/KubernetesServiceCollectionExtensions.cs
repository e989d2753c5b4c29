using k8s;
using KubeBackup.DependencyInjection;
using KubeBackup.Hooks;
using KubeBackup.Kubernetes.Agentless;
using KubeBackup.Kubernetes.Exec;
using KubeBackup.Kubernetes.Hooks;
using KubeBackup.Kubernetes.Snapshots;
using KubeBackup.Kubernetes.Streams;
using KubeBackup.Kubernetes.Targets;
using KubeBackup.Sessions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace KubeBackup.Kubernetes.Integration;

/// <summary>Registers the Kubernetes building blocks on the KubeBackup builder.</summary>
public static class KubernetesServiceCollectionExtensions
{
    /// <summary>
    /// Adds pod exec, target resolution, stream and agentless backups, the CSI-snapshot driver, the
    /// <see cref="KubernetesTargetRegistry"/>, the Kubernetes functions (<see cref="KubernetesFunctionNames"/>) and a
    /// <see cref="KubernetesHookExecutor"/> as the session runner's <see cref="IHookExecutor"/> (it hands hooks of
    /// non-Kubernetes targets to the local executor). The host registers its own <see cref="IKubernetes"/> (in-cluster or
    /// kubeconfig configuration): <c>services.AddKubeBackup().AddSessions().AddKubernetes()</c> (before or after
    /// <c>AddSessions</c>, either works).
    /// </summary>
    public static IKubeBackupBuilder AddKubernetes(this IKubeBackupBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.TryAddSingleton<IPodExecutor>(sp => new PodExecutor(sp.GetRequiredService<IKubernetes>(), logger: sp.GetService<ILogger<PodExecutor>>()));
        services.TryAddSingleton<ITargetResolver>(sp => new TargetResolver(sp.GetRequiredService<IKubernetes>(), logger: sp.GetService<ILogger<TargetResolver>>()));
        services.TryAddSingleton<KubernetesTargetRegistry>();
        services.TryAddSingleton<IKubernetesTargetLookup>(sp => sp.GetRequiredService<KubernetesTargetRegistry>());
        services.TryAddSingleton(sp => new PodHookRunner(sp.GetRequiredService<IPodExecutor>(), sp.GetService<ILogger<PodHookRunner>>()));
        services.TryAddSingleton(sp => new PodStreamBackup(sp.GetRequiredService<IPodExecutor>(), sp.GetService<ILogger<PodStreamBackup>>()));
        services.TryAddSingleton(sp => new AgentlessFileBackup(sp.GetRequiredService<IPodExecutor>(), sp.GetService<ILogger<AgentlessFileBackup>>()));
        services.TryAddSingleton(sp => new CsiSnapshotDriver(sp.GetRequiredService<IKubernetes>(), sp.GetRequiredService<ITargetResolver>(),
            sp.GetRequiredService<PodHookRunner>(), logger: sp.GetService<ILogger<CsiSnapshotDriver>>()));
        services.Replace(ServiceDescriptor.Singleton<IHookExecutor>(sp => new KubernetesHookExecutor(sp.GetRequiredService<IPodExecutor>(),
            sp.GetRequiredService<ITargetResolver>(), sp.GetRequiredService<IKubernetesTargetLookup>(),
            new LocalHookExecutor(timeProvider: sp.GetService<TimeProvider>()))));
        builder.AddFunction<PodStreamBackupFunction>(KubernetesFunctionNames.PodStreamBackup);
        builder.AddFunction<PodStreamRestoreFunction>(KubernetesFunctionNames.PodStreamRestore);
        builder.AddFunction<PodFileBackupFunction>(KubernetesFunctionNames.PodFileBackup);
        builder.AddFunction<VolumeSnapshotFunction>(KubernetesFunctionNames.VolumeSnapshot);
        return builder;
    }

    /// <summary>The Kubernetes functions registered on a <see cref="Functions.FunctionRegistry"/> directly (hosts without
    /// dependency injection).</summary>
    public static Functions.FunctionRegistry AddKubernetesFunctions(this Functions.FunctionRegistry registry, IKubernetes kubernetes, IPodExecutor? executor = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(kubernetes);
        executor ??= new PodExecutor(kubernetes);
        var resolver = new TargetResolver(kubernetes);
        var streamer = new PodStreamBackup(executor);
        return registry
            .Register(KubernetesFunctionNames.PodStreamBackup, new PodStreamBackupFunction(streamer, resolver))
            .Register(KubernetesFunctionNames.PodStreamRestore, new PodStreamRestoreFunction(streamer, resolver))
            .Register(KubernetesFunctionNames.PodFileBackup, new PodFileBackupFunction(new AgentlessFileBackup(executor), resolver))
            .Register(KubernetesFunctionNames.VolumeSnapshot, new VolumeSnapshotFunction(new CsiSnapshotDriver(kubernetes, resolver, new PodHookRunner(executor))));
    }
}
