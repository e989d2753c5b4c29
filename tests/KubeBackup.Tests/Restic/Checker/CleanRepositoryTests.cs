using System.Text.Json;
using KubeBackup.Restic.Checker;
using KubeBackup.Restic.Locking;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Restic.Checker;

/// <summary>Sound repositories, written by us or by restic, in both formats: both checkers find nothing.</summary>
public class CleanRepositoryTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Repository_we_wrote_is_clean_for_both_checkers(int version)
    {
        using var lab = await CheckerLab.CreateAsync(backups: 2, version: version);

        var progress = new List<CheckProgress>();
        CheckResult ours;
        await using (var repo = await lab.OpenAsync())
        {
            ours = await repo.CheckAsync(new CheckOptions { ReadData = true }, new SyncProgress<CheckProgress>(progress.Add));
        }

        var restic = await lab.ResticCheckAsync();

        CheckAssert.Agree(ours, restic);
        Assert.Empty(ours.Errors);
        Assert.Empty(ours.Hints);
        Assert.Empty(ours.AffectedPaths);
        Assert.Empty(ours.AffectedSnapshots);
        Assert.Equal("no errors were found", ours.ToString());
        Assert.Equal(2, ours.Snapshots);
        Assert.Equal(2, ours.IndexFiles);
        Assert.Equal(lab.PackIds().Count, ours.Packs);
        Assert.Equal(ours.Packs, ours.PacksRead);
        Assert.Equal(lab.PackIds().Sum(p => new FileInfo(lab.PackPath(p)).Length), ours.BytesRead);
        Assert.True(ours.Trees > 4);
        Assert.Equal(0, ours.UnusedBlobs);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(lab.RepoPath, "locks")));
        // Every stage reported, in order, ending with read-data complete.
        var phases = progress.Select(p => p.Phase).Distinct().ToList();
        Assert.Equal([CheckPhase.LoadIndex, CheckPhase.Packs, CheckPhase.Snapshots, CheckPhase.ReadData], phases);
        Assert.Equal(ours.Packs, progress.Last().Done);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Repository_restic_wrote_is_clean_for_both_checkers(int version)
    {
        using var lab = await CheckerLab.CreateWithResticAsync(version);

        var ours = await lab.CheckAsync();
        var restic = await lab.ResticCheckAsync();

        CheckAssert.Agree(ours, restic);
        Assert.True(ours.IsClean, string.Join('\n', ours.Errors));
        Assert.Equal(2, ours.Snapshots);
        Assert.Equal(ours.Packs, ours.PacksRead);
        // restic 0.14 writes format 1 trees and data into one pack when they are small; a hint at most.
        Assert.All(ours.Hints, h => Assert.Equal(CheckHintKind.MixedPack, h.Kind));
    }

    [Fact]
    public async Task Console_check_says_no_errors_were_found_and_exits_0()
    {
        using var lab = await CheckerLab.CreateAsync(backups: 1);
        var env = new Dictionary<string, string> { ["RESTIC_REPOSITORY"] = lab.RepoPath, ["RESTIC_PASSWORD"] = TestRepository.Password };

        var text = await CliRunner.RunAsync(env, "check", "--read-data");
        var json = await CliRunner.RunAsync(env, "check", "--read-data-subset", "1/3", "--json");

        Assert.True(text.ExitCode == 0, text.StandardOutput + text.StandardError);
        Assert.Contains("no errors were found", text.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("read all data", text.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(0, json.ExitCode);
        var root = JsonDocument.Parse(json.StandardOutput).RootElement;
        Assert.True(root.GetProperty("clean").GetBoolean());
        Assert.Equal(0, root.GetProperty("num_errors").GetInt32());
        Assert.Equal(1, root.GetProperty("snapshots").GetInt32());
    }

    [Fact]
    public async Task Check_runs_beside_a_shared_lock_and_refuses_an_exclusive_one()
    {
        using var lab = await CheckerLab.CreateAsync(backups: 1);
        await using var repo = await lab.OpenAsync();

        await using (await RepositoryLock.AcquireAsync(repo, exclusive: false))
        {
            Assert.True((await repo.CheckAsync(new CheckOptions())).IsClean);
        }

        await using (await RepositoryLock.AcquireAsync(repo, exclusive: true))
        {
            await Assert.ThrowsAsync<RepositoryLockedException>(() => repo.CheckAsync(new CheckOptions()));
            Assert.True((await repo.CheckAsync(new CheckOptions { NoLock = true })).IsClean);
        }

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => repo.CheckAsync(new CheckOptions { ReadData = true }, null, cancelled.Token));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(lab.RepoPath, "locks")));
    }

    [Fact]
    public async Task Checks_during_a_running_backup_find_no_errors()
    {
        using var lab = await CheckerLab.CreateAsync(backups: 1);
        var source = lab.Combine("busy");
        SimpleTree.Create(source, seed: 77, bigFileBytes: 24 * 1024 * 1024, smallFiles: 30);
        await using var writer = await lab.OpenAsync();
        var options = new KubeBackup.Restic.Archiver.BackupOptions();
        options.Paths.Add(source);
        var backup = writer.BackupAsync(options);

        int checks = 0;
        do
        {
            // Packs and index files appear while this runs: at most hints (packs not yet indexed), never errors.
            var result = await lab.CheckAsync(new CheckOptions());
            Assert.True(result.IsClean, string.Join('\n', result.Errors));
            checks++;
        }
        while (!backup.IsCompleted);

        await backup;
        var after = await lab.CheckAsync();
        Assert.True(after.IsClean && after.Hints.Count == 0, string.Join('\n', after.Errors.Concat<object>(after.Hints)));
        Assert.Equal(2, after.Snapshots);
        Assert.True(checks >= 1);
    }

    /// <summary>Reports on the calling thread, in order (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        private readonly Lock _lock = new();

        public void Report(T value)
        {
            lock (_lock)
            {
                report(value);
            }
        }
    }
}
