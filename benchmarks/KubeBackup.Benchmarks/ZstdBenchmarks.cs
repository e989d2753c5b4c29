using BenchmarkDotNet.Attributes;
using KubeBackup.Restic.Compression;

namespace KubeBackup.Benchmarks;

/// <summary>zstd at restic's "auto" level (3) on 1 MiB of the dataset's text and of incompressible bytes (which every
/// large file of a typical backup is, and which restic still tries to compress).</summary>
[MemoryDiagnoser]
public class ZstdBenchmarks
{
    private const int Size = 1 * TestData.MiB;

    private byte[] _text = [];
    private byte[] _random = [];
    private byte[] _compressedText = [];
    private byte[] _destination = [];

    [GlobalSetup]
    public void Setup()
    {
        _text = TestData.Text(Size);
        _random = TestData.Random(Size, "zstd");
        _destination = new byte[Zstd.CompressBound(Size)];
        int n = Zstd.Compress(_text, _destination, Zstd.DefaultLevel);
        _compressedText = _destination.AsSpan(0, n).ToArray();
        Console.WriteLine($"// zstd -3 ratio: text {Size / (double)n:F2}x, random {Size / (double)Zstd.Compress(_random, _destination, Zstd.DefaultLevel):F3}x");
    }

    [Benchmark(Description = "Zstd.Compress L3 text 1 MiB")]
    [Throughput(Bytes = Size)]
    public int CompressText() => Zstd.Compress(_text, _destination, Zstd.DefaultLevel);

    [Benchmark(Description = "Zstd.Compress L3 random 1 MiB")]
    [Throughput(Bytes = Size)]
    public int CompressRandom() => Zstd.Compress(_random, _destination, Zstd.DefaultLevel);

    [Benchmark(Description = "Zstd.DecompressExact text 1 MiB")]
    [Throughput(Bytes = Size)]
    public void DecompressText() => Zstd.DecompressExact(_compressedText, _destination.AsSpan(0, Size));
}
