using System.Net;
using KubeBackup.Restic.Repository;
using KubeBackup.Storage.Azure;
using KubeBackup.Storage.Gcs;
using KubeBackup.Storage.Rest;
using KubeBackup.Storage.S3;
using KubeBackup.Storage.Tests.Fixtures;
using KubeBackup.Storage.Tests.Support;
using KubeBackup.Testing;
using Polly;
using Polly.Simmy;

namespace KubeBackup.Storage.Tests.Faults;

/// <summary>
/// Failure on every provider: injected transient faults and latency are absorbed by the retries; refused credentials
/// fail once, at once, with a StorageAuthenticationException; a server stopped in the middle of a backup fails the
/// backup with a typed StorageException, writes no snapshot, and leaves a repository that is still good.
/// </summary>
public abstract class FaultTests<TServer>(TServer server)
    where TServer : ProcessServer, new()
{
    /// <summary>The secret the wrong-credentials backend carries, which must not leak into messages.</summary>
    protected const string WrongSecret = "wrong-secret-5d1b9c";

    /// <summary>The shared server of the collection.</summary>
    protected TServer Server => server;

    [Fact]
    public async Task Backup_and_restore_complete_with_ten_percent_transient_failures_and_latency()
    {
        using var dir = new TempDirectory("chaos-" + server.Name);
        var source = dir.Combine("src");
        SimpleTree.Create(source, seed: 21, bigFileBytes: 9 * 1024 * 1024, smallFiles: 40);
        var expected = SimpleTree.Describe(source);
        FaultInjectingHandler? handler = null;
        int chaosLatencies = 0, chaosCalls = 0;
        await using var backend = server.CreateBackend("chaos-" + Guid.NewGuid().ToString("N")[..12], options =>
        {
            options.ConfigureHttpHandler = inner => handler = FaultInjectingHandler.Chaos(inner, failureRate: 0.10, maxLatency: TimeSpan.FromMilliseconds(15));
            // And Polly's own chaos strategy adds latency to a tenth of the calls, inside the per-attempt timeout: every
            // tenth call from the first, not at random, since a restore now makes few enough calls (small files are
            // read a pack range at a time) that a random tenth could miss all of them.
            options.Resilience.ConfigurePipeline = pipeline => pipeline.AddChaosLatency(new Polly.Simmy.Latency.ChaosLatencyStrategyOptions
            {
                InjectionRate = 0.1,
                Randomizer = () => Interlocked.Increment(ref chaosCalls) % 10 == 1 ? 0.0 : 0.99,
                Latency = TimeSpan.FromMilliseconds(30),
                OnLatencyInjected = _ =>
                {
                    Interlocked.Increment(ref chaosLatencies);
                    return default;
                },
            });
        });

        await using (var repo = await Support.Engine.InitAsync(backend))
        {
            var backup = await Support.Engine.BackupAsync(repo, source);
            await Support.Engine.RestoreAndCompareAsync(repo, backup.Snapshot, source, expected, dir.Combine("out"));
            Assert.Single(await repo.ListSnapshotsAsync());
        }

        Assert.NotNull(handler);
        Assert.True(handler.Injected > 0, $"no fault was injected in {handler.Requests} requests");
        Assert.True(chaosLatencies > 0, "Polly's chaos latency never fired");
    }

    /// <summary>A backend on the server whose credentials the server refuses.</summary>
    protected abstract IBackend CreateWithWrongCredentials(string prefix, Action<RemoteBackendOptions> configure);

    [Fact]
    public async Task Wrong_credentials_give_one_authentication_error_without_retries()
    {
        FaultInjectingHandler? counter = null;
        await using var backend = CreateWithWrongCredentials("auth-" + Guid.NewGuid().ToString("N")[..12], options =>
        {
            options.ConfigureHttpHandler = inner => counter = WrapForAuthentication(inner);
            options.Resilience = StorageServer.FastResilience();
        });

        var ex = await Assert.ThrowsAsync<StorageAuthenticationException>(() => ResticRepository.OpenAsync(backend, Support.Engine.Password));

        Assert.NotNull(counter);
        Assert.Equal(1, counter.Requests);
        Assert.DoesNotContain(WrongSecret, ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(WrongSecret, backend.Location, StringComparison.Ordinal);
    }

    /// <summary>The handler of the wrong-credentials test: counts requests (and, where the server checks no
    /// credentials, refuses them itself).</summary>
    protected virtual FaultInjectingHandler WrapForAuthentication(HttpMessageHandler inner) => FaultInjectingHandler.Counting(inner);

    /// <summary>Whether "stopping" the server freezes it (SIGSTOP, then SIGCONT) instead of ending the process: for
    /// servers that would lose or damage their data if killed. To the client the outage is the same.</summary>
    protected virtual bool FreezeInsteadOfStopping => false;

    /// <summary>Stops the server so that it answers nothing.</summary>
    protected Task StopAsync(TServer stopped)
    {
        if (!FreezeInsteadOfStopping)
        {
            return stopped.Process.StopAsync();
        }

        stopped.Process.Pause();
        return Task.CompletedTask;
    }

    /// <summary>Brings the stopped server back with its data.</summary>
    protected Task StartAgainAsync(TServer stopped)
    {
        if (!FreezeInsteadOfStopping)
        {
            return stopped.Process.StartAsync();
        }

        stopped.Process.Resume();
        return Task.CompletedTask;
    }

    /// <summary>Checks the repository with the real restic where restic can reach the server; false where it cannot.</summary>
    protected virtual Task<bool> CheckWithResticAsync(TServer running, string prefix) => Task.FromResult(false);

    [Fact]
    public async Task A_server_stopped_mid_backup_fails_it_typed_writes_no_snapshot_and_the_repository_stays_good()
    {
        // A server of its own: this test stops it.
        var own = new TServer();
        await own.InitializeAsync();
        try
        {
            using var dir = new TempDirectory("stop-" + server.Name);
            var first = dir.Combine("first");
            SimpleTree.Create(first, seed: 31, bigFileBytes: 2 * 1024 * 1024, smallFiles: 10);
            var firstExpected = SimpleTree.Describe(first);
            var big = dir.Combine("big");
            SimpleTree.Create(big, seed: 32, bigFileBytes: 40 * 1024 * 1024, smallFiles: 20);
            string prefix = "stop-" + Guid.NewGuid().ToString("N")[..12];

            void Configure(RemoteBackendOptions options)
            {
                options.Resilience.MaxRetryAttempts = 3;
                options.Resilience.AttemptTimeout = TimeSpan.FromSeconds(5);
            }

            await using (var backend = own.CreateBackend(prefix, Configure))
            await using (var repo = await Support.Engine.InitAsync(backend))
            {
                await Support.Engine.BackupAsync(repo, first);
            }

            await using (var hooked = new HookBackend(own.CreateBackend(prefix, Configure)))
            await using (var repo = await Support.Engine.OpenAsync(hooked))
            {
                int packs = 0;
                hooked.AfterSave = async handle =>
                {
                    if (handle.Type == FileType.Pack && Interlocked.Increment(ref packs) == 2)
                    {
                        await StopAsync(own);
                    }
                };

                var options = new Restic.Archiver.BackupOptions();
                options.Paths.Add(big);
                var ex = await Assert.ThrowsAnyAsync<StorageException>(() => repo.BackupAsync(options));
                Assert.True(packs >= 2, $"the server was stopped after {packs} packs");
                Assert.IsNotType<StorageFileNotFoundException>(ex);
            }

            await StartAgainAsync(own);
            await using (var backend = own.CreateBackend(prefix))
            await using (var repo = await Support.Engine.OpenAsync(backend))
            {
                var snapshots = await repo.ListSnapshotsAsync();
                var only = Assert.Single(snapshots);
                Assert.Equal([first], only.Paths);
                await Support.Engine.RestoreAndCompareAsync(repo, only, first, firstExpected, dir.Combine("out"));
            }

            await CheckWithResticAsync(own, prefix);
        }
        finally
        {
            await own.DisposeAsync();
        }
    }
}

[Collection("s3")]
public sealed class S3FaultTests(S3Server fixture) : FaultTests<S3Server>(fixture)
{
    // s3rver is not crash-consistent (S3 itself never shows a half-written object): killed while it writes an object's
    // metadata file, it answers every later listing of that folder with an internal error. Frozen, it finishes what it
    // had started when let go.
    protected override bool FreezeInsteadOfStopping => true;

    protected override IBackend CreateWithWrongCredentials(string prefix, Action<RemoteBackendOptions> configure)
    {
        var options = Server.Options(prefix);
        options.AccessKeyId = "WRONGKEY";
        options.SecretAccessKey = WrongSecret;
        configure(options);
        return new S3Backend(options);
    }

    protected override async Task<bool> CheckWithResticAsync(S3Server running, string prefix)
    {
        int port = await running.EnsureHttpsAsync();
        var restic = ResticFor.S3(running, port, prefix);
        // The interrupted backup could not remove its lock (the server was down): restic would wait for it.
        await restic.RunCheckedAsync("unlock", "--remove-all");
        await restic.RunCheckedAsync("check");
        return true;
    }
}

[Collection("azure")]
public sealed class AzureFaultTests(AzureServer fixture) : FaultTests<AzureServer>(fixture)
{
    protected override IBackend CreateWithWrongCredentials(string prefix, Action<RemoteBackendOptions> configure)
    {
        var options = Server.Options(prefix);
        options.ConnectionString = null;
        options.AccountName = AzureServer.DevAccount;
        options.AccountKey = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(WrongSecret + WrongSecret));
        options.Endpoint = new Uri($"http://127.0.0.1:{Server.Port}/{AzureServer.DevAccount}");
        configure(options);
        return new AzureBackend(options);
    }

    // The base64 key is what would leak; check that too.
    [Fact]
    public async Task The_account_key_does_not_appear_in_errors_or_descriptions()
    {
        var options = Server.Options("x");
        options.ConnectionString = null;
        options.AccountName = AzureServer.DevAccount;
        options.AccountKey = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(WrongSecret + WrongSecret));
        options.Endpoint = new Uri($"http://127.0.0.1:{Server.Port}/{AzureServer.DevAccount}");
        await using var backend = new AzureBackend(options);
        var ex = await Assert.ThrowsAsync<StorageAuthenticationException>(() => backend.StatAsync(FileHandle.Config));
        Assert.DoesNotContain(options.AccountKey, ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(options.AccountKey, options.ToString(), StringComparison.Ordinal);
    }
}

[Collection("gcs")]
public sealed class GcsFaultTests(GcsServer fixture) : FaultTests<GcsServer>(fixture)
{
    protected override IBackend CreateWithWrongCredentials(string prefix, Action<RemoteBackendOptions> configure)
    {
        var options = Server.Options(prefix);
        configure(options);
        return new GcsBackend(options);
    }

    // The emulator accepts any request, so the refusal a real GCS sends for a bad token is played by the handler.
    protected override FaultInjectingHandler WrapForAuthentication(HttpMessageHandler inner) =>
        FaultInjectingHandler.AlwaysStatus(inner, HttpStatusCode.Unauthorized);

    // The emulator keeps everything in memory, so killing it would lose the repository.
    protected override bool FreezeInsteadOfStopping => true;
}

[Collection("rest")]
public sealed class RestFaultTests(RestServer fixture) : FaultTests<RestServer>(fixture)
{
    protected override IBackend CreateWithWrongCredentials(string prefix, Action<RemoteBackendOptions> configure)
    {
        var options = Server.Options(prefix);
        options.Password = WrongSecret;
        configure(options);
        return new RestBackend(options);
    }

    protected override async Task<bool> CheckWithResticAsync(RestServer running, string prefix)
    {
        var restic = ResticFor.Rest(running, prefix);
        await restic.RunCheckedAsync("unlock", "--remove-all");
        await restic.RunCheckedAsync("check");
        return true;
    }
}
