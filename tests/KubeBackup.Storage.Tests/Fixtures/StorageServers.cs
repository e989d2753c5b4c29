using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using KubeBackup.Storage.Azure;
using KubeBackup.Storage.Gcs;
using KubeBackup.Storage.Local;
using KubeBackup.Storage.Resilience;
using KubeBackup.Storage.Rest;
using KubeBackup.Storage.S3;
using KubeBackup.Testing;

namespace KubeBackup.Storage.Tests.Fixtures;

/// <summary>A storage service for the tests and a way to make backends on it, each at its own prefix.</summary>
public abstract class StorageServer : IAsyncLifetime
{
    protected StorageServer(string name)
    {
        Name = name;
        Root = new TempDirectory("server-" + name);
    }

    public string Name { get; }

    protected TempDirectory Root { get; }

    /// <summary>Retries tuned for tests: quick backoff, so a test with injected faults stays fast.</summary>
    public static StorageResilienceOptions FastResilience() => new()
    {
        MaxRetryAttempts = 8,
        BaseDelay = TimeSpan.FromMilliseconds(10),
        MaxDelay = TimeSpan.FromMilliseconds(200),
        AttemptTimeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>A backend on this server under <paramref name="prefix"/> (a bucket folder, or a repository path).</summary>
    public abstract IBackend CreateBackend(string prefix, Action<RemoteBackendOptions>? configure = null);

    public abstract Task InitializeAsync();

    public virtual Task DisposeAsync()
    {
        Root.Dispose();
        return Task.CompletedTask;
    }

    public override string ToString() => Name;
}

/// <summary>The local file system: the reference the remote providers are held to.</summary>
public sealed class LocalServer() : StorageServer("local")
{
    public override IBackend CreateBackend(string prefix, Action<RemoteBackendOptions>? configure = null) =>
        new LocalBackend(new LocalBackendOptions { Path = Root.Combine(prefix), Durable = false });

    public override Task InitializeAsync() => Task.CompletedTask;
}

/// <summary>A server run as a process.</summary>
public abstract class ProcessServer(string name) : StorageServer(name)
{
    public ServerProcess Process { get; protected set; } = null!;

    public int Port { get; } = ServerProcess.FreePort();

    public override Task InitializeAsync() => Process.StartAsync();

    public override async Task DisposeAsync()
    {
        await Process.StopAsync();
        await base.DisposeAsync();
    }

    /// <summary>Stops the server and starts it again on the same port and data (what survives depends on the server).</summary>
    public virtual async Task RestartAsync()
    {
        await Process.StopAsync();
        await Process.StartAsync();
    }
}

/// <summary>s3rver (S3), on plain http for the library; a second instance on https over the same data for the real restic.</summary>
public sealed class S3Server : ProcessServer
{
    public const string Bucket = "kb-test";
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";
    private ServerProcess? _https;

    public S3Server() : base("s3")
    {
        Process = Create("s3rver", Port, ["--configure-bucket", Bucket]);
    }

    private ServerProcess Create(string name, int port, IEnumerable<string> extra) => new(name, Root.Combine(name), "node",
        [Path.Combine(ServerProcess.ServersFolder, "node_modules", "s3rver", "bin", "s3rver.js"), "-d", Root.Combine("data"), "-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent", .. extra],
        // Without the legacy provider, listings that need a continuation token fail: s3rver builds them with DES.
        new Dictionary<string, string> { ["NODE_OPTIONS"] = "--openssl-legacy-provider" },
        ct => name == "s3rver" ? ServerProcess.HttpAnswersAsync($"http://127.0.0.1:{port}/", ct) : ServerProcess.TcpAcceptsAsync(port, ct));

    public Uri Endpoint => new($"http://127.0.0.1:{Port}");

    /// <summary>The CA file restic is given (<c>--cacert</c>) to reach the https instance.</summary>
    public string? CertificateFile { get; private set; }

    public int HttpsPort { get; private set; }

    /// <summary>Starts the https instance restic talks to (restic 0.14 cannot use s3rver over plain http).</summary>
    public async Task<int> EnsureHttpsAsync()
    {
        if (_https is null)
        {
            var (cert, key) = TestCertificates.Create(Root.Combine("tls"));
            CertificateFile = cert;
            HttpsPort = ServerProcess.FreePort();
            _https = Create("s3rver-https", HttpsPort, ["--cert", cert, "--key", key]);
            await _https.StartAsync();
        }

        return HttpsPort;
    }

    public S3BackendOptions Options(string prefix) => new()
    {
        Endpoint = Endpoint,
        Bucket = Bucket,
        Prefix = prefix,
        ForcePathStyle = true,
        AccessKeyId = AccessKey,
        SecretAccessKey = SecretKey,
        // s3rver stores aws-chunked framing verbatim over plain http.
        UseChunkEncoding = false,
        // Small enough that the 64 MiB conformance object goes multipart.
        MultipartThreshold = 24L * 1024 * 1024,
        MultipartPartSize = 8L * 1024 * 1024,
        Resilience = FastResilience(),
    };

    public override IBackend CreateBackend(string prefix, Action<RemoteBackendOptions>? configure = null)
    {
        var options = Options(prefix);
        configure?.Invoke(options);
        return new S3Backend(options);
    }

    public override async Task RestartAsync()
    {
        bool https = _https is not null;
        if (https)
        {
            await _https!.StopAsync();
        }

        await base.RestartAsync();
        if (https)
        {
            await _https!.StartAsync();
        }
    }

    public override async Task DisposeAsync()
    {
        if (_https is not null)
        {
            await _https.StopAsync();
        }

        await base.DisposeAsync();
    }
}

/// <summary>azurite's blob service, persisting to disk (so a restart keeps the data).</summary>
public sealed class AzureServer : ProcessServer
{
    public const string Container = "kb-test";

    // The published development-storage key of azurite's well-known account: not a secret.
    public const string DevAccount = "devstoreaccount1";
    public const string DevKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public AzureServer() : base("azure")
    {
        Process = new ServerProcess("azurite", Root.Combine("azurite"), "node",
            [Path.Combine(ServerProcess.ServersFolder, "node_modules", "azurite", "dist", "src", "blob", "main.js"),
             "--blobHost", "127.0.0.1", "--blobPort", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--location", Root.Combine("data"), "--skipApiVersionCheck", "--disableTelemetry", "--silent"],
            new Dictionary<string, string>(),
            ct => ServerProcess.TcpAcceptsAsync(Port, ct));
    }

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={DevAccount};AccountKey={DevKey};BlobEndpoint=http://127.0.0.1:{Port}/{DevAccount};";

    public AzureBackendOptions Options(string prefix) => new()
    {
        ConnectionString = ConnectionString,
        Container = Container,
        Prefix = prefix,
        // Small enough that the 64 MiB conformance object is staged in blocks.
        BlockUploadThreshold = 24L * 1024 * 1024,
        BlockSize = 8L * 1024 * 1024,
        Resilience = FastResilience(),
    };

    public override IBackend CreateBackend(string prefix, Action<RemoteBackendOptions>? configure = null)
    {
        var options = Options(prefix);
        configure?.Invoke(options);
        return new AzureBackend(options);
    }
}

/// <summary>The firebase-tools storage emulator, started by servers/gcs-emulator.js (in memory: a restart loses data).</summary>
public sealed class GcsServer : ProcessServer
{
    public const string Bucket = "kb-test";

    public GcsServer() : base("gcs")
    {
        Process = new ServerProcess("gcs-emulator", Root.Combine("gcs"), "node",
            [Path.Combine(ServerProcess.ServersFolder, "gcs-emulator.js"), "127.0.0.1", Port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            new Dictionary<string, string>(),
            ct => ServerProcess.HttpAnswersAsync($"http://127.0.0.1:{Port}/b", ct));
    }

    public GcsBackendOptions Options(string prefix)
    {
        var options = new GcsBackendOptions { Bucket = Bucket, Prefix = prefix, Resilience = FastResilience() };
        GcsBackendProvider.ApplyEmulator(options, $"127.0.0.1:{Port}");
        return options;
    }

    public override IBackend CreateBackend(string prefix, Action<RemoteBackendOptions>? configure = null)
    {
        var options = Options(prefix);
        configure?.Invoke(options);
        return new GcsBackend(options);
    }
}

/// <summary>rclone serve restic, with basic auth; an https instance over the same data on demand.</summary>
public sealed class RestServer : ProcessServer
{
    public const string User = "kb";
    public const string Password = "rest-secret-7fd2";
    private ServerProcess? _https;

    public RestServer() : base("rest")
    {
        Process = Create("rclone", Port, []);
    }

    private ServerProcess Create(string name, int port, IEnumerable<string> extra) => new(name, Root.Combine(name), "rclone",
        ["serve", "restic", "--addr", $"127.0.0.1:{port}", "--user", User, "--pass", Password, .. extra, Root.Combine("data")],
        new Dictionary<string, string> { ["RCLONE_CONFIG"] = Root.Combine(name, "rclone.conf") },
        ct => ServerProcess.TcpAcceptsAsync(port, ct));

    public Uri UrlOf(string prefix) => new($"http://127.0.0.1:{Port}/{prefix}/");

    public string? CertificateFile { get; private set; }

    public int HttpsPort { get; private set; }

    public async Task<int> EnsureHttpsAsync()
    {
        if (_https is null)
        {
            var (cert, key) = TestCertificates.Create(Root.Combine("tls"));
            CertificateFile = cert;
            HttpsPort = ServerProcess.FreePort();
            _https = Create("rclone-https", HttpsPort, ["--cert", cert, "--key", key]);
            await _https.StartAsync();
        }

        return HttpsPort;
    }

    public RestBackendOptions Options(string prefix) => new()
    {
        Url = UrlOf(prefix),
        Username = User,
        Password = Password,
        Resilience = FastResilience(),
    };

    public override IBackend CreateBackend(string prefix, Action<RemoteBackendOptions>? configure = null)
    {
        var options = Options(prefix);
        configure?.Invoke(options);
        return new RestBackend(options);
    }

    public override async Task DisposeAsync()
    {
        if (_https is not null)
        {
            await _https.StopAsync();
        }

        await base.DisposeAsync();
    }
}

/// <summary>A self-signed certificate for 127.0.0.1, as PEM files.</summary>
public static class TestCertificates
{
    public static (string CertificateFile, string KeyFile) Create(string directory)
    {
        Directory.CreateDirectory(directory);
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.KeyCertSign, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        string certFile = Path.Combine(directory, "cert.pem");
        string keyFile = Path.Combine(directory, "key.pem");
        File.WriteAllText(certFile, cert.ExportCertificatePem());
        File.WriteAllText(keyFile, rsa.ExportPkcs8PrivateKeyPem());
        return (certFile, keyFile);
    }
}

[CollectionDefinition("local")]
public sealed class LocalCollection : ICollectionFixture<LocalServer>;

[CollectionDefinition("s3")]
public sealed class S3Collection : ICollectionFixture<S3Server>;

[CollectionDefinition("azure")]
public sealed class AzureCollection : ICollectionFixture<AzureServer>;

[CollectionDefinition("gcs")]
public sealed class GcsCollection : ICollectionFixture<GcsServer>;

[CollectionDefinition("rest")]
public sealed class RestCollection : ICollectionFixture<RestServer>;
