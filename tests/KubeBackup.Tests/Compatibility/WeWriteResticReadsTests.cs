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
            // Zero runs come back as holes (restic's --sparse): a densely written run of zeros is restored sparse, which
            // is the same content. The genuinely sparse files must stay sparse.
            var restored = TreeSnapshot.Capture(ours + source);
            TreeSnapshot.AssertEqual(expected, restored, TreeCompareOptions.Default with { IgnoreSparseness = true });
            Assert.True(restored.Find(TestTree.Paths.Sparse)!.IsSparse);
            Assert.True(restored.Find(TestTree.Paths.HoleOnly)!.IsSparse);
        }

        var restic = new ResticCli(repoPath, TestRepository.Password);
        var check = await restic.RunAsync("check", "--read-data");
        Assert.True(check.ExitCode == 0, check.StandardOutput + check.StandardError);
        Assert.Contains("no errors were found", check.StandardOutput, StringComparison.Ordinal);

        var theirs = dir.Combine("theirs");
        await restic.RunCheckedAsync("restore", "latest", "--target", theirs);
        TreeSnapshot.AssertEqual(expected, TreeSnapshot.Capture(theirs + source), TreeCompareOptions.Restic014);

        // --force makes restic read and chunk every file again instead of trusting our snapshot as its parent: no data
        // blob is new, so our chunker cut exactly where restic's does.
        var summary = LastSummary(await restic.RunCheckedAsync("backup", "--force", "--json", source));
        Assert.Equal(0, summary.GetProperty("data_blobs").GetInt32());

        // Trees are byte-identical too, except where a symlink target is not valid UTF-8: there we also write
        // linktarget_raw (restic 0.16+) so the target survives, which restic 0.14 does not write. Without that one
        // symlink, restic 0.14 adds no tree blob on top of ours either.
        TestTree.Delete(Path.Combine(source, TestTree.Paths.InvalidUtf8Symlink));
        await using (var repo = await TestRepository.OpenAsync(repoPath, new KubeBackup.Restic.Repository.ResticRepositoryOptions { Hostname = hostname }))
        {
            var options = new BackupOptions();
            options.Paths.Add(source);
            var ours = await repo.BackupAsync(options);
            Assert.True(ours.IsComplete);

            summary = LastSummary(await restic.RunCheckedAsync("backup", "--force", "--json", source));
            Assert.Equal(0, summary.GetProperty("data_blobs").GetInt32());
            var resticSnapshot = await repo.FindSnapshotAsync(summary.GetProperty("snapshot_id").GetString()!);
            // The folder holding the source (and so every tree below it) is the same blob; only trees above it may
            // differ, since /tmp itself changes as other tests come and go.
            var parentDir = Path.GetDirectoryName(source)!;
            Assert.Equal((await repo.FindNodeAsync(ours.Snapshot, parentDir)).Subtree, (await repo.FindNodeAsync(resticSnapshot, parentDir)).Subtree);
            Assert.True(summary.GetProperty("tree_blobs").GetInt32() <= parentDir.Count(c => c == '/'));
        }
    }

    internal static JsonElement LastSummary(string resticJsonOutput) => JsonDocument.Parse(
        resticJsonOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.Contains("\"summary\"", StringComparison.Ordinal))).RootElement;
}
