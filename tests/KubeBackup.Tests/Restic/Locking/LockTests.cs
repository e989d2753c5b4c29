using KubeBackup.Restic.Locking;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Restic.Locking;

public class LockTests
{
    [Fact]
    public async Task Shared_locks_coexist_and_an_exclusive_lock_conflicts_with_them()
    {
        using var dir = new TempDirectory();
        await using var repo = await TestRepository.InitAsync(dir.Combine("repo"));
        await using var first = await RepositoryLock.AcquireAsync(repo, exclusive: false);
        await using (var second = await RepositoryLock.AcquireAsync(repo, exclusive: false))
        {
            Assert.Equal(2, (await RepositoryLock.ListAsync(repo)).Count);
            var ex = await Assert.ThrowsAsync<RepositoryLockedException>(() => RepositoryLock.AcquireAsync(repo, exclusive: true));
            Assert.False(ex.Exclusive);
        }

        Assert.Single(await RepositoryLock.ListAsync(repo));
    }

    [Fact]
    public async Task Restic_sees_our_exclusive_lock_and_we_see_restics()
    {
        using var dir = new TempDirectory();
        var repoPath = dir.Combine("repo");
        await using var repo = await TestRepository.InitAsync(repoPath);
        var restic = new ResticCli(repoPath, TestRepository.Password);
        await using (await RepositoryLock.AcquireAsync(repo, exclusive: true))
        {
            var blocked = await restic.RunAsync("check");
            Assert.NotEqual(0, blocked.ExitCode);
            Assert.Contains("locked", blocked.StandardError + blocked.StandardOutput, StringComparison.OrdinalIgnoreCase);
        }

        Assert.Equal(0, (await restic.RunAsync("check")).ExitCode);
    }

    [Fact]
    public async Task Lock_of_a_dead_process_on_this_host_is_stale_and_unlock_removes_it()
    {
        using var dir = new TempDirectory();
        await using var repo = await TestRepository.InitAsync(dir.Combine("repo"));
        // A lock file as a killed process would leave it: same host, a PID that no longer exists.
        using (var p = System.Diagnostics.Process.Start("true")!)
        {
            p.WaitForExit();
            var doc = new KubeBackup.Restic.Model.LockDocument
            {
                Time = KubeBackup.Restic.Model.GoTime.Now(),
                Exclusive = false,
                Hostname = repo.Options.Hostname,
                Username = "ghost",
                Pid = p.Id,
            };
            var json = new System.Buffers.ArrayBufferWriter<byte>();
            KubeBackup.Restic.Json.ResticJson.WriteLock(doc, json);
            await repo.SaveJsonFileAsync(KubeBackup.Storage.FileType.Lock, json.WrittenMemory, CancellationToken.None);
        }

        var locks = await RepositoryLock.ListAsync(repo);
        Assert.True(Assert.Single(locks).IsStale);
        var ex = await Assert.ThrowsAsync<RepositoryLockedException>(() => RepositoryLock.AcquireAsync(repo, exclusive: true));
        Assert.True(ex.Stale);

        Assert.Equal(1, await RepositoryLock.RemoveStaleLocksAsync(repo));
        await using var exclusive = await RepositoryLock.AcquireAsync(repo, exclusive: true);
        Assert.True(exclusive.IsExclusive);
    }

    [Fact]
    public async Task Refresh_replaces_the_lock_file()
    {
        using var dir = new TempDirectory();
        await using var repo = await TestRepository.InitAsync(dir.Combine("repo"));
        await using var held = await RepositoryLock.AcquireAsync(repo, exclusive: false);
        var before = held.Id;

        await held.RefreshAsync();

        var locks = await RepositoryLock.ListAsync(repo);
        Assert.Equal(held.Id, Assert.Single(locks).Id);
        Assert.NotEqual(before, held.Id);
    }
}
