using System.Diagnostics;
using KubeBackup.Restic.Archiver;
using KubeBackup.Restic.Restorer;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Compatibility;

/// <summary>kill -9 at any moment of a backup leaves a repository restic checks clean, and every earlier snapshot
/// still restores identically.</summary>
public class KillDuringBackupTests
{
    [Fact]
    public async Task Backup_killed_at_several_moments_leaves_a_valid_repository()
    {
        using var dir = new TempDirectory();
        var repoPath = dir.Combine("repo");
        var first = dir.Combine("first");
        SimpleTree.Create(first, bigFileBytes: 6 * 1024 * 1024);
        var firstExpected = SimpleTree.Describe(first);
        await using (var repo = await TestRepository.InitAsync(repoPath))
        {
            var options = new BackupOptions();
            options.Paths.Add(first);
            await repo.BackupAsync(options);
        }

        // A larger tree for the killed backups, so there are many moments to hit: startup, packs in flight, index, snapshot.
        var big = dir.Combine("big");
        TestTree.Generate(big, TestTreeOptions.Default with { BigFileSize = 64 << 20, ZeroRunFileSize = 48 << 20, SmallFileCount = 3000 }, seed: 9);
        var staging = dir.Combine("tmp");
        Directory.CreateDirectory(staging);
        var env = new Dictionary<string, string>
        {
            ["RESTIC_REPOSITORY"] = repoPath,
            ["RESTIC_PASSWORD"] = TestRepository.Password,
            // Packs are staged here; a killed process must not leave them behind.
            ["TMPDIR"] = staging,
        };
        // Kill moments are fractions of how long a whole backup of the tree takes on this machine (measured into a
        // scratch repository), so they land inside the backup however fast the machine is. A killed backup writes no
        // snapshot to be a parent, and --force re-reads everything, so even after one that finished, the next is not
        // a quick incremental one.
        IReadOnlyDictionary<string, string> scratchEnv = new Dictionary<string, string>(env) { ["RESTIC_REPOSITORY"] = dir.Combine("scratch") };
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var calibration = await CliRunner.RunAsync(scratchEnv, "init");
        Assert.True(calibration.ExitCode == 0, calibration.StandardError);
        stopwatch.Restart();
        var whole = await CliRunner.RunAsync(scratchEnv, "backup", big, "--pack-size", "4");
        Assert.True(whole.ExitCode == 0, whole.StandardError);
        double wholeMs = stopwatch.Elapsed.TotalMilliseconds;
        var rng = new Random(1234);
        int killed = 0, attempts = 0;
        double scale = 1.0;
        var fractions = new[] { 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7 };
        // The calibration may have run under more load than the attempts (other test classes run beside this one):
        // a backup that finished before its kill makes the later moments earlier, so eight kills still land.
        while (killed < fractions.Length && attempts < 3 * fractions.Length)
        {
            int delayMs = (int)(wholeMs * scale * fractions[killed]) + rng.Next(0, 20);
            attempts++;
            using var process = CliRunner.Start(env, "backup", big, "--pack-size", "4", "--force");
            await Task.Delay(delayMs);
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                killed++;
            }
            else
            {
                scale *= 0.6;
            }

            await process.WaitForExitAsync();
        }

        Assert.True(killed >= 5, $"only {killed} of {attempts} backups were still running when killed (a whole one took {wholeMs:F0} ms)");
        // Packs are staged as unnamed files (next to the repository's data, or in TMPDIR): nothing may survive a kill.
        var leftovers = Directory.GetFiles(staging, "kubebackup-pack-*")
            .Concat(Directory.GetFiles(Path.Combine(repoPath, "data"), "*", SearchOption.AllDirectories)
                .Where(f => !System.Text.RegularExpressions.Regex.IsMatch(Path.GetFileName(f), "^[0-9a-f]{64}$")))
            .ToList();
        Assert.True(leftovers.Count == 0, string.Join("\n", leftovers.Select(f => $"{f} {new FileInfo(f).Length} {File.GetLastWriteTimeUtc(f):O}")));
        var restic = new ResticCli(repoPath, TestRepository.Password);
        // The killed processes leave their locks behind; restic recognises them as stale (same host, process gone).
        await restic.RunCheckedAsync("unlock");
        var check = await restic.RunAsync("check", "--read-data");
        Assert.True(check.ExitCode == 0, check.StandardOutput + check.StandardError);

        await using (var repo = await TestRepository.OpenAsync(repoPath))
        {
            var snapshots = await repo.ListSnapshotsAsync();
            var firstSnapshot = snapshots.First(s => s.Paths.SequenceEqual([first]));
            var restore = await repo.RestoreAsync(firstSnapshot, new RestoreOptions { Target = dir.Combine("out") });
            Assert.True(restore.IsComplete);
            Assert.Equal(firstExpected, SimpleTree.Describe(dir.Combine("out") + first));

            // And the repository still takes a complete backup.
            var options = new BackupOptions();
            options.Paths.Add(big);
            var result = await repo.BackupAsync(options);
            Assert.True(result.IsComplete);
        }

        Assert.Equal(0, (await restic.RunAsync("check")).ExitCode);
    }
}
