using KubeBackup.Restic.Restorer;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Restic.Locking;

public class ConcurrentBackupTests
{
    [Fact]
    public async Task Two_processes_backing_up_into_one_repository_at_once_both_succeed()
    {
        using var dir = new TempDirectory();
        var repoPath = dir.Combine("repo");
        await (await TestRepository.InitAsync(repoPath)).DisposeAsync();
        var a = dir.Combine("a");
        var b = dir.Combine("b");
        // Shared content between the two, so both race to store the same blobs.
        SimpleTree.Create(a, seed: 1, bigFileBytes: 20 * 1024 * 1024, smallFiles: 200);
        SimpleTree.Create(b, seed: 1, bigFileBytes: 20 * 1024 * 1024, smallFiles: 200);
        File.WriteAllText(Path.Combine(b, "only-in-b.txt"), "b");
        var env = new Dictionary<string, string> { ["RESTIC_REPOSITORY"] = repoPath, ["RESTIC_PASSWORD"] = TestRepository.Password };

        var results = await Task.WhenAll(
            CliRunner.RunAsync(env, "backup", a, "--pack-size", "4"),
            CliRunner.RunAsync(env, "backup", b, "--pack-size", "4"));

        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.StandardError));
        var restic = new ResticCli(repoPath, TestRepository.Password);
        var check = await restic.RunAsync("check", "--read-data");
        Assert.True(check.ExitCode == 0, check.StandardOutput + check.StandardError);
        await using var repo = await TestRepository.OpenAsync(repoPath);
        var snapshots = await repo.ListSnapshotsAsync();
        Assert.Equal(2, snapshots.Count);
        foreach (var (source, snapshot) in new[] { a, b }.Select(s => (s, snapshots.Single(x => x.Paths[0] == s))))
        {
            var target = dir.Combine("out-" + Path.GetFileName(source));
            Assert.True((await repo.RestoreAsync(snapshot, new RestoreOptions { Target = target })).IsComplete);
            Assert.Equal(SimpleTree.Describe(source), SimpleTree.Describe(target + source));
        }
    }
}
