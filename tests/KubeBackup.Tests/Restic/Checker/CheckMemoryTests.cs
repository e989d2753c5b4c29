using System.Diagnostics;
using System.Globalization;
using KubeBackup.Restic;
using KubeBackup.Restic.Checker;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Repository;
using KubeBackup.Tests.Support;
using Xunit.Abstractions;

namespace KubeBackup.Tests.Restic.Checker;

/// <summary>
/// How a check's memory grows with the number of blobs: a repository with many tiny blobs (the worst case per byte
/// stored) is checked with read-data while the managed heap is sampled. 100 000 blobs by default;
/// <c>KB_CHECK_MEMORY_BLOBS=1000000</c> measures a million.
/// </summary>
[Collection(nameof(MemoryMeasurement))]
public class CheckMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Check_memory_grows_by_a_bounded_amount_per_blob()
    {
        int blobs = int.TryParse(Environment.GetEnvironmentVariable("KB_CHECK_MEMORY_BLOBS"), CultureInfo.InvariantCulture, out int n) ? n : 100_000;
        const int blobsPerFile = 1000, filesPerDir = 10;
        using var dir = new TempDirectory("check-mem");
        var repoPath = dir.Combine("repo");
        var clock = Stopwatch.StartNew();
        // Written in a method of its own: its locals (the writer's index and dedup set) must be gone before measuring.
        await WriteRepositoryAsync(repoPath, blobs, blobsPerFile, filesPerDir);
        output.WriteLine($"wrote {blobs} blobs in {clock.Elapsed.TotalSeconds:F1} s");
        var heap = new HeapPeakSampler();
        clock.Restart();
        CheckResult result;
        await using (var repo = await TestRepository.OpenAsync(repoPath))
        {
            result = await repo.CheckAsync(new CheckOptions { ReadData = true });
        }

        heap.Dispose();
        double perBlob = heap.PeakAboveBaseline / (double)blobs;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"checked {result.Blobs} blobs in {result.Packs} packs in {clock.Elapsed.TotalSeconds:F1} s; live managed heap peak +{heap.PeakAboveBaseline / 1e6:F1} MB = {perBlob:F0} bytes per blob"));

        Assert.True(result.IsClean, string.Join('\n', result.Errors));
        Assert.True(result.Blobs >= blobs);
        // The table itself is 57 bytes per entry; index files being decoded and pack buffers come on top, a constant.
        Assert.InRange(perBlob, 1, 400);
    }

    /// <summary>A repository of <paramref name="blobs"/> tiny data blobs in one snapshot; with <paramref name="halfSnapshot"/>
    /// a second snapshot references only every other folder, so forgetting the first leaves half the blobs unused.</summary>
    internal static async Task<ResticId> WriteRepositoryAsync(string repoPath, int blobs, int blobsPerFile, int filesPerDir, bool halfSnapshot = false)
    {
        await using (var repo = await TestRepository.InitAsync(repoPath, version: 2, TestRepository.Options()))
        {
            await using var forger = new RepositoryForger(repo);
            var dirs = new List<Node>();
            var blob = new byte[64];
            for (int d = 0; d * blobsPerFile * filesPerDir < blobs; d++)
            {
                var files = new List<Node>();
                for (int f = 0; f < filesPerDir; f++)
                {
                    var content = new List<ResticId>(blobsPerFile);
                    for (int b = 0; b < blobsPerFile; b++)
                    {
                        BitConverter.TryWriteBytes(blob, ((d * filesPerDir) + f) * blobsPerFile + b);
                        content.Add(await forger.BlobAsync(BlobType.Data, blob));
                    }

                    var file = await forger.FileAsync($"f{f:D2}", "");
                    file.Content = content;
                    file.Size = (ulong)(content.Count * blob.Length);
                    files.Add(file);
                }

                dirs.Add(RepositoryForger.Dir($"d{d:D4}", await forger.TreeAsync([.. files])));
            }

            var root = await forger.TreeAsync([.. dirs]);
            if (halfSnapshot)
            {
                await forger.SnapshotAsync(await forger.TreeAsync([.. dirs.Where((_, i) => i % 2 == 0)]));
            }

            return (await forger.SnapshotAsync(root)).Id;
        }
    }
}
