using System.Security.Cryptography;
using System.Text.Json;
using KubeBackup.Restic.Chunking;
using KubeBackup.Tests.Support;
using static KubeBackup.Tests.Restic.Chunking.ChunkingTestData;

namespace KubeBackup.Tests.Restic.Chunking;

/// <summary>
/// The key interop check: the real restic backs files up into a fresh repository, and our chunker, using that
/// repository's polynomial, must produce exactly restic's content blobs for every file, in order.
/// </summary>
public class ResticChunkerParityTests
{
    private const int MinSize = ContentDefinedChunker.MinSize;
    private const int MaxSize = ContentDefinedChunker.MaxSize;

    [Fact]
    public async Task Chunks_equal_restic_content_blobs()
    {
        using var temp = new TempDirectory("chunker-parity");
        var restic = new ResticCli(temp.Combine("repo"), Convert.ToHexString(RandomNumberGenerator.GetBytes(16)));
        await restic.RunCheckedAsync("init");

        using var config = JsonDocument.Parse(await restic.RunCheckedAsync("cat", "config"));
        var polynomial = ChunkerPolynomial.Parse(config.RootElement.GetProperty("chunker_polynomial").GetString()!);
        Assert.Equal(53, polynomial.Degree);
        Assert.True(polynomial.IsIrreducible);
        Assert.Equal(config.RootElement.GetProperty("chunker_polynomial").GetString(), polynomial.ToString());

        var files = new Dictionary<string, byte[]>
        {
            ["random-18mib.bin"] = PseudoRandom(18 * 1024 * 1024, 1),
            ["random-with-zero-runs.bin"] = RandomWithZeroRuns(2),
            ["constant-17mib.bin"] = Constant(17 * 1024 * 1024, ByteForcingMaxSizeCuts(polynomial)),
            ["small.bin"] = PseudoRandom(100_000, 3),
            ["min-size.bin"] = PseudoRandom(MinSize, 4),
            ["min-size-plus-one.bin"] = PseudoRandom(MinSize + 1, 5),
            ["zeros-min-size-plus-one.bin"] = new byte[MinSize + 1],
            ["empty.bin"] = [],
        };

        var dataDir = temp.Combine("data");
        Directory.CreateDirectory(dataDir);
        foreach (var (name, bytes) in files)
        {
            await File.WriteAllBytesAsync(Path.Combine(dataDir, name), bytes);
        }

        (await restic.RunAsync(["backup", "."], stdin: null, workingDirectory: dataDir)).EnsureSuccess("restic backup");

        using var snapshots = JsonDocument.Parse(await restic.RunCheckedAsync("snapshots", "--json"));
        var rootTree = snapshots.RootElement[0].GetProperty("tree").GetString()!;
        var contents = new Dictionary<string, List<string>>();
        await CollectFileContentsAsync(restic, rootTree, contents);

        var chunker = new ContentDefinedChunker(polynomial);
        var pieceSeed = 100;
        foreach (var (name, bytes) in files)
        {
            Assert.True(contents.TryGetValue(name, out var resticBlobs), $"restic's snapshot has no file {name}");

            chunker.Reset();
            var lengths = ChunkLengths(chunker, bytes);
            Assert.True(resticBlobs.SequenceEqual(ChunkHashes(bytes, lengths)), $"{name}: restic cut {resticBlobs.Count} chunks, we cut {lengths.Count} ({string.Join(", ", lengths)})");

            // Any split of the stream into pieces must give the same cuts.
            chunker.Reset();
            Assert.Equal(lengths, ChunkLengths(chunker, bytes, RandomPieces(pieceSeed++)));
        }

        // The files cover the interesting cases: cuts by fingerprint, MinSize cuts in zero runs, forced MaxSize cuts.
        Assert.Equal(new[] { MaxSize, MaxSize, MiB(17) - (2 * MaxSize) }, ChunkLengths(polynomial.Value, files["constant-17mib.bin"]));
        Assert.Contains(MinSize, ChunkLengths(polynomial.Value, files["random-with-zero-runs.bin"]));
        Assert.True(contents["random-18mib.bin"].Count > 3);
        Assert.Empty(contents["empty.bin"]);
    }

    private static int MiB(int n) => n * 1024 * 1024;

    // For constant bytes the fingerprint is the same after every byte, so a stream of them is cut either always at
    // MinSize or always at MaxSize. Pick a byte value for which it is MaxSize with this repository's polynomial
    // (about one value in a million is not).
    private static byte ByteForcingMaxSizeCuts(ChunkerPolynomial polynomial)
    {
        for (var b = 0x5A; ; b = (b + 1) & 0xFF)
        {
            if (ChunkLengths(polynomial.Value, Constant(MinSize + 1, (byte)b)).Count == 1)
            {
                return (byte)b;
            }
        }
    }

    private static byte[] PseudoRandom(int size, ulong seed)
    {
        var data = new byte[size];
        FillPseudoRandom(data, seed);
        return data;
    }

    private static byte[] Constant(int size, byte value)
    {
        var data = new byte[size];
        data.AsSpan().Fill(value);
        return data;
    }

    // Walks restic's tree blobs from the snapshot root and records each file's content blob IDs by name.
    private static async Task CollectFileContentsAsync(ResticCli restic, string treeId, Dictionary<string, List<string>> contents)
    {
        using var tree = JsonDocument.Parse(await restic.RunCheckedAsync("cat", "blob", treeId));
        foreach (var node in tree.RootElement.GetProperty("nodes").EnumerateArray())
        {
            var name = node.GetProperty("name").GetString()!;
            switch (node.GetProperty("type").GetString())
            {
                case "dir":
                    await CollectFileContentsAsync(restic, node.GetProperty("subtree").GetString()!, contents);
                    break;
                case "file":
                    contents[name] = node.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array
                        ? content.EnumerateArray().Select(e => e.GetString()!).ToList()
                        : [];
                    break;
            }
        }
    }
}
