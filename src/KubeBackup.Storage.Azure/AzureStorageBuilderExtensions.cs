using KubeBackup.DependencyInjection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace KubeBackup.Storage.Azure;

/// <summary>Adds Azure Blob storage to a KubeBackup host: <c>services.AddKubeBackup().AddAzureStorage(o => …)</c>.</summary>
public static class AzureStorageBuilderExtensions
{
    /// <summary>Registers an Azure backend as the default <see cref="IBackend"/> (options validated at start-up), and
    /// <c>azure:</c> locations in the <see cref="BackendRegistry"/>.</summary>
    public static IKubeBackupBuilder AddAzureStorage(this IKubeBackupBuilder builder, Action<AzureBackendOptions> configure) =>
        builder.AddAzureStorage(KubeBackupServiceCollectionExtensions.DefaultBackendName, configure);

    /// <summary>Registers an Azure backend as the keyed <see cref="IBackend"/> <paramref name="name"/>.</summary>
    public static IKubeBackupBuilder AddAzureStorage(this IKubeBackupBuilder builder, string name, Action<AzureBackendOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IBackendProvider, AzureBackendProvider>(
            sp => new AzureBackendProvider(sp.GetService<ILoggerFactory>())));
        return builder.AddBackend<AzureBackendOptions>(name, configure, (options, loggers) => new AzureBackend(options, loggers.CreateLogger<AzureBackend>()));
    }
}
