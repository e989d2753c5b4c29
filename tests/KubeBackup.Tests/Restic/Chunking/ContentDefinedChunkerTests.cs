using System.Security.Cryptography;
using KubeBackup.Restic.Chunking;
using static KubeBackup.Tests.Restic.Chunking.ChunkingTestData;

namespace KubeBackup.Tests.Restic.Chunking;

public class ContentDefinedChunkerTests
{
    private const int MinSize = ContentDefinedChunker.MinSize;
    private const int MaxSize = ContentDefinedChunker.MaxSize;

    // restic/chunker's chunks1 (chunker_test.go): 32 MiB of Go math/rand seeded 23, polynomial 0x3DA3358B4DC173.
    // Length, fingerprint at the cut, SHA-256. The last chunk ends at EOF, where restic reports fingerprint 1.
    private static readonly (int Length, ulong Cut, string Sha256)[] Chunks1 =
    [
        (2163460, 0x000b98d4cdf00000, "4b94cb2cf293855ea43bf766731c74969b91aa6bf3c078719aabdd19860d590d"),
        (643703, 0x000d4e8364d00000, "5727a63c0964f365ab8ed2ccf604912f2ea7be29759a2b53ede4d6841e397407"),
        (1528956, 0x0015a25c2ef00000, "a73759636a1e7a2758767791c69e81b69fb49236c6929e5d1b654e06e37674ba"),
        (1955808, 0x00102a8242e00000, "c955fb059409b25f07e5ae09defbbc2aadf117c97a3724e06ad4abd2787e6824"),
        (2222372, 0x00045da878000000, "6ba5e9f7e1b310722be3627716cf469be941f7f3e39a4c3bcefea492ec31ee56"),
        (2538687, 0x00198a8179900000, "8687937412f654b5cfe4a82b08f28393a0c040f77c6f95e26742c2fc4254bfde"),
        (609606, 0x001d4e8d17100000, "5da820742ff5feb3369112938d3095785487456f65a8efc4b96dac4be7ebb259"),
        (1205738, 0x000a7204dd600000, "cc70d8fad5472beb031b1aca356bcab86c7368f40faa24fe5f8922c6c268c299"),
        (959742, 0x00183e71e1400000, "4065bdd778f95676c92b38ac265d361f81bff17d76e5d9452cf985a2ea5a4e39"),
        (4036109, 0x001fec043c700000, "b9cf166e75200eb4993fc9b6e22300a6790c75e6b0fc8f3f29b68a752d42f275"),
        (1525894, 0x000b1574b1500000, "2f238180e4ca1f7520a05f3d6059233926341090f9236ce677690c1823eccab3"),
        (1352720, 0x00018965f2e00000, "afd12f13286a3901430de816e62b85cc62468c059295ce5888b76b3af9028d84"),
        (811884, 0x00155628aa100000, "42d0cdb1ee7c48e552705d18e061abb70ae7957027db8ae8db37ec756472a70a"),
        (1282314, 0x001909a0a1400000, "819721c2457426eb4f4c7565050c44c32076a56fa9b4515a1c7796441730eb58"),
        (1318021, 0x001cceb980000000, "842eb53543db55bacac5e25cb91e43cc2e310fe5f9acc1aee86bdf5e91389374"),
        (948640, 0x0011f7a470a00000, "b8e36bf7019bb96ac3fb7867659d2167d9d3b3148c09fe0de45850b8fe577185"),
        (645464, 0x00030ce2d9400000, "5584bd27982191c3329f01ed846bfd266e96548dfa87018f745c33cfc240211d"),
        (533758, 0x0004435c53c00000, "4da778a25b72a9a0d53529eccfe2e5865a789116cb1800f470d8df685a8ab05d"),
        (1128303, 0x0000c48517800000, "08c6b0b38095b348d80300f0be4c5184d2744a17147c2cba5cc4315abf4c048f"),
        (800374, 0x000968473f900000, "820284d2c8fd243429674c996d8eb8d3450cbc32421f43113e980f516282c7bf"),
        (2453512, 0x001e197c92600000, "5fa870ed107c67704258e5e50abe67509fb73562caf77caa843b5f243425d853"),
        (2651975, 0x000ae6c868000000, "181347d2bbec32bef77ad5e9001e6af80f6abcf3576549384d334ee00c1988d8"),
        (237392, 0x0000000000000001, "fcd567f5d866357a8e299fd5b2359bb2c8157c30395229c4e9b0a353944a7978"),
    ];

    // The ID of a 512 KiB chunk of zeros (restic/chunker's chunks2).
    private const string ZeroChunkSha256 = "07854d2fef297a06ba81685e660c332de36d5d18d546927d30daad6d7fda1541";

    private static ContentDefinedChunker NewChunker(ulong polynomial = TestPol) => new(new ChunkerPolynomial(polynomial));

    [Fact]
    public void Chunks1_matches_restic_chunker_vectors()
    {
        var data = GoSeed23Data;
        var chunker = NewChunker();
        var cuts = new List<ulong>();
        var lengths = new List<int>();
        var span = data.AsSpan();
        while (true)
        {
            var n = chunker.FindBoundary(span);
            if (n < 0)
            {
                break;
            }

            lengths.Add(n);
            cuts.Add(chunker.LastCutFingerprint);
            span = span[n..];
        }

        lengths.Add(span.Length);

        Assert.Equal(Chunks1.Select(c => c.Length), lengths);
        Assert.Equal(Chunks1[..^1].Select(c => c.Cut), cuts);
        Assert.Equal(Chunks1.Select(c => c.Sha256), ChunkHashes(data, lengths));
    }

    [Fact]
    public void Chunks1_does_not_depend_on_how_the_stream_is_split()
    {
        var data = GoSeed23Data;
        var expected = Chunks1.Select(c => c.Length).ToList();
        Assert.Equal(expected, ChunkLengths(TestPol, data, RandomPieces(1)));
        Assert.Equal(expected, ChunkLengths(TestPol, data, RandomPieces(2)));
        Assert.Equal(expected, ChunkLengths(TestPol, data, () => 1));
        Assert.Equal(expected, ChunkLengths(TestPol, data, () => 63));
        Assert.Equal(expected, ChunkLengths(TestPol, data, () => 64));
        Assert.Equal(expected, ChunkLengths(TestPol, data, () => 65));
        Assert.Equal(expected, ChunkLengths(TestPol, data, () => MinSize));
    }

    [Fact]
    public void Chunks1_matches_the_literal_reference_chunker()
    {
        var data = GoSeed23Data;
        Assert.Equal(Chunks1.Select(c => c.Length), ReferenceChunkLengths(TestPol, data));
    }

    [Fact]
    public void Chunks2_zeros_cut_at_MinSize()
    {
        var data = new byte[4 * MinSize];
        var lengths = ChunkLengths(TestPol, data);
        Assert.Equal([MinSize, MinSize, MinSize, MinSize], lengths);
        Assert.All(ChunkHashes(data, lengths), h => Assert.Equal(ZeroChunkSha256, h));
        Assert.Equal(lengths, ChunkLengths(TestPol, data, RandomPieces(3)));
    }

    [Fact]
    public void Random_polynomials_agree_with_the_reference_on_mixed_data()
    {
        var data = RandomWithZeroRuns(7);
        for (var i = 0; i < 3; i++)
        {
            var pol = ChunkerPolynomial.CreateRandom().Value;
            var expected = ReferenceChunkLengths(pol, data);
            Assert.Equal(expected, ChunkLengths(pol, data));
            Assert.Equal(expected, ChunkLengths(pol, data, RandomPieces(i)));
            Assert.All(expected[..^1], l => Assert.InRange(l, MinSize, MaxSize));
        }
    }

    [Fact]
    public void A_random_polynomial_chunks_differently()
    {
        var pol = ChunkerPolynomial.CreateRandom().Value;
        var lengths = ChunkLengths(pol, GoSeed23Data.AsSpan(0, 8 * 1024 * 1024));
        Assert.NotEqual(Chunks1[0].Length, lengths[0]);
    }

    [Fact]
    public void Constant_data_is_cut_at_MaxSize()
    {
        // For constant bytes the fingerprint is constant after 64 bytes; 0xAB gives no zero low bits here, so every cut
        // is forced at MaxSize.
        var data = new byte[(2 * MaxSize) + 12345];
        data.AsSpan().Fill(0xAB);
        var expected = new List<int> { MaxSize, MaxSize, 12345 };
        Assert.Equal(expected, ReferenceChunkLengths(TestPol, data));
        Assert.Equal(expected, ChunkLengths(TestPol, data));
        Assert.Equal(expected, ChunkLengths(TestPol, data, RandomPieces(4)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(MinSize - 65)]
    [InlineData(MinSize - 64)]
    [InlineData(MinSize - 63)]
    [InlineData(MinSize - 1)]
    [InlineData(MinSize)]
    [InlineData(MinSize + 1)]
    [InlineData(MinSize + 64)]
    [InlineData(MinSize + 65)]
    public void Short_streams_form_one_chunk_unless_the_fingerprint_says_otherwise(int size)
    {
        var data = new byte[size];
        FillPseudoRandom(data, (ulong)size);
        var expected = ReferenceChunkLengths(TestPol, data);
        Assert.Equal(expected, ChunkLengths(TestPol, data));
        Assert.Equal(expected, ChunkLengths(TestPol, data, () => 1));
        Assert.Equal(expected, ChunkLengths(TestPol, data, () => 7));
        if (size == 0)
        {
            Assert.Empty(expected);
        }
        else if (size <= MinSize)
        {
            Assert.Equal([size], expected);
        }
    }

    [Fact]
    public void Zeros_cut_exactly_at_MinSize_even_when_the_piece_ends_there()
    {
        var chunker = NewChunker();
        var zeros = new byte[MinSize];
        Assert.Equal(-1, chunker.FindBoundary(zeros.AsSpan(0, MinSize - 1)));
        Assert.Equal(1, chunker.FindBoundary(zeros.AsSpan(0, 1)));

        // The chunker has started over: MinSize − 1 more bytes are no chunk yet, MinSize + 1 bytes hold a cut after MinSize.
        Assert.Equal(-1, chunker.FindBoundary(zeros.AsSpan(0, MinSize - 1)));
        Assert.Equal(1, chunker.FindBoundary(new byte[2]));
    }

    [Fact]
    public void Reset_forgets_the_partial_chunk()
    {
        var data = GoSeed23Data.AsSpan(0, 4 * 1024 * 1024);
        var chunker = NewChunker();
        Assert.Equal(-1, chunker.FindBoundary(data[..(MinSize + 1000)]));
        chunker.Reset();
        Assert.Equal(Chunks1[0].Length, ChunkLengths(chunker, data)[0]);

        // Reused for a second stream after a complete first one, it gives the same chunks.
        chunker.Reset();
        Assert.Equal(Chunks1[0].Length, ChunkLengths(chunker, data)[0]);
    }

    [Fact]
    public void An_empty_piece_changes_nothing()
    {
        var data = GoSeed23Data.AsSpan(0, 3 * 1024 * 1024);
        var chunker = NewChunker();
        var pieces = 0;
        var lengths = ChunkLengths(chunker, data, () => pieces++ % 2 == 0 ? 100_000 : 0);
        Assert.Equal(Chunks1[0].Length, lengths[0]);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL)]
    [InlineData(0x11bUL)] // degree 8
    [InlineData(0x3DA3358B4DC173UL << 1)] // degree 54
    [InlineData(0x8000000000000001UL)] // degree 63
    public void Polynomials_of_unusable_degree_are_rejected(ulong value)
    {
        Assert.Throws<ArgumentException>(() => new ContentDefinedChunker(new ChunkerPolynomial(value)));
    }

    [Theory]
    [InlineData(0x211UL)] // x^9 + x^4 + 1, the smallest degree accepted
    [InlineData(0x1009UL)] // degree 12
    [InlineData(0x1100BUL)] // degree 16
    public void Low_degree_polynomials_cut_often_and_still_match_the_reference(ulong polynomial)
    {
        // A fingerprint of k < 20 bits has its low 20 bits zero once in 2^k bytes, so cuts come soon after MinSize and
        // several of the interleaved lanes hit in the same stretch: the first in stream order must win.
        var data = RandomWithZeroRuns(11);
        var expected = ReferenceChunkLengths(polynomial, data);
        Assert.True(expected.Count > 20);
        Assert.Equal(expected, ChunkLengths(polynomial, data));
        Assert.Equal(expected, ChunkLengths(polynomial, data, RandomPieces(9)));
    }

    [Fact]
    public void Tables_are_shared_per_polynomial()
    {
        Assert.Same(ChunkerTables.For(TestPol), ChunkerTables.For(TestPol));
        var tables = ChunkerTables.For(TestPol);

        // Every mod-table entry cancels exactly the 8 overflow bits it is indexed by.
        for (var t = 0; t < 256; t++)
        {
            Assert.Equal((ulong)t, tables.Mod[t] >> 53);
            Assert.Equal(0UL, tables.Out[t] >> 53);
        }

        Assert.Equal(45, tables.PolShift);
    }

    [Fact]
    public void Chunk_ids_are_sha256_of_the_chunk()
    {
        // Sanity check of the helper against a direct hash.
        var data = new byte[MinSize];
        Assert.Equal(ZeroChunkSha256, Convert.ToHexStringLower(SHA256.HashData(data)));
    }
}
