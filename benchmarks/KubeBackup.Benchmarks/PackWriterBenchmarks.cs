using BenchmarkDotNet.Attributes;
using KubeBackup.Restic;
using KubeBackup.Restic.Crypto;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Packs;

namespace KubeBackup.Benchmarks;

/// <summary>Writing one 16 MiB pack: appending already sealed blobs to the staging file (with the running SHA-256
/// that names the pack), then the sealed header. Large blobs measure the byte path; 4 KiB blobs (the size of
/// small files and trees) measure the per-blob cost and the header.</summary>
[MemoryDiagnoser]
public class PackWriterBenchmarks
{
    private const int PackBytes = 16 * TestData.MiB;

    private readonly List<(ResticId Id, byte[] Sealed)> _blobs = [];
    private CryptoKey _key = null!;
    private string _directory = "";

    [Params(4 * TestData.KiB, 1 * TestData.MiB)]
    public int BlobSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _key = CryptoKey.CreateRandom();
        _directory = Directory.CreateTempSubdirectory("kubebackup-bench-").FullName;
        var plaintext = TestData.Random(PackBytes, "pack");
        for (int offset = 0; offset < PackBytes; offset += BlobSize)
        {
            var blob = plaintext.AsSpan(offset, BlobSize);
            _blobs.Add((ResticId.Hash(blob), _key.Seal(blob)));
        }
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_directory, recursive: true);

    [Benchmark(Description = "PackWriter 16 MiB")]
    [Throughput(Bytes = PackBytes)]
    public ResticId WritePack()
    {
        using var writer = new PackWriter(BlobType.Data, _directory);
        foreach (var (id, sealedBlob) in _blobs)
        {
            writer.Add(id, sealedBlob, 0);
        }

        return writer.Finish(_key);
    }
}
