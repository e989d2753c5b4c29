using Microsoft.Extensions.Logging;

namespace KubeBackup.Storage.Gcs;

/// <summary>
/// Resolves restic's <c>gs:bucket:/prefix</c> locations. Credentials come from <c>GOOGLE_APPLICATION_CREDENTIALS</c>
/// or <c>GOOGLE_ACCESS_TOKEN</c>, else Application Default Credentials; <c>GOOGLE_PROJECT_ID</c> lets a new
/// repository create its bucket. <c>STORAGE_EMULATOR_HOST</c> (host:port or a URL), as Google's client libraries
/// honour it, points at an emulator: no credentials, no bucket API, and the emulator's limits worked around
/// (single-chunk uploads, no validation of ranged downloads).
/// </summary>
public sealed class GcsBackendProvider : IBackendProvider
{
    /// <summary>The upload chunk size used against an emulator: at least restic's largest pack (128 MiB), because the
    /// firebase emulator keeps only the first chunk of a multi-chunk upload.</summary>
    public const int EmulatorChunkSize = 128 * 1024 * 1024;

    private readonly ILoggerFactory? _loggerFactory;
    private readonly Action<GcsBackendOptions>? _configure;

    /// <summary>Creates the provider.</summary>
    /// <param name="loggerFactory">Where the backends it creates log.</param>
    /// <param name="configure">Adjusts the options parsed from a location before the backend is made.</param>
    public GcsBackendProvider(ILoggerFactory? loggerFactory = null, Action<GcsBackendOptions>? configure = null)
    {
        _loggerFactory = loggerFactory;
        _configure = configure;
    }

    /// <inheritdoc />
    public string Scheme => "gs";

    /// <inheritdoc />
    public IBackend Create(string location, IReadOnlyDictionary<string, string?> environment)
    {
        var options = ParseLocation(location, environment);
        _configure?.Invoke(options);
        return new GcsBackend(options, _loggerFactory?.CreateLogger<GcsBackend>());
    }

    /// <summary>Turns the part of a location after <c>gs:</c>, and the environment, into options.</summary>
    /// <exception cref="ArgumentException">The location names no bucket.</exception>
    public static GcsBackendOptions ParseLocation(string location, IReadOnlyDictionary<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(environment);
        int colon = location.IndexOf(':', StringComparison.Ordinal);
        string bucket = colon < 0 ? location : location[..colon];
        string prefix = colon < 0 ? string.Empty : location[(colon + 1)..];
        if (bucket.Length == 0)
        {
            throw new ArgumentException("A gs: location needs a bucket: gs:bucket:/prefix.");
        }

        var options = new GcsBackendOptions
        {
            Bucket = bucket,
            Prefix = prefix.Trim('/'),
            ProjectId = Get(environment, "GOOGLE_PROJECT_ID"),
            CredentialsFile = Get(environment, "GOOGLE_APPLICATION_CREDENTIALS"),
            AccessToken = Get(environment, "GOOGLE_ACCESS_TOKEN"),
            CaCertificateFile = Get(environment, "RESTIC_CACERT"),
        };
        if (Get(environment, "STORAGE_EMULATOR_HOST") is { } emulator)
        {
            ApplyEmulator(options, emulator);
        }

        return options;
    }

    /// <summary>Points options at an emulator (<c>host:port</c> or <c>http://host:port</c>) and works around its limits.</summary>
    public static void ApplyEmulator(GcsBackendOptions options, string emulatorHost)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(emulatorHost);
        string root = emulatorHost.Contains("://", StringComparison.Ordinal) ? emulatorHost : "http://" + emulatorHost;
        options.Endpoint = new Uri(root.TrimEnd('/') + "/storage/v1/");
        options.UnauthenticatedAccess = true;
        options.CredentialsFile = null;
        options.AccessToken = null;
        options.CreateBucket = false;
        options.ChunkSize = EmulatorChunkSize;
        options.DownloadValidation = GcsDownloadValidation.Never;
    }

    private static string? Get(IReadOnlyDictionary<string, string?> environment, string name) =>
        environment.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value) ? value : null;
}
