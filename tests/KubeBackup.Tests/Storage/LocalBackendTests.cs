using System.Text;
using KubeBackup.Storage;
using KubeBackup.Storage.Local;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Storage;

/// <summary>The backend contract, on the local file system.</summary>
public class LocalBackendTests
{
    private static readonly string Id = new('a', 64);

    [Fact]
    public async Task Staged_file_becomes_a_read_only_repository_file_and_replaces_an_existing_one()
    {
        using var dir = new TempDirectory();
        await using var backend = new LocalBackend(dir.Combine("repo"));
        await backend.CreateAsync();
        IStagingBackend staging = backend;
        var handle = new FileHandle(FileType.Pack, Id);

        foreach (var content in new[] { "first", "second" })
        {
            using var file = staging.CreateStagingFile();
            Assert.NotNull(file);
            // Unnamed until committed: the repository shows nothing but the folders.
            RandomAccess.Write(file, Encoding.ASCII.GetBytes(content), 0);
            Assert.DoesNotContain(Directory.GetFiles(dir.Combine("repo", "data"), "*", SearchOption.AllDirectories), f => File.ReadAllText(f) == content);
            staging.CommitStagingFile(file, handle);
        }

        string path = dir.Combine("repo", "data", "aa", Id);
        Assert.Equal("second", File.ReadAllText(path));
        Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(path));
        Assert.Equal([Id], Directory.GetFiles(dir.Combine("repo", "data"), "*", SearchOption.AllDirectories).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_durable_commit_leaves_the_pack_out_of_the_page_cache()
    {
        // A pack is written once and not read back by the backup: its cached pages would only push the workload's own
        // files out. Once flushed, a durable commit drops them; a non-durable one (tests) leaves them, which shows the
        // measurement (util-linux fincore, resident bytes of a file) can see them. On a disk, not in tmpfs, where the
        // cache is the file itself.
        string root = PageCache.NewFolderOnDisk("kb-cache");
        try
        {
            var data = new byte[4 << 20];
            new Random(5).NextBytes(data);
            var resident = new Dictionary<bool, long>();
            foreach (var durable in new[] { false, true })
            {
                await using var backend = new LocalBackend(new LocalBackendOptions { Path = Path.Combine(root, durable ? "durable" : "fast"), Durable = durable });
                await backend.CreateAsync();
                IStagingBackend staging = backend;
                using var file = staging.CreateStagingFile();
                Assert.NotNull(file);
                RandomAccess.Write(file, data, 0);
                staging.CommitStagingFile(file, new FileHandle(FileType.Pack, Id));
                string path = backend.PathOf(new FileHandle(FileType.Pack, Id));
                Assert.Equal(data.Length, new FileInfo(path).Length);
                resident[durable] = await PageCache.ResidentBytesAsync(path);
            }

            Assert.True(resident[false] > 0, $"the non-durable pack should still be cached: {resident[false]} bytes");
            Assert.Equal(0, resident[true]);
        }
        finally
        {
            TestTree.Delete(root);
        }
    }

    [Fact]
    public async Task Save_read_ranged_read_stat_list_remove()
    {
        using var dir = new TempDirectory();
        await using var backend = new LocalBackend(dir.Combine("repo"));
        await backend.CreateAsync();
        var data = Encoding.ASCII.GetBytes("0123456789abcdefghij");
        var handle = new FileHandle(FileType.Pack, Id);

        await backend.SaveAsync(handle, new MemoryStream(data));

        Assert.True(File.Exists(dir.Combine("repo", "data", "aa", Id)));
        var all = new byte[data.Length];
        await backend.ReadAsync(handle, 0, all);
        Assert.Equal(data, all);
        var part = new byte[5];
        await backend.ReadAsync(handle, 10, part);
        Assert.Equal("abcde", Encoding.ASCII.GetString(part));
        await using (var stream = await backend.OpenReadAsync(handle, 15, 3))
        {
            using var ms = new MemoryStream();
            await stream.CopyToAsync(ms);
            Assert.Equal("fgh", Encoding.ASCII.GetString(ms.ToArray()));
        }

        Assert.Equal(new StorageFileInfo(Id, data.Length), await backend.StatAsync(handle));
        var listed = new List<StorageFileInfo>();
        await foreach (var f in backend.ListAsync(FileType.Pack))
        {
            listed.Add(f);
        }

        Assert.Equal([new StorageFileInfo(Id, data.Length)], listed);
        await backend.RemoveAsync(handle);
        await Assert.ThrowsAsync<StorageFileNotFoundException>(() => backend.StatAsync(handle));
    }

    [Fact]
    public async Task Missing_files_raise_StorageFileNotFoundException_and_short_reads_a_StorageException()
    {
        using var dir = new TempDirectory();
        await using var backend = new LocalBackend(dir.Combine("repo"));
        await backend.CreateAsync();
        var missing = new FileHandle(FileType.Snapshot, Id);
        await Assert.ThrowsAsync<StorageFileNotFoundException>(async () => await backend.ReadAsync(missing, 0, new byte[1]));
        await Assert.ThrowsAsync<StorageFileNotFoundException>(() => backend.StatAsync(missing));
        await Assert.ThrowsAsync<StorageFileNotFoundException>(() => backend.RemoveAsync(missing));
        await Assert.ThrowsAsync<StorageFileNotFoundException>(() => backend.OpenReadAsync(missing));

        await backend.SaveAsync(missing, new MemoryStream(new byte[10]));
        var ex = await Assert.ThrowsAsync<StorageException>(async () => await backend.ReadAsync(missing, 5, new byte[10]));
        Assert.IsNotType<StorageFileNotFoundException>(ex);
    }

    [Fact]
    public async Task Listing_skips_names_that_are_not_ids_such_as_temporary_files()
    {
        using var dir = new TempDirectory();
        await using var backend = new LocalBackend(dir.Combine("repo"));
        await backend.CreateAsync();
        await backend.SaveAsync(new FileHandle(FileType.Index, Id), new MemoryStream([1]));
        File.WriteAllBytes(dir.Combine("repo", "index", Id + "-tmp-123"), [1, 2]);
        File.WriteAllBytes(dir.Combine("repo", "index", "README"), [1, 2]);

        var names = new List<string>();
        await foreach (var f in backend.ListAsync(FileType.Index))
        {
            names.Add(f.Name);
        }

        Assert.Equal([Id], names);
    }

    [Fact]
    public async Task A_save_that_fails_midway_leaves_nothing_under_the_final_name()
    {
        using var dir = new TempDirectory();
        await using var backend = new LocalBackend(dir.Combine("repo"));
        await backend.CreateAsync();
        var handle = new FileHandle(FileType.Pack, Id);

        await Assert.ThrowsAnyAsync<Exception>(() => backend.SaveAsync(handle, new ThrowingStream()));

        await Assert.ThrowsAsync<StorageFileNotFoundException>(() => backend.StatAsync(handle));
        Assert.Empty(Directory.GetFiles(dir.Combine("repo", "data", "aa")));
    }

    [Fact]
    public async Task Create_refuses_an_existing_repository()
    {
        using var dir = new TempDirectory();
        await using var backend = new LocalBackend(dir.Combine("repo"));
        await backend.CreateAsync();
        await backend.SaveAsync(FileHandle.Config, new MemoryStream([1]));
        await Assert.ThrowsAsync<RepositoryException>(() => backend.CreateAsync());
    }

    private sealed class ThrowingStream : MemoryStream
    {
        public ThrowingStream() : base(new byte[100_000]) { }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Position > 50_000)
            {
                throw new IOException("the source went away");
            }

            return base.ReadAsync(buffer[..Math.Min(buffer.Length, 10_000)], cancellationToken);
        }
    }
}
