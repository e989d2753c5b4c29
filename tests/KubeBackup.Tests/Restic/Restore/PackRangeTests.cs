using KubeBackup.Restic;
using KubeBackup.Restic.Archiver;
using KubeBackup.Restic.Index;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Repository;
using KubeBackup.Restic.Restorer;
using KubeBackup.Storage;
using KubeBackup.Storage.Local;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Restic.Restore;

/// <summary>Small files restored a range of a pack at a time (<see cref="PackRangeBatcher{T}"/>): few reads, the same
/// bytes, and a damaged blob fails its own files only.</summary>
public class PackRangeTests
{
    private static readonly ResticId PackA = ResticId.Hash("pack a"u8), PackB = ResticId.Hash("pack b"u8);

    private static BlobRead<int> Read(int item, ResticId pack, uint offset, uint length, string? id = null) =>
        new(ResticId.Hash(System.Text.Encoding.UTF8.GetBytes(id ?? $"blob {item}")), new BlobLocation(pack, BlobType.Data, offset, length, 0), item);

    [Fact]
    public void Ranges_follow_offsets_and_split_at_gaps_size_and_count()
    {
        var reads = new List<BlobRead<int>>
        {
            Read(3, PackA, 3000, 1000),
            Read(1, PackA, 0, 1000),
            Read(2, PackA, 1000, 2000),
            // A gap larger than the limit: a range of its own.
            Read(4, PackA, 4000 + PackRangeBatcher<int>.MaxGapBytes + 1, 500),
            // Too large to share a range with its neighbour.
            Read(5, PackA, 10_000_000, 1000),
            Read(6, PackA, 10_001_000, PackRangeBatcher<int>.MaxRangeBytes),
        };

        var ranges = PackRangeBatcher<int>.Cut(PackA, reads);

        Assert.Equal([[1, 2, 3], [4], [5], [6]], ranges.Select(r => r.Reads.Select(x => x.Item).ToArray()));
        Assert.Equal((0L, 4000), (ranges[0].Offset, ranges[0].Length));
        Assert.Equal(500, ranges[1].Length);
        Assert.All(ranges, r => Assert.All(r.Reads, x => Assert.InRange(x.Location.Offset - r.Offset, 0, r.Length - x.Location.Length)));

        var many = Enumerable.Range(0, (2 * PackRangeBatcher<int>.MaxReadsPerRange) + 1).Select(i => Read(i, PackB, (uint)(i * 100), 100)).ToList();
        Assert.Equal([PackRangeBatcher<int>.MaxReadsPerRange, PackRangeBatcher<int>.MaxReadsPerRange, 1], PackRangeBatcher<int>.Cut(PackB, many).Select(r => r.Reads.Length));
    }

    [Fact]
    public void The_same_blob_needed_twice_is_adjacent_and_a_batch_is_sent_when_full_or_when_too_much_waits()
    {
        var ranges = PackRangeBatcher<int>.Cut(PackA, [Read(1, PackA, 500, 100, "x"), Read(2, PackA, 0, 100, "y"), Read(3, PackA, 500, 100, "x")]);
        Assert.Equal([2, 1, 3], Assert.Single(ranges).Reads.Select(r => r.Item));

        var batcher = new PackRangeBatcher<int>();
        for (int i = 0; i < PackRangeBatcher<int>.MaxReadsPerRange - 1; i++)
        {
            Assert.Empty(batcher.Add(Read(i, PackA, (uint)(i * 100), 100)));
        }

        var full = Assert.Single(batcher.Add(Read(99, PackA, 99_000, 100)));
        Assert.Equal(PackRangeBatcher<int>.MaxReadsPerRange, full.Reads.Length);
        Assert.Equal(0, batcher.Waiting);

        // Reads spread over many packs: the fullest pack goes out once too many wait.
        var sent = new List<PackRange<int>>();
        for (int i = 0; i < PackRangeBatcher<int>.MaxWaiting; i++)
        {
            var pack = i % 3 == 0 ? PackA : ResticId.Hash(BitConverter.GetBytes(i));
            sent.AddRange(batcher.Add(Read(i, pack, (uint)(i * 100), 100)));
        }

        Assert.Equal(PackA, Assert.Single(sent).Pack);
        Assert.True(batcher.Waiting < PackRangeBatcher<int>.MaxWaiting);
        int waiting = batcher.Waiting;
        Assert.Equal(waiting, batcher.Flush().Sum(r => r.Reads.Length));
        Assert.Equal(0, batcher.Waiting);
    }

    [Fact]
    public async Task Many_small_files_restore_byte_identical_with_far_fewer_reads_than_files()
    {
        using var dir = new TempDirectory();
        var source = dir.Combine("src");
        int files = WriteSmallFiles(source, count: 300, duplicateEvery: 7);
        var repoPath = dir.Combine("repo");
        var snapshot = await BackupAsync(repoPath, source);

        var backend = new HookBackend(new LocalBackend(new LocalBackendOptions { Path = repoPath, Durable = false }));
        int packReads = 0;
        backend.BeforeRead = (handle, _, _) =>
        {
            if (handle.Type == FileType.Pack)
            {
                Interlocked.Increment(ref packReads);
            }
        };
        await using var repo = await ResticRepository.OpenAsync(backend, TestRepository.Password, TestRepository.Options());
        var restore = await repo.RestoreAsync(snapshot, new RestoreOptions { Target = dir.Combine("out") });

        Assert.True(restore.IsComplete, string.Join("\n", restore.Errors));
        Assert.Equal(SimpleTree.Describe(source), SimpleTree.Describe(Path.Combine(dir.Combine("out"), source.TrimStart('/'))));
        // One read per file would be 300; in ranges of up to 16 blobs a few dozen suffice.
        Assert.True(packReads * 4 <= files, $"{packReads} pack reads for {files} files");
    }

    [Fact]
    public async Task A_large_file_is_fetched_a_few_consecutive_blobs_per_read()
    {
        using var dir = new TempDirectory();
        var source = dir.Combine("src");
        Directory.CreateDirectory(source);
        var data = new byte[24 << 20];
        new Random(37).NextBytes(data);
        await File.WriteAllBytesAsync(Path.Combine(source, "large.bin"), data);
        var repoPath = dir.Combine("repo");
        Snapshot snapshot;
        // One saver, so the file's chunks are stored one after another (with several, neighbours may go to different
        // packs); a fixed polynomial, so the chunks are the same every run.
        var single = TestRepository.Options();
        single.Parallelism = 1;
        await using (var writer = await TestRepository.InitAsync(repoPath, options: single, polynomial: TestRepository.FixedPolynomial))
        {
            var options = new BackupOptions();
            options.Paths.Add(source);
            snapshot = (await writer.BackupAsync(options)).Snapshot;
        }

        var backend = new HookBackend(new LocalBackend(new LocalBackendOptions { Path = repoPath, Durable = false }));
        await using var repo = await ResticRepository.OpenAsync(backend, TestRepository.Password, TestRepository.Options());
        int blobs = (await repo.FindNodeAsync(snapshot, source + "/large.bin")).Content!.Count;
        int dataReads = 0;
        backend.BeforeRead = (handle, _, length) =>
        {
            // The file's chunks are at least 512 KiB (but the last); the trees on the way to it a few hundred bytes.
            if (handle.Type == FileType.Pack && length >= 128 * 1024)
            {
                Interlocked.Increment(ref dataReads);
            }
        };
        var restore = await repo.RestoreAsync(snapshot, new RestoreOptions { Target = dir.Combine("out") });

        Assert.True(restore.IsComplete, string.Join("\n", restore.Errors));
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(dir.Combine("out"), source.TrimStart('/'), "large.bin")));
        Assert.True(blobs >= 12, $"the test needs a file of many blobs ({blobs})");
        // Ranges of up to 4 MiB in 4 MiB packs: two or three chunks per read here, one each before.
        Assert.True(dataReads * 3 <= blobs * 2, $"{dataReads} reads for {blobs} chunks");
    }

    [Fact]
    public async Task A_damaged_blob_fails_only_the_files_that_hold_it_not_its_neighbours_in_the_range()
    {
        using var dir = new TempDirectory();
        var source = dir.Combine("src");
        WriteSmallFiles(source, count: 40, duplicateEvery: 0);
        File.Copy(Path.Combine(source, "f-010.txt"), Path.Combine(source, "same-as-010.txt"));
        var repoPath = dir.Combine("repo");
        var snapshot = await BackupAsync(repoPath, source);

        await using var repo = await TestRepository.OpenAsync(repoPath);
        await repo.LoadIndexAsync();
        var node = await repo.FindNodeAsync(snapshot, source + "/f-010.txt");
        Assert.True(repo.Index.TryGet(node.Content![0], BlobType.Data, out var location));
        var pack = Path.Combine(repoPath, "data", location.PackId.ToString()[..2], location.PackId.ToString());
        File.SetUnixFileMode(pack, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var bytes = File.ReadAllBytes(pack);
        bytes[location.Offset + (location.Length / 2)] ^= 0x40;
        File.WriteAllBytes(pack, bytes);

        var target = dir.Combine("out");
        var restore = await repo.RestoreAsync(snapshot, new RestoreOptions { Target = target });

        var restored = Path.Combine(target, source.TrimStart('/'));
        Assert.Equal(["/f-010.txt", "/same-as-010.txt"], restore.Errors.Select(e => e.Path[e.Path.LastIndexOf('/')..]).Order(StringComparer.Ordinal));
        Assert.All(restore.Errors, e => Assert.IsType<IntegrityException>(e.Exception));
        Assert.False(File.Exists(Path.Combine(restored, "f-010.txt")));
        Assert.False(File.Exists(Path.Combine(restored, "same-as-010.txt")));
        foreach (var file in Directory.GetFiles(source).Where(f => !f.EndsWith("010.txt", StringComparison.Ordinal)))
        {
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(restored, Path.GetFileName(file))));
        }
    }

    /// <summary>Small files of random text (some compress, all differ), every n-th a copy of an earlier one.</summary>
    private static int WriteSmallFiles(string folder, int count, int duplicateEvery)
    {
        Directory.CreateDirectory(folder);
        var rng = new Random(31);
        for (int i = 0; i < count; i++)
        {
            string path = Path.Combine(folder, $"f-{i:D3}.txt");
            if (duplicateEvery > 0 && i > 0 && i % duplicateEvery == 0)
            {
                File.Copy(Path.Combine(folder, $"f-{i / 2:D3}.txt"), path);
                continue;
            }

            var text = string.Join(' ', Enumerable.Range(0, rng.Next(20, 600)).Select(_ => rng.Next(0, 5000).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            File.WriteAllText(path, text);
        }

        return count;
    }

    private static async Task<Snapshot> BackupAsync(string repoPath, string source)
    {
        await using var repo = await TestRepository.InitAsync(repoPath);
        var options = new BackupOptions();
        options.Paths.Add(source);
        var result = await repo.BackupAsync(options);
        Assert.True(result.IsComplete);
        return result.Snapshot;
    }
}
