using KubeBackup.Restic;
using KubeBackup.Restic.Checker;
using KubeBackup.Restic.Model;
using Xunit.Abstractions;

namespace KubeBackup.Tests.Restic.Checker;

/// <summary>The checker's table of every index entry: restic's merge rules, pack sizes, gaps, and its memory per entry.
/// Runs alone, since the memory measurement counts the whole process.</summary>
[Collection(nameof(MemoryMeasurement))]
public class CheckerIndexTests(ITestOutputHelper output)
{
    private static ResticId Id(int n) => ResticId.Hash(BitConverter.GetBytes(n));

    private static IndexPack Pack(int pack, params (int Blob, BlobType Type, uint Offset, uint Length, uint Ulen)[] blobs) => new()
    {
        Id = Id(1_000_000 + pack),
        Blobs = [.. blobs.Select(b => new IndexBlob(Id(b.Blob), b.Type, b.Offset, b.Length, b.Ulen))],
    };

    [Fact]
    public void Identical_entries_from_two_index_files_count_once_and_other_copies_stay()
    {
        var index = new CheckerIndex();
        index.AddIndexFile(Id(-1), new IndexDocument { Packs = [Pack(1, (1, BlobType.Data, 0, 100, 0), (2, BlobType.Tree, 100, 50, 80))] });
        // The same pack again (as after an interrupted rebuild), plus blob 1 stored a second time in pack 2.
        index.AddIndexFile(Id(-2), new IndexDocument { Packs = [Pack(1, (1, BlobType.Data, 0, 100, 0), (2, BlobType.Tree, 100, 50, 80)), Pack(2, (1, BlobType.Data, 0, 100, 0))] });
        index.Seal();

        Assert.Equal(3, index.Count);
        int position = index.Find(Id(1), BlobType.Data);
        Assert.Equal(2, index.Copies(position).Length);
        Assert.Equal([index.PackNumber(Id(1_000_001)), index.PackNumber(Id(1_000_002))], index.Copies(position).ToArray().Select(e => index[e].Pack).Order());
        Assert.Equal(-1, index.Find(Id(1), BlobType.Tree));
        Assert.Equal(-1, index.Find(Id(3), BlobType.Data));
        var pack1 = index.Packs[index.PackNumber(Id(1_000_001))];
        Assert.Equal(36 + 100 + 37 + 50 + 41, pack1.ExpectedSize);
        Assert.Equal([Id(-1), Id(-2)], pack1.IndexFiles.Select(i => index.IndexFiles[i]));
        Assert.True(pack1.HasData && pack1.HasTree);
        Assert.False(pack1.HasGapsOrOverlaps);
        Assert.Equal(36 + 100 + 37, index.Packs[index.PackNumber(Id(1_000_002))].ExpectedSize);
    }

    [Fact]
    public void Gaps_and_overlaps_are_seen_in_the_index_alone()
    {
        var index = new CheckerIndex();
        index.AddIndexFile(Id(-1), new IndexDocument
        {
            Packs =
            [
                Pack(1, (1, BlobType.Data, 0, 100, 0), (2, BlobType.Data, 150, 100, 0)),
                Pack(2, (3, BlobType.Data, 0, 100, 0), (4, BlobType.Data, 50, 100, 0)),
                Pack(3, (5, BlobType.Data, 100, 100, 0), (6, BlobType.Data, 0, 100, 0)),
            ],
        });
        index.Seal();

        Assert.True(index.Packs[0].HasGapsOrOverlaps);
        Assert.True(index.Packs[1].HasGapsOrOverlaps);
        Assert.False(index.Packs[2].HasGapsOrOverlaps); // order in the index file does not matter, offsets do
    }

    /// <summary>The bound that matters for a million-blob repository: bytes held per index entry once sealed.</summary>
    [Fact]
    public void A_million_entries_take_about_57_bytes_each_and_are_never_held_twice()
    {
        const int packs = 1000, perPack = 1000;
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var index = new CheckerIndex();
        for (int p = 0; p < packs; p++)
        {
            var pack = new IndexPack { Id = Id(-p - 1) };
            for (int b = 0; b < perPack; b++)
            {
                pack.Blobs.Add(new IndexBlob(Id(p * perPack + b), BlobType.Data, (uint)b * 1000, 1000, 0));
            }

            index.AddIndexFile(Id(-p - 10_000), new IndexDocument { Packs = [pack] });
        }

        long loaded = GC.GetTotalMemory(forceFullCollection: true);
        index.Seal();
        long after = GC.GetTotalMemory(forceFullCollection: true);
        output.WriteLine($"loaded: {(loaded - before) / (double)(packs * perPack):F1} bytes per entry");
        double perEntry = (after - before) / (double)(packs * perPack);
        output.WriteLine($"{perEntry:F1} bytes per index entry ({CheckerIndex.BytesPerEntry} in the entry table and flags)");

        Assert.Equal(packs * perPack, index.Count);
        Assert.Equal(57, CheckerIndex.BytesPerEntry);
        Assert.InRange(perEntry, 50, 64);
        GC.KeepAlive(index);
    }
}

/// <summary>Tests that measure process memory run after the parallel ones, alone.</summary>
[CollectionDefinition(nameof(MemoryMeasurement), DisableParallelization = true)]
public sealed class MemoryMeasurement;
