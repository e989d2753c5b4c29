using KubeBackup.Restic.Archiver;
using KubeBackup.Restic.Compression;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Restorer;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Restic.Archiver;

public class CompressionTests
{
    [Theory]
    [InlineData(CompressionMode.Auto)]
    [InlineData(CompressionMode.Off)]
    [InlineData(CompressionMode.Max)]
    public async Task Each_compression_mode_stores_what_restic_checks_and_restores_identically(CompressionMode mode)
    {
        using var dir = new TempDirectory();
        var source = dir.Combine("src");
        SimpleTree.Create(source, bigFileBytes: 1024 * 1024, smallFiles: 10);
        var repoPath = dir.Combine("repo");
        var options = TestRepository.Options();
        options.Compression = mode;
        await using var repo = await TestRepository.InitAsync(repoPath, 2, options);
        var backup = new BackupOptions();
        backup.Paths.Add(source);

        var result = await repo.BackupAsync(backup);

        await repo.LoadIndexAsync();
        var readme = await repo.FindNodeAsync(result.Snapshot, source + "/docs/readme.txt");
        Assert.True(repo.Index.TryGet(readme.Content![0], BlobType.Data, out var location));
        // Text compresses well unless compression is off; trees are always compressed in format 2.
        Assert.Equal(mode != CompressionMode.Off, location.IsCompressed);
        Assert.True(repo.Index.TryGet(result.Snapshot.Tree, BlobType.Tree, out var tree));
        Assert.True(tree.IsCompressed);
        await repo.RestoreAsync(result.Snapshot, new RestoreOptions { Target = dir.Combine("out") });
        Assert.Equal(SimpleTree.Describe(source), SimpleTree.Describe(dir.Combine("out") + source));
        var check = await new ResticCli(repoPath, TestRepository.Password).RunAsync("check", "--read-data");
        Assert.True(check.ExitCode == 0, check.StandardOutput + check.StandardError);
    }

    [Fact]
    public async Task Incompressible_data_is_stored_uncompressed_even_with_compression_on()
    {
        using var dir = new TempDirectory();
        await using var repo = await TestRepository.InitAsync(dir.Combine("repo"));
        var data = new byte[2 * 1024 * 1024];
        new Random(5).NextBytes(data);

        var result = await repo.BackupStreamAsync(new MemoryStream(data), new StreamBackupOptions { FileName = "random.bin" });

        var node = await repo.FindNodeAsync(result.Snapshot, "/random.bin");
        Assert.True(repo.Index.TryGet(node.Content![0], BlobType.Data, out var location));
        Assert.False(location.IsCompressed);
        Assert.Equal(0, (await new ResticCli(dir.Combine("repo"), TestRepository.Password).RunAsync("check", "--read-data")).ExitCode);
    }
}
