using System.Security.Cryptography;
using KubeBackup.Restic.Chunking;

namespace KubeBackup.Tests.Restic.Chunking;

/// <summary>Helpers shared by the chunker tests: drive the push API, a literal reference chunker, test data.</summary>
internal static class ChunkingTestData
{
    /// <summary>restic/chunker's test polynomial.</summary>
    public const ulong TestPol = 0x3DA3358B4DC173;

    private static readonly Lazy<byte[]> Seed23 = new(() => GoLegacyRandom.ChunkerTestData(23, 32 * 1024 * 1024));

    /// <summary>restic/chunker's 32 MiB input: Go's math/rand seeded with 23, Uint32 little endian.</summary>
    public static byte[] GoSeed23Data => Seed23.Value;

    /// <summary>Chunk lengths for <paramref name="data"/> fed in pieces whose sizes <paramref name="nextPiece"/> picks.</summary>
    public static List<int> ChunkLengths(ContentDefinedChunker chunker, ReadOnlySpan<byte> data, Func<int>? nextPiece = null)
    {
        var lengths = new List<int>();
        var chunkStart = 0;
        var pos = 0;
        while (pos < data.Length)
        {
            var n = Math.Min(nextPiece?.Invoke() ?? data.Length, data.Length - pos);
            var piece = data.Slice(pos, n);
            var offset = 0;
            while (offset < piece.Length)
            {
                var r = chunker.FindBoundary(piece[offset..]);
                if (r < 0)
                {
                    break;
                }

                Assert.InRange(r, 1, piece.Length - offset);
                offset += r;
                lengths.Add(pos + offset - chunkStart);
                chunkStart = pos + offset;
            }

            pos += n;
        }

        if (chunkStart < data.Length)
        {
            lengths.Add(data.Length - chunkStart);
        }

        return lengths;
    }

    /// <summary>Chunk lengths with a fresh chunker for <paramref name="polynomial"/>.</summary>
    public static List<int> ChunkLengths(ulong polynomial, ReadOnlySpan<byte> data, Func<int>? nextPiece = null) =>
        ChunkLengths(new ContentDefinedChunker(new ChunkerPolynomial(polynomial)), data, nextPiece);

    /// <summary>SHA-256 (lower-case hex) of each chunk, in order.</summary>
    public static List<string> ChunkHashes(ReadOnlySpan<byte> data, IEnumerable<int> lengths)
    {
        var hashes = new List<string>();
        var pos = 0;
        foreach (var length in lengths)
        {
            hashes.Add(Convert.ToHexStringLower(SHA256.HashData(data.Slice(pos, length))));
            pos += length;
        }

        Assert.Equal(data.Length, pos);
        return hashes;
    }

    /// <summary>A piece-size picker mixing 1-byte pieces, small ones and large ones, seeded for reproducibility.</summary>
    public static Func<int> RandomPieces(int seed)
    {
        var rnd = new Random(seed);
        return () => rnd.Next(10) switch
        {
            0 => 1,
            1 => rnd.Next(1, 64),
            2 or 3 or 4 => rnd.Next(64, 8192),
            _ => rnd.Next(8192, 3 * 1024 * 1024),
        };
    }

    /// <summary>Deterministic pseudo-random bytes (SplitMix64), independent of the runtime's Random algorithms.</summary>
    public static void FillPseudoRandom(Span<byte> buffer, ulong seed)
    {
        var state = seed;
        var i = 0;
        for (; i + 8 <= buffer.Length; i += 8)
        {
            BitConverter.TryWriteBytes(buffer[i..], Next(ref state));
        }

        var last = Next(ref state);
        for (; i < buffer.Length; i++, last >>= 8)
        {
            buffer[i] = (byte)last;
        }

        static ulong Next(ref ulong s)
        {
            var z = s += 0x9E3779B97F4A7C15;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
            return z ^ (z >> 31);
        }
    }

    /// <summary>Random data interleaved with long zero runs (some longer than MaxSize), to mix cut kinds.</summary>
    public static byte[] RandomWithZeroRuns(ulong seed)
    {
        int[] segments = [3_000_000, 2 * 1024 * 1024, 700_000, 9 * 1024 * 1024, 1_500_000, 600_000, 3_333_333, 100, 1_000_000];
        var data = new byte[segments.Sum()];
        var pos = 0;
        for (var i = 0; i < segments.Length; i++)
        {
            if (i % 2 == 0)
            {
                FillPseudoRandom(data.AsSpan(pos, segments[i]), seed + (ulong)i);
            }

            pos += segments[i];
        }

        return data;
    }

    /// <summary>
    /// The chunker written as literally as possible from the format spec: a 64-byte ring, the reset that slides in a
    /// byte of value 1, the unhashed prefix, one byte at a time. Slow, but an independent check of the fast one.
    /// </summary>
    public static List<int> ReferenceChunkLengths(ulong polynomial, ReadOnlySpan<byte> data)
    {
        const int windowSize = 64;
        const ulong mask = (1UL << 20) - 1;
        var degree = new ChunkerPolynomial(polynomial).Degree;
        var shift = degree - 8;
        var outTable = new ulong[256];
        var modTable = new ulong[256];
        for (var b = 0; b < 256; b++)
        {
            // b·X^(8·63) mod P, by appending b and 63 zero bytes to an empty hash.
            ulong h = (ulong)b;
            for (var i = 0; i < windowSize - 1; i++)
            {
                h = ChunkerPolynomial.Mod(h << 8, polynomial);
            }

            outTable[b] = ChunkerPolynomial.Mod(h, polynomial);
            modTable[b] = ChunkerPolynomial.Mod((ulong)b << degree, polynomial) | ((ulong)b << degree);
        }

        var window = new byte[windowSize];
        var wpos = 0;
        ulong digest = 0;
        var count = 0;
        var pre = 0;

        void Slide(byte b)
        {
            var o = window[wpos];
            window[wpos] = b;
            digest ^= outTable[o];
            wpos = (wpos + 1) % windowSize;
            var index = digest >> shift;
            digest = ((digest << 8) | b) ^ modTable[index];
        }

        void Reset()
        {
            Array.Clear(window);
            wpos = 0;
            digest = 0;
            Slide(1);
            count = 0;
            pre = ContentDefinedChunker.MinSize - windowSize;
        }

        Reset();
        var lengths = new List<int>();
        for (var i = 0; i < data.Length;)
        {
            if (pre > 0)
            {
                var skip = Math.Min(pre, data.Length - i);
                pre -= skip;
                count += skip;
                i += skip;
                continue;
            }

            Slide(data[i++]);
            count++;
            if (count >= ContentDefinedChunker.MinSize && ((digest & mask) == 0 || count >= ContentDefinedChunker.MaxSize))
            {
                lengths.Add(count);
                Reset();
            }
        }

        if (count > 0)
        {
            lengths.Add(count);
        }

        return lengths;
    }
}
