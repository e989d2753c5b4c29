using KubeBackup.DependencyInjection;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using KubeBackup.Configuration;
using KubeBackup.Diagnostics;
using KubeBackup.Drills;
using KubeBackup.Functions;
using KubeBackup.Hooks;
using KubeBackup.Scheduling;
using KubeBackup.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace KubeBackup.Sessions;

/// <summary>Registers sessions, functions, hook executors, the scheduler and the metrics in a host's services.</summary>
public static class SessionServiceCollectionExtensions
{
    /// <summary>
    /// Adds a <see cref="SessionRunner"/> (with the built-in functions and every function added with
    /// <see cref="AddFunction{TFunction}"/>), a <see cref="LocalHookExecutor"/> unless another
    /// <see cref="IHookExecutor"/> is registered, a <see cref="LocalSecretResolver"/> unless another
    /// <see cref="ISecretResolver"/> is, <see cref="KubeBackupMetrics"/> on the host's <see cref="IMeterFactory"/>,
    /// a <see cref="BackupScheduler"/> and a <see cref="SessionHistory"/>. A <see cref="BackendRegistry"/> registered
    /// by the storage packages is used for repository locations.
    /// </summary>
    public static IKubeBackupBuilder AddSessions(this IKubeBackupBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new KubeBackupMetrics(sp.GetService<IMeterFactory>()));
        services.TryAddSingleton<ISecretResolver, LocalSecretResolver>();
        services.TryAddSingleton<IHookExecutor>(sp => new LocalHookExecutor(timeProvider: sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<RestoreProbeRegistry>(sp =>
        {
            var registry = new RestoreProbeRegistry();
            foreach (var probe in sp.GetServices<ProbeRegistration>())
            {
                registry.Register(probe.Name, probe.Probe);
            }

            return registry;
        });
        services.TryAddSingleton(sp =>
        {
            var registry = FunctionRegistry.CreateDefault(sp.GetRequiredService<RestoreProbeRegistry>());
            foreach (var registration in sp.GetServices<FunctionRegistration>())
            {
                registry.Register(registration.Name, registration.Create(sp));
            }

            return registry;
        });
        services.TryAddSingleton(sp => new SessionRunner(new SessionRunnerOptions
        {
            Functions = sp.GetRequiredService<FunctionRegistry>(),
            HookExecutor = sp.GetRequiredService<IHookExecutor>(),
            SecretResolver = sp.GetRequiredService<ISecretResolver>(),
            Backends = sp.GetService<BackendRegistry>() ?? new BackendRegistry(),
            TimeProvider = sp.GetRequiredService<TimeProvider>(),
            LoggerFactory = sp.GetService<ILoggerFactory>(),
            Metrics = sp.GetRequiredService<KubeBackupMetrics>(),
            Services = sp,
        }));
        services.TryAddSingleton(sp => new BackupScheduler(sp.GetRequiredService<TimeProvider>(), sp.GetService<ILoggerFactory>()?.CreateLogger("KubeBackup.Scheduling")));
        services.TryAddSingleton<SessionHistory>();
        return builder;
    }

    /// <summary>Registers a function under a name tasks use (a singleton built by the container).</summary>
    public static IKubeBackupBuilder AddFunction<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TFunction>(
        this IKubeBackupBuilder builder, string name)
        where TFunction : class, IBackupFunction
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        builder.Services.TryAddSingleton<TFunction>();
        builder.Services.AddSingleton(new FunctionRegistration(name, sp => sp.GetRequiredService<TFunction>()));
        return builder;
    }

    /// <summary>Registers a restore-drill probe under a name (the <c>probe</c> parameter of <c>restore-drill</c>).</summary>
    public static IKubeBackupBuilder AddRestoreProbe(this IKubeBackupBuilder builder, string name, IRestoreProbe probe)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(probe);
        builder.Services.AddSingleton(new ProbeRegistration(name, probe));
        return builder;
    }

    /// <summary>Replaces the hook executor (the Kubernetes package runs hooks in containers).</summary>
    public static IKubeBackupBuilder AddHookExecutor<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TExecutor>(
        this IKubeBackupBuilder builder)
        where TExecutor : class, IHookExecutor
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Replace(ServiceDescriptor.Singleton<IHookExecutor, TExecutor>());
        return builder;
    }

    private sealed record FunctionRegistration(string Name, Func<IServiceProvider, IBackupFunction> Create);

    private sealed record ProbeRegistration(string Name, IRestoreProbe Probe);
}
