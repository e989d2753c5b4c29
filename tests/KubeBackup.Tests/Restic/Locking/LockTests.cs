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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Of_many_exclusive_lockers_starting_at_once_at_most_one_wins(bool listsAtOnce)
    {
        // Every locker looks, writes its lock, (pauses,) and looks again. The worst case is staged: no lock file is
        // written before every locker has had its first look (which so finds nothing). Where listings show saved files
        // at once, the second look needs no pause: whoever looks last sees the others' locks.
        const int lockers = 6;
        using var dir = new TempDirectory();
        var repoPath = dir.Combine("repo");
        await (await TestRepository.InitAsync(repoPath)).DisposeAsync();
        int arrived = 0;
        var allLooked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var repos = new List<KubeBackup.Restic.Repository.ResticRepository>();
        for (int i = 0; i < lockers; i++)
        {
            int firstSave = 0;
            var backend = new HookBackend(new KubeBackup.Storage.Local.LocalBackend(repoPath)) { ListsAtOnce = listsAtOnce };
            backend.BeforeSave = async handle =>
            {
                if (handle.Type == KubeBackup.Storage.FileType.Lock && Interlocked.Exchange(ref firstSave, 1) == 0)
                {
                    if (Interlocked.Increment(ref arrived) == lockers)
                    {
                        allLooked.SetResult();
                    }

                    await allLooked.Task;
                }
            };
            repos.Add(await KubeBackup.Restic.Repository.ResticRepository.OpenAsync(backend, TestRepository.Password, TestRepository.Options()));
        }

        var attempts = repos.Select(async repo =>
        {
            try
            {
                return await RepositoryLock.AcquireAsync(repo, exclusive: true);
            }
            catch (RepositoryLockedException)
            {
                return null;
            }
        }).ToArray();
        var held = (await Task.WhenAll(attempts)).OfType<RepositoryLock>().ToList();

        Assert.True(held.Count <= 1, $"{held.Count} exclusive locks were granted at once");
        foreach (var taken in held)
        {
            Assert.Equal(taken.Id, Assert.Single(await RepositoryLock.ListAsync(repos[0])).Id);
            await taken.DisposeAsync();
        }

        // Losers remove their lock files, so the repository is free again.
        Assert.Empty(await RepositoryLock.ListAsync(repos[0]));
        foreach (var repo in repos)
        {
            await repo.DisposeAsync();
        }
    }

    [Fact]
    public void Only_local_disk_and_memory_file_systems_count_as_listing_saved_files_at_once()
    {
        Assert.True(KubeBackup.Storage.Local.LocalBackend.IsLocalFileSystem(0xEF53));      // ext4
        Assert.True(KubeBackup.Storage.Local.LocalBackend.IsLocalFileSystem(0x58465342));  // XFS
        Assert.False(KubeBackup.Storage.Local.LocalBackend.IsLocalFileSystem(0x6969));     // NFS
        Assert.False(KubeBackup.Storage.Local.LocalBackend.IsLocalFileSystem(0xFE534D42)); // SMB2
        Assert.False(KubeBackup.Storage.Local.LocalBackend.IsLocalFileSystem(0x65735546)); // FUSE
        Assert.False(KubeBackup.Storage.Local.LocalBackend.IsLocalFileSystem(null));       // statfs failed

        // statfs itself: /proc is procfs everywhere on Linux, /dev/shm tmpfs wherever it is mounted.
        Assert.Equal(0x9FA0, KubeBackup.Platform.PosixFile.FileSystemType("/proc"));
        Assert.Null(KubeBackup.Platform.PosixFile.FileSystemType("/no/such/folder"));
        Assert.False(new KubeBackup.Storage.Local.LocalBackend("/proc").ListsSavedFilesAtOnce);
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
