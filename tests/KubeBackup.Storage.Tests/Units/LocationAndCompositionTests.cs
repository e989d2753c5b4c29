using KubeBackup.DependencyInjection;
using KubeBackup.Storage.Azure;
using KubeBackup.Storage.Gcs;
using KubeBackup.Storage.Resilience;
using KubeBackup.Storage.Rest;
using KubeBackup.Storage.S3;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Testing;
using Polly.Timeout;

namespace KubeBackup.Storage.Tests.Units;

/// <summary>Locations as restic writes them, the registry and DI composition, and the shared resilience pipeline.</summary>
public class LocationAndCompositionTests
{
    private static readonly Dictionary<string, string?> NoEnvironment = new();

    [Fact]
    public void S3_locations_parse_as_restic_writes_them()
    {
        var custom = S3BackendProvider.ParseLocation("https://minio.local:9000/backups/team/a", new Dictionary<string, string?>
        {
            ["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE",
            ["AWS_SECRET_ACCESS_KEY"] = "s3-secret-value",
            ["AWS_DEFAULT_REGION"] = "eu-west-1",
        });
        Assert.Equal(new Uri("https://minio.local:9000"), custom.Endpoint);
        Assert.Equal("backups", custom.Bucket);
        Assert.Equal("team/a", custom.Prefix);
        Assert.True(custom.ForcePathStyle);
        Assert.Equal("eu-west-1", custom.Region);
        Assert.DoesNotContain("s3-secret-value", custom.ToString(), StringComparison.Ordinal);

        var aws = S3BackendProvider.ParseLocation("s3.amazonaws.com/bucket", NoEnvironment);
        Assert.Null(aws.Endpoint);
        Assert.Equal("bucket", aws.Bucket);
        Assert.Equal(string.Empty, aws.Prefix);
        Assert.False(aws.ForcePathStyle);
        Assert.Throws<ArgumentException>(() => S3BackendProvider.ParseLocation("https://host/", NoEnvironment));
    }

    [Fact]
    public void Azure_gs_and_rest_locations_parse_as_restic_writes_them()
    {
        var azure = AzureBackendProvider.ParseLocation("container:/some/prefix", new Dictionary<string, string?>
        {
            ["AZURE_ACCOUNT_NAME"] = "acct",
            ["AZURE_ACCOUNT_KEY"] = "YXp1cmUta2V5LXNlY3JldA==",
            ["AZURE_STORAGE_CONNECTION_STRING"] = "UseDevelopmentStorage=true",
        });
        Assert.Equal(("container", "some/prefix", "acct"), (azure.Container, azure.Prefix, azure.AccountName));
        Assert.Null(azure.ConnectionString);
        Assert.DoesNotContain("YXp1cmUta2V5LXNlY3JldA==", azure.ToString(), StringComparison.Ordinal);

        var gs = GcsBackendProvider.ParseLocation("bucket:/p", new Dictionary<string, string?> { ["STORAGE_EMULATOR_HOST"] = "127.0.0.1:9199" });
        Assert.Equal(("bucket", "p"), (gs.Bucket, gs.Prefix));
        Assert.Equal(new Uri("http://127.0.0.1:9199/storage/v1/"), gs.Endpoint);
        Assert.True(gs.UnauthenticatedAccess);
        Assert.Equal(GcsDownloadValidation.Never, gs.DownloadValidation);

        var rest = RestBackendProvider.ParseLocation("https://user:p%40ss-secret@host:8000/repo", NoEnvironment);
        Assert.DoesNotContain("ss-secret", rest.ToString(), StringComparison.Ordinal);
        var env = RestBackendProvider.ParseLocation("http://host:8000/repo/", new Dictionary<string, string?>
        {
            ["RESTIC_REST_USERNAME"] = "u",
            ["RESTIC_REST_PASSWORD"] = "pw-secret",
        });
        Assert.Equal(("u", "pw-secret"), (env.Username, env.Password));
        var ex = Assert.Throws<ArgumentException>(() => RestBackendProvider.ParseLocation("ftp://user:pw-secret@host/", NoEnvironment));
        Assert.DoesNotContain("pw-secret", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_registry_resolves_every_scheme_and_locations_hide_credentials()
    {
        var registry = new BackendRegistry()
            .Register(new S3BackendProvider())
            .Register(new AzureBackendProvider())
            .Register(new GcsBackendProvider())
            .Register(new RestBackendProvider());
        var environment = new Dictionary<string, string?>
        {
            ["AWS_ACCESS_KEY_ID"] = "AKID",
            ["AWS_SECRET_ACCESS_KEY"] = "aws-secret-value",
            ["AZURE_ACCOUNT_NAME"] = "acct",
            ["AZURE_ACCOUNT_KEY"] = "YXp1cmUta2V5LXNlY3JldA==",
            ["STORAGE_EMULATOR_HOST"] = "127.0.0.1:9",
        };

        await using var s3 = registry.Create("s3:https://127.0.0.1:9000/bucket/prefix", environment);
        await using var azure = registry.Create("azure:container:/prefix", environment);
        await using var gs = registry.Create("gs:bucket:/prefix", environment);
        await using var rest = registry.Create("rest:https://user:rest-secret@127.0.0.1:8000/repo/", environment);
        await using var local = registry.Create("/tmp/kb-some-repo", environment);

        Assert.IsType<S3Backend>(s3);
        Assert.IsType<AzureBackend>(azure);
        Assert.IsType<GcsBackend>(gs);
        Assert.IsType<RestBackend>(rest);
        Assert.IsType<Local.LocalBackend>(local);
        Assert.Equal("rest:https://127.0.0.1:8000/repo/", rest.Location);
        foreach (var backend in new[] { s3, azure, gs, rest })
        {
            Assert.DoesNotContain("secret", backend.Location + backend, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("YXp1cmUta2V5", backend.Location + backend, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Di_validates_options_at_start_and_composes_backends_and_the_registry()
    {
        var bad = new ServiceCollection();
        bad.AddKubeBackup().AddS3Storage(o => o.Bucket = "");
        await using (var provider = bad.BuildServiceProvider())
        {
            var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
            Assert.Contains("Bucket is required", ex.Message, StringComparison.Ordinal);
        }

        var good = new ServiceCollection();
        good.AddLogging();
        good.AddKubeBackup()
            .AddRestStorage(o => o.Url = new Uri("http://127.0.0.1:1/repo/"))
            .AddS3Storage("offsite", o =>
            {
                o.Bucket = "b";
                o.Endpoint = new Uri("http://127.0.0.1:1");
                o.AccessKeyId = "a";
                o.SecretAccessKey = "s";
            });
        await using (var provider = good.BuildServiceProvider())
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
            Assert.IsType<RestBackend>(provider.GetRequiredService<IBackend>());
            Assert.IsType<S3Backend>(provider.GetRequiredKeyedService<IBackend>("offsite"));
            var registry = provider.GetRequiredService<BackendRegistry>();
            Assert.Contains("s3", registry.Schemes);
            Assert.Contains("rest", registry.Schemes);
        }
    }

    [Fact]
    public void The_pipeline_is_retry_then_circuit_breaker_then_per_attempt_timeout()
    {
        using var pipeline = new StorageResiliencePipeline("test", 4, new StorageResilienceOptions());
        var descriptor = pipeline.Pipeline.GetPipelineDescriptor();
        Assert.Collection(descriptor.Strategies,
            s => Assert.IsType<RetryStrategyOptions>(s.Options),
            s => Assert.IsType<CircuitBreakerStrategyOptions>(s.Options),
            s => Assert.IsType<TimeoutStrategyOptions>(s.Options));
    }

    [Fact]
    public async Task Transient_failures_are_retried_and_missing_or_refused_are_not()
    {
        using var pipeline = new StorageResiliencePipeline("test", 4, new StorageResilienceOptions { MaxRetryAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5), CircuitBreakerEnabled = false });
        int attempts = 0;
        await Assert.ThrowsAsync<TransientStorageException>(async () => await pipeline.ExecuteAsync<int>("op", _ =>
        {
            attempts++;
            throw new TransientStorageException("503");
        }, CancellationToken.None));
        Assert.Equal(4, attempts);

        foreach (StorageException final in new StorageException[] { new StorageFileNotFoundException(FileHandle.Config), new StorageAuthenticationException("401"), new StorageException("400") })
        {
            attempts = 0;
            var thrown = await Assert.ThrowsAnyAsync<StorageException>(async () => await pipeline.ExecuteAsync<int>("op", _ =>
            {
                attempts++;
                throw final;
            }, CancellationToken.None));
            Assert.Same(final, thrown);
            Assert.Equal(1, attempts);
        }

        attempts = 0;
        Assert.Equal(7, await pipeline.ExecuteAsync("op", _ => ++attempts < 3 ? throw new TransientStorageException("reset") : ValueTask.FromResult(7), CancellationToken.None));
    }

    [Fact]
    public async Task A_retried_save_sends_the_same_bytes_from_the_callers_position()
    {
        using var pipeline = new StorageResiliencePipeline("test", 4, new StorageResilienceOptions { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5) });
        var content = new MemoryStream([9, 9, 1, 2, 3, 4, 5]) { Position = 2 };
        var sent = new List<byte[]>();
        await pipeline.SaveAsync("save", content, async (view, length, ct) =>
        {
            var ms = new MemoryStream();
            await view.CopyToAsync(ms, ct);
            view.Dispose();
            sent.Add(ms.ToArray());
            Assert.Equal(5, length);
            if (sent.Count < 3)
            {
                throw new TransientStorageException("connection reset");
            }
        }, CancellationToken.None);

        Assert.Equal(3, sent.Count);
        Assert.All(sent, s => Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, s));
        Assert.True(content.CanRead, "the caller's stream must stay open");
    }

    [Fact]
    public async Task An_open_circuit_fails_fast_with_a_typed_error()
    {
        using var pipeline = new StorageResiliencePipeline("test", 4, new StorageResilienceOptions
        {
            MaxRetryAttempts = 0,
            CircuitBreakerMinimumThroughput = 2,
            CircuitBreakerFailureRatio = 0.5,
        });
        for (int i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<TransientStorageException>(async () => await pipeline.ExecuteAsync<int>("op", _ => throw new TransientStorageException("503"), CancellationToken.None));
        }

        int calls = 0;
        var ex = await Assert.ThrowsAsync<TransientStorageException>(async () => await pipeline.ExecuteAsync("op", _ => ValueTask.FromResult(++calls), CancellationToken.None));
        Assert.Equal(0, calls);
        Assert.IsType<BrokenCircuitException>(ex.InnerException);
    }
}
