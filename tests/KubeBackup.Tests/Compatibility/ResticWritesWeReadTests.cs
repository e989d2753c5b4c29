using System.Text.Json;
using KubeBackup.Restic.Archiver;
using KubeBackup.Restic.Restorer;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Compatibility;

/// <summary>Repositories the real restic wrote, in both formats and every compression mode, restore identically through us.</summary>
public class ResticWritesWeReadTests
{
    [Theory]
    [InlineData("1", "auto")]
    [InlineData("2", "auto")]
    [InlineData("2", "off")]
    [InlineData("2", "max")]
    public async Task Restic_repository_restores_identically_through_kubebackup(string version, string compression)
    {
        using var dir = new TempDirectory();
        var source = dir.Combine("src");
        TestTree.Generate(source, TestTreeOptions.Quick, seed: int.Parse(version) * 10 + compression.Length);
        var expected = TreeSnapshot.Capture(source);
        var repoPath = dir.Combine("repo");
        var restic = new ResticCli(repoPath, TestRepository.Password);
        await restic.RunCheckedAsync("init", "--repository-version", version);
        await restic.RunCheckedAsync("backup", "--compression", compression, source);

        // Through the console host, as a restic user would restore.
        var env = new Dictionary<string, string> { ["RESTIC_REPOSITORY"] = repoPath, ["RESTIC_PASSWORD"] = TestRepository.Password };
        var restore = await CliRunner.RunAsync(env, "restore", "latest", "--target", dir.Combine("out"));

        Assert.True(restore.ExitCode == 0, restore.StandardOutput + restore.StandardError);
        // What restic 0.14 stored is what comes back: it records atime as mtime and link targets as text.
        TreeSnapshot.AssertEqual(expected, TreeSnapshot.Capture(dir.Combine("out") + source), TreeCompareOptions.Restic014);
    }

    [Fact]
    public async Task Restic_stdin_snapshot_dumps_identically_through_kubebackup()
    {
        using var dir = new TempDirectory();
        var repoPath = dir.Combine("repo");
        var restic = new ResticCli(repoPath, TestRepository.Password);
        await restic.RunCheckedAsync("init");
        var data = new byte[5_000_000];
        new Random(11).NextBytes(data);
        (await restic.RunAsync(["backup", "--stdin", "--stdin-filename", "dump.sql"], new MemoryStream(data), null)).EnsureSuccess("restic backup --stdin");

        await using var repo = await TestRepository.OpenAsync(repoPath);
        using var output = new MemoryStream();
        await repo.DumpAsync(await repo.FindSnapshotAsync("latest"), "/dump.sql", output);

        Assert.Equal(data, output.ToArray());
    }

    [Fact]
    public async Task Our_backup_on_top_of_restics_uses_it_as_parent_and_restics_on_top_of_ours_too()
    {
        using var dir = new TempDirectory();
        var source = dir.Combine("src");
        SimpleTree.Create(source, bigFileBytes: 10 * 1024 * 1024);
        var repoPath = dir.Combine("repo");
        var restic = new ResticCli(repoPath, TestRepository.Password);
        await restic.RunCheckedAsync("init");
        await restic.RunCheckedAsync("backup", source);

        // Ours on top of restic's: restic's snapshot is the parent and nothing is read again.
        var options = new KubeBackup.Restic.Repository.ResticRepositoryOptions
        {
            Hostname = System.Net.Dns.GetHostName(),
            PackSize = 4 * 1024 * 1024,
        };
        BackupResult ours;
        await using (var repo = await TestRepository.OpenAsync(repoPath, options))
        {
            var backup = new BackupOptions();
            backup.Paths.Add(source);
            ours = await repo.BackupAsync(backup);
        }

        var resticSnapshots = JsonDocument.Parse(await restic.RunCheckedAsync("snapshots", "--json")).RootElement;
        Assert.Equal(resticSnapshots[0].GetProperty("id").GetString(), ours.Parent?.ToString());
        Assert.Equal(0ul, ours.Summary.FilesNew + ours.Summary.FilesChanged);
        Assert.Equal(0ul, ours.Summary.DataBlobs);

        // Restic's on top of ours: ours is the parent, no file is read again, no data is added.
        File.AppendAllText(Path.Combine(source, "docs", "readme.txt"), "changed\n");
        var summaryLine = (await restic.RunCheckedAsync("backup", "--json", source))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.Contains("\"summary\"", StringComparison.Ordinal));
        var summary = JsonDocument.Parse(summaryLine).RootElement;
        Assert.Equal(1, summary.GetProperty("files_changed").GetInt32());
        Assert.Equal(0, summary.GetProperty("files_new").GetInt32());
        Assert.True(summary.GetProperty("files_unmodified").GetInt32() > 30);
        var snapshots = JsonDocument.Parse(await restic.RunCheckedAsync("snapshots", "--json")).RootElement;
        Assert.Equal(ours.Snapshot.Id.ToString(), snapshots[2].GetProperty("parent").GetString());
    }
}
