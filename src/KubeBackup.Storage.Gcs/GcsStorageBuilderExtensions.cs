using KubeBackup.DependencyInjection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace KubeBackup.Storage.Gcs;

/// <summary>Adds Google Cloud Storage to a KubeBackup host: <c>services.AddKubeBackup().AddGcsStorage(o => …)</c>.</summary>
public static class GcsStorageBuilderExtensions
{
    /// <summary>Registers a GCS backend as the default <see cref="IBackend"/> (options validated at start-up), and
    /// <c>gs:</c> locations in the <see cref="BackendRegistry"/>.</summary>
    public static IKubeBackupBuilder AddGcsStorage(this IKubeBackupBuilder builder, Action<GcsBackendOptions> configure) =>
        builder.AddGcsStorage(KubeBackupServiceCollectionExtensions.DefaultBackendName, configure);

    /// <summary>Registers a GCS backend as the keyed <see cref="IBackend"/> <paramref name="name"/>.</summary>
    public static IKubeBackupBuilder AddGcsStorage(this IKubeBackupBuilder builder, string name, Action<GcsBackendOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IBackendProvider, GcsBackendProvider>(
            sp => new GcsBackendProvider(sp.GetService<ILoggerFactory>())));
        return builder.AddBackend<GcsBackendOptions>(name, configure, (options, loggers) => new GcsBackend(options, loggers.CreateLogger<GcsBackend>()));
    }
}
