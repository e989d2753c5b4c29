using KubeBackup.Storage.Tests.Fixtures;
using KubeBackup.Storage.Tests.Support;
using KubeBackup.Testing;

namespace KubeBackup.Storage.Tests.CrossTool;

/// <summary>
/// The real restic and KubeBackup share repositories on a remote server: restic checks (with --read-data) and
/// restores what we wrote, and we restore what restic wrote. Over REST and S3, the two remote protocols restic 0.14
/// can reach here.
/// </summary>
public abstract class CrossToolTests<TServer>(TServer server)
    where TServer : StorageServer
{
    protected TServer Server => server;

    protected abstract Task<ResticCli> ResticAsync(string prefix);

    [Fact]
    public async Task Restic_checks_and_restores_a_repository_we_wrote()
    {
        using var dir = new TempDirectory("xtool-ours-" + server.Name);
        var source = dir.Combine("src");
        SimpleTree.Create(source, seed: 41, bigFileBytes: 9 * 1024 * 1024, smallFiles: 30);
        var expected = SimpleTree.Describe(source);
        string prefix = "ours-" + Guid.NewGuid().ToString("N")[..12];
        await using (var backend = server.CreateBackend(prefix))
        await using (var repo = await Support.Engine.InitAsync(backend))
        {
            await Support.Engine.BackupAsync(repo, source);
            Support.Engine.Modify(source, seed: 42);
            await Support.Engine.BackupAsync(repo, source);
        }

        var restic = await ResticAsync(prefix);
        var check = await restic.RunAsync("check", "--read-data");
        Assert.True(check.ExitCode == 0, check.StandardOutput + check.StandardError);
        var target = dir.Combine("restored");
        await restic.RunCheckedAsync("restore", "latest", "--target", target);
        Assert.Equal(SimpleTree.Describe(source), SimpleTree.Describe(target + source));
        Assert.NotEqual(expected, SimpleTree.Describe(source));
    }

    [Fact]
    public async Task We_restore_a_repository_restic_wrote()
    {
        using var dir = new TempDirectory("xtool-theirs-" + server.Name);
        var source = dir.Combine("src");
        SimpleTree.Create(source, seed: 51, bigFileBytes: 9 * 1024 * 1024, smallFiles: 30);
        var expected = SimpleTree.Describe(source);
        string prefix = "theirs-" + Guid.NewGuid().ToString("N")[..12];
        var restic = await ResticAsync(prefix);
        await restic.RunCheckedAsync("init");
        await restic.RunCheckedAsync("backup", source);

        await using var backend = server.CreateBackend(prefix);
        await using var repo = await Support.Engine.OpenAsync(backend);
        var snapshot = Assert.Single(await repo.ListSnapshotsAsync());
        await Support.Engine.RestoreAndCompareAsync(repo, snapshot, source, expected, dir.Combine("out"));
    }
}

[Collection("rest")]
public sealed class RestCrossToolTests(RestServer fixture) : CrossToolTests<RestServer>(fixture)
{
    protected override Task<ResticCli> ResticAsync(string prefix) => Task.FromResult(ResticFor.Rest(Server, prefix));

    [Fact]
    public async Task Tls_with_a_private_certificate_authority_works_and_an_untrusted_one_is_refused()
    {
        int port = await Server.EnsureHttpsAsync();
        var options = Server.Options("tls-" + Guid.NewGuid().ToString("N")[..12]);
        options.Url = new Uri($"https://127.0.0.1:{port}/{options.Url!.AbsolutePath.Trim('/')}/");
        options.Resilience.MaxRetryAttempts = 1;

        await using (var untrusted = new Rest.RestBackend(options))
        {
            var ex = await Assert.ThrowsAnyAsync<StorageException>(() => untrusted.CreateAsync());
            Assert.IsNotType<StorageFileNotFoundException>(ex);
        }

        options.CaCertificateFile = Server.CertificateFile;
        await using var trusted = new Rest.RestBackend(options);
        await trusted.CreateAsync();
        await trusted.SaveAsync(new FileHandle(FileType.Key, new string('b', 64)), new MemoryStream([1, 2, 3]));
        Assert.Equal(3, (await trusted.StatAsync(new FileHandle(FileType.Key, new string('b', 64)))).Size);
    }
}

[Collection("s3")]
public sealed class S3CrossToolTests(S3Server fixture) : CrossToolTests<S3Server>(fixture)
{
    protected override async Task<ResticCli> ResticAsync(string prefix) => ResticFor.S3(Server, await Server.EnsureHttpsAsync(), prefix);
}
