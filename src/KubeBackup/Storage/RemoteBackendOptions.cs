using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using KubeBackup.Storage.Resilience;

namespace KubeBackup.Storage;

/// <summary>
/// Settings every remote backend shares: where in the bucket the repository lives, how many connections it uses,
/// how it retries, which certificate authority it trusts. Provider packages derive their options from it.
/// </summary>
/// <remarks>Derived types hold credentials; their <see cref="object.ToString"/> never shows them.</remarks>
public abstract class RemoteBackendOptions
{
    /// <summary>The folder inside the bucket or container that holds the repository; empty for its root.</summary>
    public string Prefix { get; set; } = string.Empty;

    /// <summary>How many calls the backend makes at once (restic's <c>connections</c> option). Default 5.</summary>
    public int MaxConcurrency { get; set; } = 5;

    /// <summary>Whether the store lists every saved object at once, to every client (see
    /// <see cref="IBackend.ListsSavedFilesAtOnce"/>): taking a lock then skips restic's 200 ms pause. Off by default,
    /// as restic assumes nothing; turn it on only for a store that documents strong list-after-write consistency
    /// (Amazon S3 since December 2020, Azure Blob Storage, Google Cloud Storage, MinIO), never for a gateway or cache
    /// in front of one.</summary>
    public bool ListsSavedFilesAtOnce { get; set; }

    /// <summary>Retry, per-attempt timeout and circuit-breaker settings.</summary>
    public StorageResilienceOptions Resilience { get; set; } = new();

    /// <summary>A PEM file of certificate authorities to trust for TLS, in addition to the system's (restic's
    /// <c>--cacert</c>): for servers with a private or self-signed certificate.</summary>
    public string? CaCertificateFile { get; set; }

    /// <summary>Wraps the HTTP handler the backend's client sends through: a proxy, tracing, or a test's
    /// fault-injecting handler. It gets the configured handler and returns the one to use.</summary>
    public Func<HttpMessageHandler, HttpMessageHandler>? ConfigureHttpHandler { get; set; }

    /// <summary>Every invalid setting, described; empty when the options are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MaxConcurrency is < 1 or > 256)
        {
            errors.Add("MaxConcurrency must be between 1 and 256.");
        }

        if (Resilience is null)
        {
            errors.Add("Resilience must be set.");
        }
        else
        {
            Resilience.Validate(errors);
        }

        if (CaCertificateFile is { Length: > 0 } ca && !File.Exists(ca))
        {
            errors.Add($"CaCertificateFile '{ca}' does not exist.");
        }

        AddValidationErrors(errors);
        return errors;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming every invalid setting.</summary>
    public void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException($"Invalid {GetType().Name}: {string.Join(" ", errors)}");
        }
    }

    /// <summary>Adds the provider's own validation errors.</summary>
    protected abstract void AddValidationErrors(ICollection<string> errors);

    /// <summary>The object name of a repository file: the prefix, then restic's layout (<c>data/ab/ab12…</c>).</summary>
    public string ObjectName(FileHandle handle) => NormalizedPrefix + handle.RelativePath;

    /// <summary>The name prefix under which files of one type are listed (<c>prefix/data/</c>, <c>prefix/keys/</c>).</summary>
    public string ListPrefix(FileType type) => NormalizedPrefix + (FileHandle.DirectoryOf(type) is { } dir ? dir + "/" : "config");

    /// <summary>The prefix without leading or trailing slashes, followed by one slash (or empty).</summary>
    protected string NormalizedPrefix => Prefix.Trim('/') is { Length: > 0 } p ? p + "/" : string.Empty;

    /// <summary>
    /// Creates the HTTP handler remote clients send through: pooled connections that are recycled (so DNS changes are
    /// seen), the extra certificate authorities of <see cref="CaCertificateFile"/>, then <see cref="ConfigureHttpHandler"/>.
    /// </summary>
    public HttpMessageHandler CreateHttpMessageHandler()
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = TimeSpan.FromSeconds(30),
            // Each call is bounded by the backend's own semaphore; leave headroom for streams still being read.
            MaxConnectionsPerServer = Math.Max(MaxConcurrency * 2, 8),
            AutomaticDecompression = System.Net.DecompressionMethods.None,
        };
        if (CaCertificateFile is { Length: > 0 } caFile)
        {
            var authorities = new X509Certificate2Collection();
            authorities.ImportFromPemFile(caFile);
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(certificate, errors, authorities),
            };
        }

        return ConfigureHttpHandler?.Invoke(handler) ?? handler;
    }

    private static bool IsTrusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection authorities)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        // A wrong host name or a missing certificate is never excused; only an unknown issuer may be one of ours.
        if (certificate is null || errors != SslPolicyErrors.RemoteCertificateChainErrors)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}
