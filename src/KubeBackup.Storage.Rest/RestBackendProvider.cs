using Microsoft.Extensions.Logging;

namespace KubeBackup.Storage.Rest;

/// <summary>
/// Resolves restic's <c>rest:http(s)://[user:password@]host:port/path</c> locations. Credentials come from the URL
/// or from <c>RESTIC_REST_USERNAME</c>/<c>RESTIC_REST_PASSWORD</c>; a private CA from <c>RESTIC_CACERT</c>.
/// </summary>
public sealed class RestBackendProvider : IBackendProvider
{
    private readonly ILoggerFactory? _loggerFactory;
    private readonly Action<RestBackendOptions>? _configure;

    /// <summary>Creates the provider.</summary>
    /// <param name="loggerFactory">Where the backends it creates log.</param>
    /// <param name="configure">Adjusts the options parsed from a location before the backend is made.</param>
    public RestBackendProvider(ILoggerFactory? loggerFactory = null, Action<RestBackendOptions>? configure = null)
    {
        _loggerFactory = loggerFactory;
        _configure = configure;
    }

    /// <inheritdoc />
    public string Scheme => "rest";

    /// <inheritdoc />
    public IBackend Create(string location, IReadOnlyDictionary<string, string?> environment)
    {
        var options = ParseLocation(location, environment);
        _configure?.Invoke(options);
        return new RestBackend(options, _loggerFactory?.CreateLogger<RestBackend>());
    }

    /// <summary>Turns the part of a location after <c>rest:</c>, and the environment, into options.</summary>
    /// <exception cref="ArgumentException">The location is not an http or https URL.</exception>
    public static RestBackendOptions ParseLocation(string location, IReadOnlyDictionary<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(environment);
        if (!Uri.TryCreate(location, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            // Deliberately not echoing the location: it may carry a password.
            throw new ArgumentException("A rest: location must be an http or https URL: rest:https://user:password@host:8000/repo.");
        }

        var options = new RestBackendOptions { Url = url, CaCertificateFile = Get(environment, "RESTIC_CACERT") };
        if (string.IsNullOrEmpty(url.UserInfo))
        {
            options.Username = Get(environment, "RESTIC_REST_USERNAME");
            options.Password = Get(environment, "RESTIC_REST_PASSWORD");
        }

        return options;
    }

    private static string? Get(IReadOnlyDictionary<string, string?> environment, string name) =>
        environment.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value) ? value : null;
}
