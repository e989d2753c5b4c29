using System.Buffers;
using KubeBackup.Restic.Archiver;
using KubeBackup.Restic.Checker;
using KubeBackup.Restic.Json;
using KubeBackup.Restic.Locking;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Repository;
using KubeBackup.Restic.Restorer;
using KubeBackup.Storage;
using KubeBackup.Storage.Local;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Restic.Locking;

/// <summary>
/// Shared locks confirm in the background (restic's 200 ms pause and second look run while the work starts). These
/// tests stage the race the second look exists for: an exclusive locker (a prune on another machine) checks the
/// repository before our lock file exists and writes its own while ours is being written, so our first look saw
/// nothing. The work must then fail with <see cref="RepositoryLockedException"/> and commit nothing.
/// </summary>
public class DeferredLockTests
{
    [Fact]
    public async Task Background_confirmation_without_a_conflict_completes_and_keeps_the_lock()
    {
        using var dir = new TempDirectory();
        await using var repo = await TestRepository.InitAsync(dir.Combine("repo"));
        await using (var held = await RepositoryLock.AcquireSharedAsync(repo))
        {
            await held.ConfirmAsync();
            Assert.False(held.LostToken.IsCancellationRequested);
            Assert.Equal(held.Id, Assert.Single(await RepositoryLock.ListAsync(repo)).Id);
        }

        Assert.Empty(await RepositoryLock.ListAsync(repo));
    }

    [Theory]
    [InlineData(false)] // restic's 200 ms pause before the second look
    [InlineData(true)]  // a backend that lists every saved file at once: the second look follows at once
    public async Task An_exclusive_lock_written_during_ours_is_found_by_the_second_look(bool listsAtOnce)
    {
        using var dir = new TempDirectory();
        var repoPath = dir.Combine("repo");
        await (await TestRepository.InitAsync(repoPath)).DisposeAsync();
        await using var repo = await OpenRacedAsync(repoPath, listsAtOnce: listsAtOnce);

        await using var held = await RepositoryLock.AcquireSharedAsync(repo);
        var ex = await Assert.ThrowsAsync<RepositoryLockedException>(() => held.ConfirmAsync());
        Assert.True(ex.Exclusive);
        Assert.True(held.LostToken.IsCancellationRequested);
    }

    [Fact]
    public async Task A_backup_that_loses_the_race_fails_and_saves_no_snapshot()
    {
        using var dir = new TempDirectory();
        var source = SourceWithOneFile(dir);
        var repoPath = dir.Combine("repo");
        await (await TestRepository.InitAsync(repoPath)).DisposeAsync();
        await using var repo = await OpenRacedAsync(repoPath);
        var options = new BackupOptions();
        options.Paths.Add(source);

        await Assert.ThrowsAsync<RepositoryLockedException>(() => repo.BackupAsync(options, null, CancellationToken.None));
        Assert.Empty(await repo.ListSnapshotsAsync());
        // Packs may have been uploaded (the winner's prune removes them as leftovers), but no index may name them.
        Assert.Empty(Directory.GetFiles(Path.Combine(repoPath, "index")));
        Assert.Single(await RepositoryLock.ListAsync(repo)); // only the other side's lock is left
    }

    [Fact]
    public async Task A_restore_or_check_that_loses_the_race_fails_instead_of_reporting()
    {
        using var dir = new TempDirectory();
        var source = SourceWithOneFile(dir);
        var repoPath = dir.Combine("repo");
        Snapshot snapshot;
        await using (var plain = await TestRepository.InitAsync(repoPath))
        {
            var options = new BackupOptions();
            options.Paths.Add(source);
            snapshot = (await plain.BackupAsync(options, null, CancellationToken.None)).Snapshot;
        }

        await using (var repo = await OpenRacedAsync(repoPath))
        {
            await Assert.ThrowsAsync<RepositoryLockedException>(() =>
                repo.RestoreAsync(snapshot, new RestoreOptions { Target = dir.Combine("out") }, null, CancellationToken.None));
        }

        await using (var repo = await OpenRacedAsync(repoPath))
        {
            await Assert.ThrowsAsync<RepositoryLockedException>(() => repo.CheckAsync(new CheckOptions(), null, CancellationToken.None));
        }
    }

    [Fact]
    public async Task A_prune_that_loses_the_race_to_a_backup_deletes_nothing()
    {
        using var dir = new TempDirectory();
        var repoPath = dir.Combine("repo");
        await using (var plain = await TestRepository.InitAsync(repoPath))
        {
            await BackUpThreeVersionsAsync(plain, dir);

            await plain.ForgetAsync(new KubeBackup.Retention.RetentionPolicy { Last = 1 });
        }

        string[] Files() => [.. Directory.GetFiles(repoPath, "*", SearchOption.AllDirectories).Where(f => !f.Contains("/locks/")).Order()];
        var before = Files();
        await using (var repo = await OpenRacedAsync(repoPath, otherExclusive: false))
        {
            await Assert.ThrowsAsync<RepositoryLockedException>(() => repo.PruneAsync());
        }

        Assert.Equal(before, Files());
        var check = await new ResticCli(repoPath, TestRepository.Password).RunAsync("check", "--no-lock");
        Assert.True(check.ExitCode == 0, check.StandardOutput + check.StandardError);
    }

    [Fact]
    public async Task Forget_and_prune_run_under_an_exclusive_lock_their_repository_object_holds()
    {
        using var dir = new TempDirectory();
        var repoPath = dir.Combine("repo");
        await using var repo = await TestRepository.InitAsync(repoPath);
        await BackUpThreeVersionsAsync(repo, dir);

        await using (var held = await RepositoryLock.AcquireAsync(repo, exclusive: true))
        {
            var forgotten = await repo.ForgetAsync(new KubeBackup.Retention.RetentionPolicy { Last = 1 });
            Assert.Equal(2, forgotten.Removed.Count);
            var pruned = await repo.PruneAsync();
            Assert.True(pruned.BytesFreed > 0);
            Assert.Equal(held.Id, Assert.Single(await RepositoryLock.ListAsync(repo)).Id);

            // Another repository object (another process, in effect) is still kept out.
            await using var other = await TestRepository.OpenAsync(repoPath);
            await Assert.ThrowsAsync<RepositoryLockedException>(() => other.PruneAsync());
        }

        Assert.Empty(await RepositoryLock.ListAsync(repo));
        var check = await new ResticCli(repoPath, TestRepository.Password).RunAsync("check", "--read-data");
        Assert.True(check.ExitCode == 0, check.StandardOutput + check.StandardError);
    }

    private static string SourceWithOneFile(TempDirectory dir)
    {
        var source = dir.Combine("src");
        Directory.CreateDirectory(source);
        File.WriteAllBytes(Path.Combine(source, "a"), new byte[100_000]);
        return source;
    }

    /// <summary>Three snapshots, each adding a file of new random content, so forgetting two leaves prune work.</summary>
    private static async Task BackUpThreeVersionsAsync(ResticRepository repo, TempDirectory dir)
    {
        var source = dir.Combine("src");
        Directory.CreateDirectory(source);
        var options = new BackupOptions();
        options.Paths.Add(source);
        for (int i = 0; i < 3; i++)
        {
            File.WriteAllBytes(Path.Combine(source, $"f{i}"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(200_000));
            await repo.BackupAsync(options, null, CancellationToken.None);
        }
    }

    /// <summary>Opens the repository through a backend that, while our first lock file is being saved, saves an
    /// exclusive lock of another host: what a prune elsewhere does when both look at the same moment.</summary>
    private static async Task<ResticRepository> OpenRacedAsync(string repoPath, bool otherExclusive = true, bool listsAtOnce = false)
    {
        var backend = new HookBackend(new LocalBackend(repoPath)) { ListsAtOnce = listsAtOnce };
        ResticRepository? repo = null;
        int raced = 0;
        backend.BeforeSave = async handle =>
        {
            if (handle.Type == FileType.Lock && Interlocked.Exchange(ref raced, 1) == 0)
            {
                var other = new LockDocument
                {
                    Time = GoTime.Now(),
                    Exclusive = otherExclusive,
                    Hostname = "elsewhere",
                    Username = "other",
                    Pid = 1,
                };
                var json = new ArrayBufferWriter<byte>();
                ResticJson.WriteLock(other, json);
                await repo!.SaveJsonFileAsync(FileType.Lock, json.WrittenMemory, CancellationToken.None);
            }
        };
        repo = await ResticRepository.OpenAsync(backend, TestRepository.Password, TestRepository.Options());
        return repo;
    }
}
