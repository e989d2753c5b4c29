using Microsoft.Extensions.Logging;

namespace KubeBackup.Storage.Azure;

/// <summary>
/// Resolves restic's <c>azure:container:/prefix</c> locations. Credentials come from restic's variables
/// <c>AZURE_ACCOUNT_NAME</c> with <c>AZURE_ACCOUNT_KEY</c> or <c>AZURE_ACCOUNT_SAS</c> (and <c>AZURE_ENDPOINT_SUFFIX</c>),
/// from the SDK's <c>AZURE_STORAGE_CONNECTION_STRING</c>, or else from Azure.Identity's default credential chain.
/// </summary>
public sealed class AzureBackendProvider : IBackendProvider
{
    private readonly ILoggerFactory? _loggerFactory;
    private readonly Action<AzureBackendOptions>? _configure;

    /// <summary>Creates the provider.</summary>
    /// <param name="loggerFactory">Where the backends it creates log.</param>
    /// <param name="configure">Adjusts the options parsed from a location before the backend is made.</param>
    public AzureBackendProvider(ILoggerFactory? loggerFactory = null, Action<AzureBackendOptions>? configure = null)
    {
        _loggerFactory = loggerFactory;
        _configure = configure;
    }

    /// <inheritdoc />
    public string Scheme => "azure";

    /// <inheritdoc />
    public IBackend Create(string location, IReadOnlyDictionary<string, string?> environment)
    {
        var options = ParseLocation(location, environment);
        _configure?.Invoke(options);
        return new AzureBackend(options, _loggerFactory?.CreateLogger<AzureBackend>());
    }

    /// <summary>Turns the part of a location after <c>azure:</c>, and the environment, into options.</summary>
    /// <exception cref="ArgumentException">The location names no container.</exception>
    public static AzureBackendOptions ParseLocation(string location, IReadOnlyDictionary<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(environment);
        int colon = location.IndexOf(':', StringComparison.Ordinal);
        string container = colon < 0 ? location : location[..colon];
        string prefix = colon < 0 ? string.Empty : location[(colon + 1)..];
        if (container.Length == 0)
        {
            throw new ArgumentException("An azure: location needs a container: azure:container:/prefix.");
        }

        var options = new AzureBackendOptions
        {
            Container = container,
            Prefix = prefix.Trim('/'),
            AccountName = Get(environment, "AZURE_ACCOUNT_NAME"),
            AccountKey = Get(environment, "AZURE_ACCOUNT_KEY"),
            SasToken = Get(environment, "AZURE_ACCOUNT_SAS"),
            ConnectionString = Get(environment, "AZURE_STORAGE_CONNECTION_STRING"),
            CaCertificateFile = Get(environment, "RESTIC_CACERT"),
        };
        if (Get(environment, "AZURE_ENDPOINT_SUFFIX") is { } suffix)
        {
            options.EndpointSuffix = suffix;
        }

        // restic's own variables name the account explicitly; they win over an ambient connection string.
        if (options.AccountName is not null && (options.AccountKey is not null || options.SasToken is not null))
        {
            options.ConnectionString = null;
        }

        return options;
    }

    private static string? Get(IReadOnlyDictionary<string, string?> environment, string name) =>
        environment.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value) ? value : null;
}
