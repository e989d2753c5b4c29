using BenchmarkDotNet.Attributes;
using KubeBackup.Restic.Chunking;

namespace KubeBackup.Benchmarks;

/// <summary>The content-defined chunker alone: the Rabin fingerprint rolled over every byte of a 64 MiB buffer, cut
/// after cut, as a backup scans a large file. Random data gives restic's average chunk (~1.5 MiB).</summary>
[MemoryDiagnoser]
public class ChunkerBenchmarks
{
    private const int Size = 64 * TestData.MiB;

    // A fixed irreducible degree-53 polynomial (restic's own test polynomial): repositories each draw a random one,
    // and the speed does not depend on which.
    private static readonly ChunkerPolynomial Polynomial = new(0x3DA3358B4DC173UL);

    private byte[] _data = [];
    private ContentDefinedChunker _chunker = null!;

    [GlobalSetup]
    public void Setup()
    {
        _data = TestData.Random(Size, "chunker");
        _chunker = new ContentDefinedChunker(Polynomial);
    }

    [Benchmark(Description = "FindBoundary 64 MiB")]
    [Throughput(Bytes = Size)]
    public int FindBoundary()
    {
        _chunker.Reset();
        ReadOnlySpan<byte> rest = _data;
        int chunks = 0;
        while (!rest.IsEmpty)
        {
            int cut = _chunker.FindBoundary(rest);
            if (cut < 0)
            {
                break;
            }

            chunks++;
            rest = rest[cut..];
        }

        return chunks + 1;
    }
}
