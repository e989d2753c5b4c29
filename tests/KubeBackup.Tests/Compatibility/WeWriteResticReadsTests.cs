using System.Text.Json;
using KubeBackup.Restic.Archiver;
using KubeBackup.Restic.Restorer;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Compatibility;

/// <summary>
/// A repository we write from a tree full of awkward cases (multi-chunk files, sparse files, hard links, symlinks,
/// fifos, devices, invalid UTF-8 names, special mode bits, xattrs, ns times) is an ordinary restic repository: the
/// real restic checks it with --read-data, restores it identically, and backs the same data up again without adding
/// a single data blob (so our chunker cuts where restic's does).
/// </summary>
public class WeWriteResticReadsTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(1)]
    public async Task Restic_checks_restores_and_deduplicates_against_what_we_wrote(int version)
    {
        using var dir = new TempDirectory();
        var source = dir.Combine("src");
        TestTree.Generate(source, TestTreeOptions.Quick, seed: 5);
        var expected = TreeSnapshot.Capture(source);
        var repoPath = dir.Combine("repo");
        var hostname = System.Net.Dns.GetHostName();
        await using (var repo = await TestRepository.InitAsync(repoPath, version, new KubeBackup.Restic.Repository.ResticRepositoryOptions { Hostname = hostname, PackSize = 4 << 20 }))
        {
            var options = new BackupOptions();
            options.Paths.Add(source);
            var result = await repo.BackupAsync(options);
            Assert.True(result.IsComplete, string.Join("\n", result.Errors));

            // Our own restore: everything, sparseness and raw symlink targets included.
            var ours = dir.Combine("ours");
            var restore = await repo.RestoreAsync(result.Snapshot, new RestoreOptions { Target = ours });
            Assert.True(restore.IsComplete, string.Join("\n", restore.Errors));
            TreeSnapshot.AssertEqual(expected, TreeSnapshot.Capture(ours + source), TreeCompareOptions.Default);
        }

        var restic = new ResticCli(repoPath, TestRepository.Password);
        var check = await restic.RunAsync("check", "--read-data");
        Assert.True(check.ExitCode == 0, check.StandardOutput + check.StandardError);
        Assert.Contains("no errors were found", check.StandardOutput, StringComparison.Ordinal);

        var theirs = dir.Combine("theirs");
        await restic.RunCheckedAsync("restore", "latest", "--target", theirs);
        TreeSnapshot.AssertEqual(expected, TreeSnapshot.Capture(theirs + source), TreeCompareOptions.Restic014);

        // --force makes restic read and chunk every file again instead of trusting our snapshot as its parent.
        var summary = LastSummary(await restic.RunCheckedAsync("backup", "--force", "--json", source));
        Assert.Equal(0, summary.GetProperty("data_blobs").GetInt32());
        Assert.Equal(0, summary.GetProperty("tree_blobs").GetInt32());
        Assert.Equal(0, summary.GetProperty("data_added").GetInt64());
    }

    internal static JsonElement LastSummary(string resticJsonOutput) => JsonDocument.Parse(
        resticJsonOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.Contains("\"summary\"", StringComparison.Ordinal))).RootElement;
}
