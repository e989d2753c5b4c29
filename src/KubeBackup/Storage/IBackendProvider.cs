namespace KubeBackup.Storage;

/// <summary>
/// Turns a repository location written the way restic writes it (<c>/srv/repo</c>, <c>s3:host/bucket</c>,
/// <c>rest:https://host/repo</c>…) into a backend. Provider packages register one for their scheme; credentials come
/// from the environment (or options), never from the location string when it would end up in logs.
/// </summary>
public interface IBackendProvider
{
    /// <summary>The location scheme handled, for example <c>s3</c>; <c>local</c> for paths.</summary>
    string Scheme { get; }

    /// <summary>Creates a backend for a location of this provider's scheme (without the <c>scheme:</c> prefix).</summary>
    /// <param name="location">The part after <c>scheme:</c>.</param>
    /// <param name="environment">Where to read credentials and settings from (restic's environment variables).</param>
    IBackend Create(string location, IReadOnlyDictionary<string, string?> environment);
}

/// <summary>Chooses the backend provider for a location. The local file system is always registered.</summary>
public sealed class BackendRegistry
{
    private readonly Dictionary<string, IBackendProvider> _providers = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates a registry that knows local paths.</summary>
    public BackendRegistry()
    {
        Register(new Local.LocalBackendProvider());
    }

    /// <summary>The registered schemes.</summary>
    public IReadOnlyCollection<string> Schemes => _providers.Keys;

    /// <summary>Adds (or replaces) a provider.</summary>
    public BackendRegistry Register(IBackendProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        _providers[provider.Scheme] = provider;
        return this;
    }

    /// <summary>Creates the backend for a location.</summary>
    /// <exception cref="ArgumentException">The location's scheme has no provider.</exception>
    public IBackend Create(string location, IReadOnlyDictionary<string, string?>? environment = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(location);
        environment ??= ReadEnvironment();
        int colon = location.IndexOf(':', StringComparison.Ordinal);
        // A path (absolute, relative, or one whose folder names contain ':') is local unless it starts with a known scheme.
        if (colon > 0 && !location.StartsWith('/') && !location.StartsWith('.'))
        {
            string scheme = location[..colon];
            if (_providers.TryGetValue(scheme, out var provider))
            {
                return provider.Create(location[(colon + 1)..], environment);
            }

            if (scheme is "s3" or "azure" or "gs" or "rest" or "b2" or "swift" or "sftp" or "rclone")
            {
                throw new ArgumentException($"No storage provider for '{scheme}:' locations is registered; add the KubeBackup.Storage package for it.");
            }
        }

        return _providers["local"].Create(location, environment);
    }

    private static Dictionary<string, string?> ReadEnvironment()
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            result[(string)e.Key] = e.Value as string;
        }

        return result;
    }
}
