using System.Diagnostics.CodeAnalysis;
using KubeBackup.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KubeBackup.DependencyInjection;

/// <summary>Composes KubeBackup in a host: <c>services.AddKubeBackup().AddS3Storage(...)</c>.</summary>
public interface IKubeBackupBuilder
{
    /// <summary>The service collection being configured.</summary>
    IServiceCollection Services { get; }
}

/// <summary>Registers KubeBackup's services.</summary>
public static class KubeBackupServiceCollectionExtensions
{
    /// <summary>The name a backend gets when none is given; it is also registered as the un-keyed <see cref="IBackend"/>.</summary>
    public const string DefaultBackendName = "default";

    /// <summary>
    /// Adds KubeBackup: a <see cref="BackendRegistry"/> that resolves restic-style locations with every provider
    /// package added to the builder. Returns the builder that provider packages extend (<c>AddS3Storage</c>,
    /// <c>AddAzureStorage</c>, <c>AddGcsStorage</c>, <c>AddRestStorage</c>).
    /// </summary>
    public static IKubeBackupBuilder AddKubeBackup(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions();
        services.TryAddSingleton(sp =>
        {
            var registry = new BackendRegistry();
            foreach (var provider in sp.GetServices<IBackendProvider>())
            {
                registry.Register(provider);
            }

            return registry;
        });
        return new KubeBackupBuilder(services);
    }

    /// <summary>
    /// Registers a backend built from named options, for provider packages: the options are validated when the host
    /// starts (<c>ValidateOnStart</c>), the backend is a keyed singleton under <paramref name="name"/>, and the first
    /// backend registered is also the un-keyed <see cref="IBackend"/>.
    /// </summary>
    /// <typeparam name="TOptions">The provider's options type.</typeparam>
    /// <param name="builder">The KubeBackup builder.</param>
    /// <param name="name">The backend's name (service key and options name).</param>
    /// <param name="configure">Sets the options.</param>
    /// <param name="create">Creates the backend from validated options and a logger factory.</param>
    public static IKubeBackupBuilder AddBackend<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(this IKubeBackupBuilder builder, string name, Action<TOptions> configure,
        Func<TOptions, ILoggerFactory, IBackend> create)
        where TOptions : RemoteBackendOptions
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);
        ArgumentNullException.ThrowIfNull(create);
        var services = builder.Services;
        services.AddOptions<TOptions>(name).Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, RemoteBackendOptionsValidator<TOptions>>());
        services.AddKeyedSingleton<IBackend>(name, (sp, _) =>
        {
            var options = sp.GetRequiredService<IOptionsMonitor<TOptions>>().Get(name);
            return create(options, sp.GetService<ILoggerFactory>() ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        });
        services.TryAddSingleton<IBackend>(sp => sp.GetRequiredKeyedService<IBackend>(name));
        return builder;
    }

    private sealed class KubeBackupBuilder(IServiceCollection services) : IKubeBackupBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}

/// <summary>Validates remote backend options through <see cref="RemoteBackendOptions.Validate"/>.</summary>
internal sealed class RemoteBackendOptionsValidator<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions> : IValidateOptions<TOptions>
    where TOptions : RemoteBackendOptions
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors.Select(e => $"{typeof(TOptions).Name} '{name}': {e}"));
    }
}
