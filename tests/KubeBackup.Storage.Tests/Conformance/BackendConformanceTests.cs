using System.Security.Cryptography;
using KubeBackup.Restic;
using KubeBackup.Storage.Tests.Fixtures;

namespace KubeBackup.Storage.Tests.Conformance;

/// <summary>
/// The backend contract, written once and run unchanged against every provider: save, read, ranged read, stat,
/// list past 1,000 entries, remove, not-found, a 64 MiB object and 32 concurrent saves. Each test uses its own prefix.
/// </summary>
public abstract class BackendConformanceTests(StorageServer server)
{
    private static string Id(int i) => Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(i)));

    private static byte[] Random(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private async Task<IBackend> FreshAsync()
    {
        var backend = server.CreateBackend("conf-" + Guid.NewGuid().ToString("N")[..12]);
        await backend.CreateAsync();
        return backend;
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var ms = new MemoryStream();
        await stream.CopyToAsync(ms);
        return ms.ToArray();
    }

    [Fact]
    public async Task A_saved_file_is_in_the_very_next_listing()
    {
        // What a backend claims with ListsSavedFilesAtOnce (taking a lock then skips restic's pause). The servers used
        // here all behave so; the remote backends still claim it only when told to.
        var prefix = "conf-" + Guid.NewGuid().ToString("N")[..12];
        await using var backend = server.CreateBackend(prefix);
        await backend.CreateAsync();
        for (int i = 0; i < 20; i++)
        {
            var handle = new FileHandle(FileType.Lock, Id(1000 + i));
            await backend.SaveAsync(handle, new MemoryStream(Random(100, i)));
            Assert.Contains(handle.Name, (await ListAsync(backend, FileType.Lock)).Select(f => f.Name));
        }

        if (backend is not Local.LocalBackend)
        {
            Assert.False(backend.ListsSavedFilesAtOnce);
            await using var optedIn = server.CreateBackend(prefix, o => o.ListsSavedFilesAtOnce = true);
            Assert.True(optedIn.ListsSavedFilesAtOnce);
        }
    }

    [Fact]
    public async Task Save_read_ranged_read_stat_and_streams()
    {
        await using var backend = await FreshAsync();
        var data = Random(300_000, 1);
        var handle = new FileHandle(FileType.Pack, Id(1));
        // A save sends the content from the stream's current position on.
        var stream = new MemoryStream([.. new byte[100], .. data]) { Position = 100 };

        await backend.SaveAsync(handle, stream);

        Assert.Equal(new StorageFileInfo(handle.Name, data.Length), await backend.StatAsync(handle));
        var all = new byte[data.Length];
        await backend.ReadAsync(handle, 0, all);
        Assert.Equal(data, all);
        var part = new byte[1000];
        await backend.ReadAsync(handle, 123_456, part);
        Assert.Equal(data.AsSpan(123_456, 1000).ToArray(), part);
        var tail = new byte[10];
        await backend.ReadAsync(handle, data.Length - 10, tail);
        Assert.Equal(data[^10..], tail);

        await using (var s = await backend.OpenReadAsync(handle, 1000, 5000))
        {
            Assert.Equal(data.AsSpan(1000, 5000).ToArray(), await ReadAllAsync(s));
        }

        await using (var s = await backend.OpenReadAsync(handle, 250_000))
        {
            Assert.Equal(data[250_000..], await ReadAllAsync(s));
        }

        await using (var s = await backend.OpenReadAsync(handle))
        {
            Assert.Equal(data, await ReadAllAsync(s));
        }

        // Reading past the end is a storage error, not "not found".
        var ex = await Assert.ThrowsAnyAsync<StorageException>(async () => await backend.ReadAsync(handle, data.Length - 5, new byte[10]));
        Assert.IsNotType<StorageFileNotFoundException>(ex);
    }

    [Fact]
    public async Task Every_file_type_lands_in_its_place_and_lists_by_type()
    {
        await using var backend = await FreshAsync();
        Assert.Empty(await ListAsync(backend, FileType.Config));
        await backend.SaveAsync(FileHandle.Config, new MemoryStream(Random(155, 2)));
        foreach (var (type, i) in new[] { (FileType.Key, 10), (FileType.Lock, 11), (FileType.Snapshot, 12), (FileType.Index, 13), (FileType.Pack, 14), (FileType.Pack, 15) })
        {
            await backend.SaveAsync(new FileHandle(type, Id(i)), new MemoryStream(Random(i, i)));
        }

        Assert.Equal([new StorageFileInfo(string.Empty, 155)], await ListAsync(backend, FileType.Config));
        Assert.Equal([new StorageFileInfo(Id(10), 10)], await ListAsync(backend, FileType.Key));
        Assert.Equal([new StorageFileInfo(Id(11), 11)], await ListAsync(backend, FileType.Lock));
        Assert.Equal([new StorageFileInfo(Id(12), 12)], await ListAsync(backend, FileType.Snapshot));
        Assert.Equal([new StorageFileInfo(Id(13), 13)], await ListAsync(backend, FileType.Index));
        Assert.Equal(new[] { new StorageFileInfo(Id(14), 14), new StorageFileInfo(Id(15), 15) }.OrderBy(f => f.Name),
            (await ListAsync(backend, FileType.Pack)).OrderBy(f => f.Name));
        Assert.Equal(155, (await backend.StatAsync(FileHandle.Config)).Size);
    }

    [Fact]
    public async Task Listing_pages_past_1000_entries()
    {
        await using var backend = await FreshAsync();
        const int count = 1_100;
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
            await backend.SaveAsync(new FileHandle(FileType.Index, Id(1000 + i)), new MemoryStream(new byte[i % 7 + 1]), ct));

        var listed = await ListAsync(backend, FileType.Index);

        Assert.Equal(count, listed.Count);
        Assert.Equal(count, listed.Select(f => f.Name).Distinct().Count());
        Assert.All(listed, f => Assert.True(ResticId.IsIdName(f.Name)));
        var expected = Enumerable.Range(0, count).ToDictionary(i => Id(1000 + i), i => (long)(i % 7 + 1));
        Assert.All(listed, f => Assert.Equal(expected[f.Name], f.Size));
    }

    [Fact]
    public async Task Remove_deletes_and_missing_files_raise_StorageFileNotFoundException()
    {
        await using var backend = await FreshAsync();
        var handle = new FileHandle(FileType.Snapshot, Id(3));
        await backend.SaveAsync(handle, new MemoryStream(Random(500, 3)));

        await backend.RemoveAsync(handle);

        Assert.Empty(await ListAsync(backend, FileType.Snapshot));
        await Assert.ThrowsAsync<StorageFileNotFoundException>(() => backend.StatAsync(handle));
        await Assert.ThrowsAsync<StorageFileNotFoundException>(() => backend.RemoveAsync(handle));
        await Assert.ThrowsAsync<StorageFileNotFoundException>(async () => await backend.ReadAsync(handle, 0, new byte[10]));
        await Assert.ThrowsAsync<StorageFileNotFoundException>(async () =>
        {
            await using var s = await backend.OpenReadAsync(handle);
            await ReadAllAsync(s);
        });
        var missing = await Assert.ThrowsAsync<StorageFileNotFoundException>(() => backend.StatAsync(FileHandle.Config));
        Assert.Equal(FileHandle.Config, missing.Handle);
    }

    [Fact]
    public async Task A_64_MiB_object_round_trips()
    {
        await using var backend = await FreshAsync();
        var data = Random(64 * 1024 * 1024, 4);
        var handle = new FileHandle(FileType.Pack, Id(4));

        await backend.SaveAsync(handle, new MemoryStream(data, writable: false));

        Assert.Equal(data.Length, (await backend.StatAsync(handle)).Size);
        await using (var s = await backend.OpenReadAsync(handle))
        {
            Assert.Equal(SHA256.HashData(data), await SHA256.HashDataAsync(s));
        }

        var window = new byte[3 * 1024 * 1024];
        await backend.ReadAsync(handle, 40 * 1024 * 1024 + 17, window);
        Assert.True(window.AsSpan().SequenceEqual(data.AsSpan(40 * 1024 * 1024 + 17, window.Length)));
    }

    [Fact]
    public async Task Thirty_two_concurrent_saves_all_land_intact()
    {
        await using var backend = await FreshAsync();
        var files = Enumerable.Range(0, 32).Select(i => (Handle: new FileHandle(FileType.Pack, Id(100 + i)), Data: Random(200_000 + i * 997, 100 + i))).ToList();

        await Task.WhenAll(files.Select(f => backend.SaveAsync(f.Handle, new MemoryStream(f.Data))));

        Assert.Equal(32, (await ListAsync(backend, FileType.Pack)).Count);
        await Task.WhenAll(files.Select(async f =>
        {
            var back = new byte[f.Data.Length];
            await backend.ReadAsync(f.Handle, 0, back);
            Assert.Equal(f.Data, back);
        }));
    }

    [Fact]
    public async Task Create_refuses_a_location_that_holds_a_repository()
    {
        await using var backend = await FreshAsync();
        await backend.SaveAsync(FileHandle.Config, new MemoryStream([1, 2, 3]));

        await Assert.ThrowsAsync<RepositoryException>(() => backend.CreateAsync());
    }

    private static async Task<List<StorageFileInfo>> ListAsync(IBackend backend, FileType type)
    {
        var result = new List<StorageFileInfo>();
        await foreach (var f in backend.ListAsync(type))
        {
            result.Add(f);
        }

        return result;
    }
}

[Collection("local")]
public sealed class LocalConformanceTests(LocalServer server) : BackendConformanceTests(server);

[Collection("s3")]
public sealed class S3ConformanceTests(S3Server server) : BackendConformanceTests(server);

[Collection("azure")]
public sealed class AzureConformanceTests(AzureServer server) : BackendConformanceTests(server);

[Collection("gcs")]
public sealed class GcsConformanceTests(GcsServer server) : BackendConformanceTests(server);

[Collection("rest")]
public sealed class RestConformanceTests(RestServer server) : BackendConformanceTests(server);
