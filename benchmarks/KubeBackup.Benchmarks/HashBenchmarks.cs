using BenchmarkDotNet.Attributes;
using KubeBackup.Restic;

namespace KubeBackup.Benchmarks;

/// <summary>SHA-256 as every blob and file ID is computed (ResticId.Hash over a span).</summary>
[MemoryDiagnoser]
public class HashBenchmarks
{
    private byte[] _data = [];

    [Params(1 * TestData.MiB, 8 * TestData.MiB)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup() => _data = TestData.Random(Size, "sha256");

    [Benchmark(Description = "ResticId.Hash (SHA-256)")]
    [Throughput(Parameter = nameof(Size))]
    public ResticId Hash() => ResticId.Hash(_data);
}
