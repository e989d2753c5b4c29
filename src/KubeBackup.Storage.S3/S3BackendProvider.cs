using Microsoft.Extensions.Logging;

namespace KubeBackup.Storage.S3;

/// <summary>
/// Resolves restic's <c>s3:</c> locations: <c>s3:https://host:port/bucket/prefix</c> (an S3-compatible endpoint,
/// path-style), <c>s3:s3.amazonaws.com/bucket/prefix</c> (Amazon S3) and <c>s3:host/bucket/prefix</c> (https).
/// Credentials come from <c>AWS_ACCESS_KEY_ID</c>/<c>AWS_SECRET_ACCESS_KEY</c>/<c>AWS_SESSION_TOKEN</c>, else from the
/// SDK's default chain; the region from <c>AWS_DEFAULT_REGION</c> (or <c>AWS_REGION</c>); a private CA from
/// <c>RESTIC_CACERT</c>. <c>KUBEBACKUP_S3_CHUNK_ENCODING=false</c> turns off aws-chunked uploads for servers that need it.
/// </summary>
public sealed class S3BackendProvider : IBackendProvider
{
    private readonly ILoggerFactory? _loggerFactory;
    private readonly Action<S3BackendOptions>? _configure;

    /// <summary>Creates the provider.</summary>
    /// <param name="loggerFactory">Where the backends it creates log.</param>
    /// <param name="configure">Adjusts the options parsed from a location (resilience, handlers…) before the backend is made.</param>
    public S3BackendProvider(ILoggerFactory? loggerFactory = null, Action<S3BackendOptions>? configure = null)
    {
        _loggerFactory = loggerFactory;
        _configure = configure;
    }

    /// <inheritdoc />
    public string Scheme => "s3";

    /// <inheritdoc />
    public IBackend Create(string location, IReadOnlyDictionary<string, string?> environment)
    {
        var options = ParseLocation(location, environment);
        _configure?.Invoke(options);
        return new S3Backend(options, _loggerFactory?.CreateLogger<S3Backend>());
    }

    /// <summary>Turns the part of a location after <c>s3:</c>, and the environment, into options.</summary>
    /// <exception cref="ArgumentException">The location names no bucket.</exception>
    public static S3BackendOptions ParseLocation(string location, IReadOnlyDictionary<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(environment);
        var options = new S3BackendOptions();
        string path;
        if (location.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || location.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            var uri = new Uri(location, UriKind.Absolute);
            options.Endpoint = new Uri(uri.GetLeftPart(UriPartial.Authority));
            options.ForcePathStyle = true;
            path = Uri.UnescapeDataString(uri.AbsolutePath);
        }
        else
        {
            int slash = location.IndexOf('/', StringComparison.Ordinal);
            string host = slash < 0 ? location : location[..slash];
            path = slash < 0 ? string.Empty : location[slash..];
            if (!IsAmazonHost(host))
            {
                options.Endpoint = new Uri("https://" + host);
                options.ForcePathStyle = true;
            }
        }

        string trimmed = path.TrimStart('/');
        int bucketEnd = trimmed.IndexOf('/', StringComparison.Ordinal);
        options.Bucket = bucketEnd < 0 ? trimmed : trimmed[..bucketEnd];
        options.Prefix = bucketEnd < 0 ? string.Empty : trimmed[(bucketEnd + 1)..].Trim('/');
        if (options.Bucket.Length == 0)
        {
            throw new ArgumentException("An s3: location needs a bucket: s3:https://host/bucket/prefix or s3:s3.amazonaws.com/bucket/prefix.");
        }

        options.AccessKeyId = Get(environment, "AWS_ACCESS_KEY_ID");
        options.SecretAccessKey = Get(environment, "AWS_SECRET_ACCESS_KEY");
        options.SessionToken = Get(environment, "AWS_SESSION_TOKEN");
        options.Region = Get(environment, "AWS_DEFAULT_REGION") ?? Get(environment, "AWS_REGION");
        options.CaCertificateFile = Get(environment, "RESTIC_CACERT");
        if (Get(environment, "KUBEBACKUP_S3_CHUNK_ENCODING") is { } chunked && bool.TryParse(chunked, out bool useChunked))
        {
            options.UseChunkEncoding = useChunked;
        }

        return options;
    }

    private static bool IsAmazonHost(string host) =>
        host.Equals("s3.amazonaws.com", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".amazonaws.com", StringComparison.OrdinalIgnoreCase);

    private static string? Get(IReadOnlyDictionary<string, string?> environment, string name) =>
        environment.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value) ? value : null;
}
