using KubeBackup.DependencyInjection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace KubeBackup.Storage.S3;

/// <summary>Adds S3 storage to a KubeBackup host: <c>services.AddKubeBackup().AddS3Storage(o => …)</c>.</summary>
public static class S3StorageBuilderExtensions
{
    /// <summary>Registers an S3 backend as the default <see cref="IBackend"/> (options validated at start-up), and
    /// <c>s3:</c> locations in the <see cref="BackendRegistry"/>.</summary>
    public static IKubeBackupBuilder AddS3Storage(this IKubeBackupBuilder builder, Action<S3BackendOptions> configure) =>
        builder.AddS3Storage(KubeBackupServiceCollectionExtensions.DefaultBackendName, configure);

    /// <summary>Registers an S3 backend as the keyed <see cref="IBackend"/> <paramref name="name"/>.</summary>
    public static IKubeBackupBuilder AddS3Storage(this IKubeBackupBuilder builder, string name, Action<S3BackendOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IBackendProvider, S3BackendProvider>(
            sp => new S3BackendProvider(sp.GetService<ILoggerFactory>())));
        return builder.AddBackend<S3BackendOptions>(name, configure, (options, loggers) => new S3Backend(options, loggers.CreateLogger<S3Backend>()));
    }
}
