using System.Diagnostics;
using System.Globalization;
using KubeBackup.Restic.Pruning;
using KubeBackup.Tests.Restic.Checker;
using KubeBackup.Tests.Support;
using Xunit.Abstractions;

namespace KubeBackup.Tests.Restic.Pruning;

/// <summary>
/// How prune's memory grows with the number of blobs: a repository of many tiny blobs, half of which a forgotten snapshot
/// alone used, is pruned while the live managed heap is sampled. 100 000 blobs by default;
/// <c>KB_CHECK_MEMORY_BLOBS=1000000</c> measures a million (the figure in the README).
/// </summary>
[Collection(nameof(MemoryMeasurement))]
public class PruneMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Prune_memory_grows_by_a_bounded_amount_per_blob()
    {
        int blobs = int.TryParse(Environment.GetEnvironmentVariable("KB_CHECK_MEMORY_BLOBS"), CultureInfo.InvariantCulture, out int n) ? n : 100_000;
        using var dir = new TempDirectory("prune-mem");
        var repoPath = dir.Combine("repo");
        var full = await CheckMemoryTests.WriteRepositoryAsync(repoPath, blobs, 1000, 10, halfSnapshot: true);
        File.Delete(Path.Combine(repoPath, "snapshots", full.ToString()));
        var heap = new HeapPeakSampler();
        var clock = Stopwatch.StartNew();
        PruneResult result;
        await using (var repo = await TestRepository.OpenAsync(repoPath))
        {
            result = await repo.PruneAsync(new PruneOptions { MaxUnusedPercent = 0 });
        }

        heap.Dispose();
        double perBlob = heap.PeakAboveBaseline / (double)blobs;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"pruned {blobs} blobs ({result.UsedBlobs} used) in {clock.Elapsed.TotalSeconds:F1} s: {result.PacksDeleted} packs deleted, {result.PacksRepacked} repacked; live managed heap peak +{heap.PeakAboveBaseline / 1e6:F1} MB = {perBlob:F0} bytes per blob"));

        Assert.InRange(result.UsedBlobs, blobs / 2, blobs / 2 + blobs / 100);
        Assert.Equal(0, result.UnusedBytesAfter);
        await using (var reopened = await TestRepository.OpenAsync(repoPath))
        {
            var check = await reopened.CheckAsync(new KubeBackup.Restic.Checker.CheckOptions());
            Assert.True(check.IsClean, string.Join('\n', check.Errors));
        }

        Assert.InRange(perBlob, 1, 1000);
    }
}
