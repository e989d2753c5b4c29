using KubeBackup.DependencyInjection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace KubeBackup.Storage.Rest;

/// <summary>Adds a restic REST server to a KubeBackup host: <c>services.AddKubeBackup().AddRestStorage(o => …)</c>.</summary>
public static class RestStorageBuilderExtensions
{
    /// <summary>Registers a REST backend as the default <see cref="IBackend"/> (options validated at start-up), and
    /// <c>rest:</c> locations in the <see cref="BackendRegistry"/>.</summary>
    public static IKubeBackupBuilder AddRestStorage(this IKubeBackupBuilder builder, Action<RestBackendOptions> configure) =>
        builder.AddRestStorage(KubeBackupServiceCollectionExtensions.DefaultBackendName, configure);

    /// <summary>Registers a REST backend as the keyed <see cref="IBackend"/> <paramref name="name"/>.</summary>
    public static IKubeBackupBuilder AddRestStorage(this IKubeBackupBuilder builder, string name, Action<RestBackendOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IBackendProvider, RestBackendProvider>(
            sp => new RestBackendProvider(sp.GetService<ILoggerFactory>())));
        return builder.AddBackend<RestBackendOptions>(name, configure, (options, loggers) => new RestBackend(options, loggers.CreateLogger<RestBackend>()));
    }
}
