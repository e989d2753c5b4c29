using KubeBackup.Restic.Archiver;
using KubeBackup.Restic.Restorer;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Restic.Repository;

/// <summary>One flipped byte anywhere gives a typed error that names the damaged file, never wrong data.</summary>
public class IntegrityTests
{
    private static async Task<(TempDirectory Dir, string Repo, string Source, KubeBackup.Restic.Model.Snapshot Snapshot)> BackupAsync()
    {
        var dir = new TempDirectory();
        var source = dir.Combine("src");
        SimpleTree.Create(source, bigFileBytes: 3 * 1024 * 1024, smallFiles: 4);
        var repoPath = dir.Combine("repo");
        await using var repo = await TestRepository.InitAsync(repoPath);
        var options = new BackupOptions();
        options.Paths.Add(source);
        var result = await repo.BackupAsync(options);
        return (dir, repoPath, source, result.Snapshot);
    }

    private static string Flip(string file, long? at = null)
    {
        var bytes = File.ReadAllBytes(file);
        long i = at ?? bytes.Length / 2;
        bytes[i] ^= 0x01;
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllBytes(file, bytes);
        return file;
    }

    private static string Relative(string repo, string file) => Path.GetRelativePath(repo, file);

    [Theory]
    // Random bytes do not shrink and are stored uncompressed (opened where they are decrypted); the text is compressed.
    [InlineData("big.bin", false, "docs/readme.txt")]
    [InlineData("docs/readme.txt", true, "big.bin")]
    public async Task Flipped_byte_in_a_data_pack_fails_the_affected_file_with_an_error_naming_the_pack(string damaged, bool compressed, string intact)
    {
        var (dir, repoPath, source, snapshot) = await BackupAsync();
        using var _ = dir;
        await using var repo = await TestRepository.OpenAsync(repoPath);
        await repo.LoadIndexAsync();
        var node = await repo.FindNodeAsync(snapshot, source + "/" + damaged);
        Assert.True(repo.Index.TryGet(node.Content![0], KubeBackup.Restic.Model.BlobType.Data, out var location));
        Assert.Equal(compressed, location.IsCompressed);
        var pack = Path.Combine(repoPath, "data", location.PackId.ToString()[..2], location.PackId.ToString());
        Flip(pack, location.Offset + location.Length / 2);

        var target = dir.Combine("out");
        var result = await repo.RestoreAsync(snapshot, new RestoreOptions { Target = target });

        var error = Assert.Single(result.Errors);
        var integrity = Assert.IsType<IntegrityException>(error.Exception);
        Assert.Equal(Relative(repoPath, pack), integrity.FileName);
        Assert.False(File.Exists(Path.Combine(target, source.TrimStart('/'), damaged)), "a damaged file must not be left half-written");
        Assert.Equal(File.ReadAllBytes(Path.Combine(source, intact)), File.ReadAllBytes(Path.Combine(target, source.TrimStart('/'), intact)));
        var dump = await Assert.ThrowsAsync<IntegrityException>(() => repo.DumpAsync(snapshot, source + "/" + damaged, Stream.Null));
        Assert.Equal(Relative(repoPath, pack), dump.FileName);
    }

    [Fact]
    public async Task Flipped_byte_in_an_index_file_is_reported_with_its_name()
    {
        var (dir, repoPath, _, snapshot) = await BackupAsync();
        using var _ = dir;
        var index = Flip(Directory.GetFiles(Path.Combine(repoPath, "index")).First());
        await using var repo = await TestRepository.OpenAsync(repoPath);

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => repo.RestoreAsync(snapshot, new RestoreOptions { Target = dir.Combine("out") }));

        Assert.Equal(Relative(repoPath, index), ex.FileName);
        Assert.False(Directory.Exists(dir.Combine("out")) && Directory.EnumerateFiles(dir.Combine("out"), "*", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public async Task Flipped_byte_in_a_snapshot_file_is_reported_with_its_name()
    {
        var (dir, repoPath, _, _) = await BackupAsync();
        using var _ = dir;
        var snapshotFile = Flip(Directory.GetFiles(Path.Combine(repoPath, "snapshots")).Single());
        await using var repo = await TestRepository.OpenAsync(repoPath);

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => repo.ListSnapshotsAsync());

        Assert.Equal(Relative(repoPath, snapshotFile), ex.FileName);
    }

    [Fact]
    public async Task Flipped_byte_in_a_key_file_is_an_integrity_error_not_a_wrong_password()
    {
        var (dir, repoPath, _, _) = await BackupAsync();
        using var _ = dir;
        var key = Flip(Directory.GetFiles(Path.Combine(repoPath, "keys")).Single());

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => TestRepository.OpenAsync(repoPath));

        Assert.Equal(Relative(repoPath, key), ex.FileName);
    }

    [Fact]
    public async Task Flipped_byte_in_the_config_is_reported()
    {
        var (dir, repoPath, _, _) = await BackupAsync();
        using var _ = dir;
        Flip(Path.Combine(repoPath, "config"));

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => TestRepository.OpenAsync(repoPath));

        Assert.Equal("config", ex.FileName);
    }

    [Fact]
    public async Task Flipped_byte_in_a_tree_pack_is_reported_with_its_name()
    {
        var (dir, repoPath, _, snapshot) = await BackupAsync();
        using var _ = dir;
        await using var repo = await TestRepository.OpenAsync(repoPath);
        await repo.LoadIndexAsync();
        Assert.True(repo.Index.TryGet(snapshot.Tree, KubeBackup.Restic.Model.BlobType.Tree, out var location));
        var pack = Path.Combine(repoPath, "data", location.PackId.ToString()[..2], location.PackId.ToString());
        Flip(pack, location.Offset + location.Length / 2);

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => repo.RestoreAsync(snapshot, new RestoreOptions { Target = dir.Combine("out") }));

        Assert.Equal(Relative(repoPath, pack), ex.FileName);
    }
}
