using BenchmarkDotNet.Attributes;
using KubeBackup.Restic;
using KubeBackup.Restic.Index;
using KubeBackup.Restic.Model;

namespace KubeBackup.Benchmarks;

/// <summary>The in-memory master index at the size of a large repository: 1,000,000 blobs in 1,000 packs. Lookups
/// are what a backup does for every chunk (is it new?) and a restore for every blob (where is it?).</summary>
[MemoryDiagnoser]
public class IndexBenchmarks
{
    private const int BlobCount = 1_000_000;
    private const int BlobsPerPack = 1000;
    private const int Lookups = 1024;

    private readonly List<(ResticId Pack, IndexBlob[] Blobs)> _packs = [];
    private MasterIndex _index = null!;
    private ResticId[] _present = [];
    private ResticId[] _absent = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        var bytes = new byte[32];
        ResticId NextId()
        {
            random.NextBytes(bytes);
            return ResticId.FromBytes(bytes);
        }

        for (int p = 0; p < BlobCount / BlobsPerPack; p++)
        {
            var blobs = new IndexBlob[BlobsPerPack];
            uint offset = 0;
            for (int b = 0; b < blobs.Length; b++)
            {
                blobs[b] = new IndexBlob(NextId(), BlobType.Data, offset, 16 * 1024, 48 * 1024);
                offset += 16 * 1024;
            }

            _packs.Add((NextId(), blobs));
        }

        _index = Build();
        _present = Enumerable.Range(0, Lookups).Select(_ => _packs[random.Next(_packs.Count)].Blobs[random.Next(BlobsPerPack)].Id).ToArray();
        _absent = Enumerable.Range(0, Lookups).Select(_ => NextId()).ToArray();
    }

    private MasterIndex Build()
    {
        var index = new MasterIndex();
        foreach (var (pack, blobs) in _packs)
        {
            index.AddPack(pack, blobs);
        }

        return index;
    }

    [Benchmark(Description = "MasterIndex.TryGet hit (1M blobs)", OperationsPerInvoke = Lookups)]
    public int TryGetPresent()
    {
        int found = 0;
        foreach (var id in _present)
        {
            found += _index.TryGet(id, BlobType.Data, out _) ? 1 : 0;
        }

        return found;
    }

    [Benchmark(Description = "MasterIndex.TryGet miss (1M blobs)", OperationsPerInvoke = Lookups)]
    public int TryGetAbsent()
    {
        int found = 0;
        foreach (var id in _absent)
        {
            found += _index.TryGet(id, BlobType.Data, out _) ? 1 : 0;
        }

        return found;
    }

    // Building the index is what opening a repository costs; the allocation column shows its memory per blob.
    [Benchmark(Description = "MasterIndex build (1M blobs)")]
    public int BuildIndex() => Build().Count;
}
