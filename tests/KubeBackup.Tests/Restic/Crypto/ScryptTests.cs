using System.Text;
using KubeBackup.Restic.Crypto;
using BcScrypt = Org.BouncyCastle.Crypto.Generators.SCrypt;

namespace KubeBackup.Tests.Restic.Crypto;

public class ScryptTests
{
    // RFC 7914 §12. The fourth vector (N = 2^20, 1 GiB of memory) is left out to keep the suite light.
    [Theory]
    [InlineData("", "", 16, 1, 1,
        "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906")]
    [InlineData("password", "NaCl", 1024, 8, 16,
        "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")]
    [InlineData("pleaseletmein", "SodiumChloride", 16384, 8, 1,
        "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887")]
    public void Rfc7914_vectors(string password, string salt, int n, int r, int p, string expected)
    {
        byte[] output = new byte[64];
        Scrypt.DeriveKey(Encoding.ASCII.GetBytes(password), Encoding.ASCII.GetBytes(salt), new ScryptParameters(n, r, p), output);
        Assert.Equal(expected, Convert.ToHexStringLower(output));
    }

    [Theory]
    [InlineData(2, 1, 1, 64)]
    [InlineData(4, 2, 3, 17)]
    [InlineData(16, 3, 2, 100)]
    [InlineData(64, 5, 7, 64)]
    [InlineData(256, 8, 3, 64)]
    [InlineData(128, 1, 1, 64)] // restic's test fixtures
    public void Matches_BouncyCastle(int n, int r, int p, int length)
    {
        var rng = new Random(n * 31 + r * 7 + p);
        byte[] password = AesCtrTests.Bytes(rng, rng.Next(0, 40));
        byte[] salt = AesCtrTests.Bytes(rng, 64);
        byte[] expected = BcScrypt.Generate(password, salt, n, r, p, length);

        byte[] parallel = new byte[length], sequential = new byte[length];
        Scrypt.DeriveKey(password, salt, new ScryptParameters(n, r, p), parallel);
        Scrypt.DeriveKey(password, salt, new ScryptParameters(n, r, p), sequential, maxThreads: 1, pairLanes: false);
        Assert.Equal(expected, parallel);
        Assert.Equal(expected, sequential);

        // The sparse-V (time–memory trade-off) paths must give the same key, whichever lanes run together, alone or
        // paired on one thread (pairs where the vector path exists; elsewhere the flag falls back to single lanes).
        foreach (int stride in new[] { 1, 2, 4, 8 })
        {
            foreach (bool pair in new[] { false, true })
            {
                bool paired = pair && Salsa20Core.PairSupported;
                byte[] sparse = new byte[length], sparseParallel = new byte[length];
                Scrypt.DeriveKey(password, salt, new ScryptParameters(n, r, p), sparse, maxThreads: 1, stride, paired);
                Scrypt.DeriveKey(password, salt, new ScryptParameters(n, r, p), sparseParallel, maxThreads: 4, stride, paired);
                Assert.Equal(expected, sparse);
                Assert.Equal(expected, sparseParallel);
            }
        }
    }

    [Theory]
    // pair cost 1.0 (AVX2: a pair costs what a single lane costs)
    [InlineData(2, 1, 1.0, 1, 2, 2, 1)]   // one core: both lanes as a pair, within one full V
    [InlineData(2, 2, 1.0, 2, 1, 2, 1)]   // two lanes, two cores: one each (a tie keeps singles)
    [InlineData(4, 2, 1.0, 2, 2, 4, 1)]   // four lanes, two cores: two pairs at stride 4
    [InlineData(5, 2, 1.0, 2, 2, 4, 2)]
    [InlineData(7, 2, 1.0, 2, 2, 4, 2)]
    [InlineData(10, 2, 1.0, 2, 2, 4, 3)]  // five lanes a thread: two pairs and a lone lane each, not three pairs and two
    [InlineData(11, 2, 1.0, 2, 2, 4, 3)]  // what restic 0.14 picked on the development machine
    [InlineData(11, 8, 1.0, 4, 1, 4, 3)]  // never more than four lanes in flight; with cores to spare, singles
    // pair cost 1.25 (AVX-512)
    [InlineData(2, 1, 1.25, 1, 2, 2, 1)]
    [InlineData(4, 2, 1.25, 2, 2, 4, 1)]
    [InlineData(5, 2, 1.25, 2, 2, 4, 2)]  // two pairs, then the odd lane alone at stride 2
    [InlineData(2, 2, 1.25, 2, 1, 2, 1)]
    [InlineData(7, 2, 1.25, 2, 2, 4, 2)]
    public void Lane_plan_keeps_memory_at_one_full_V(int p, int cores, double pairCost, int threads, int perThread, int stride, int rounds)
    {
        var plan = Scrypt.PlanLanes(p, cores, pairCost);
        Assert.Equal(new Scrypt.LanePlan(threads, perThread, stride), plan);
        Assert.True(plan.Threads * plan.LanesPerThread <= plan.Stride, "lanes in flight must fit in one full V");
        // Every lane belongs to exactly one thread, the threads' shares differ by at most one, and the busiest thread
        // runs `rounds` pairs or lone lanes one after another.
        var shares = Enumerable.Range(0, plan.Threads).Select(t => plan.LanesOf(t, p)).ToArray();
        Assert.Equal(Enumerable.Range(0, p), shares.SelectMany(share => Enumerable.Range(share.First, share.Count)));
        Assert.True(shares.Max(share => share.Count) - shares.Min(share => share.Count) <= 1);
        Assert.Equal(rounds, shares.Max(share => (share.Count + plan.LanesPerThread - 1) / plan.LanesPerThread));
        Assert.Equal(new Scrypt.LanePlan(1, 1, 1), Scrypt.PlanLanes(p, 1, pairCost: null));
    }

    [Fact]
    public void Paired_BlockMix_equals_two_single_ones()
    {
        if (!Salsa20Core.PairSupported)
        {
            return; // no 256-bit path on this CPU; DeriveKey never pairs here, and the key tests above cover it
        }
        const int r = 3;
        var rng = new Random(7);
        uint[] Block() => Enumerable.Range(0, 32 * r).Select(_ => (uint)rng.Next()).ToArray();
        uint[] a0 = Block(), b0 = Block(), a1 = Block(), b1 = Block();
        uint[] pair0 = new uint[32 * r], pair1 = new uint[32 * r], single0 = new uint[32 * r], single1 = new uint[32 * r];
        Salsa20Core.BlockMixPair(ref a0[0], ref b0[0], ref pair0[0], ref a1[0], ref b1[0], ref pair1[0], r);
        Salsa20Core.BlockMix(ref a0[0], ref b0[0], xorInput: true, ref single0[0], r);
        Salsa20Core.BlockMix(ref a1[0], ref b1[0], xorInput: true, ref single1[0], r);
        Assert.Equal(single0, pair0);
        Assert.Equal(single1, pair1);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(4, 4)]
    public void Parallel_lanes_keep_within_one_full_V(int workers, int expectedStride) =>
        Assert.Equal(expectedStride, Scrypt.StrideFor(workers));

    [Theory]
    [InlineData(0, 8, 1)]
    [InlineData(1, 8, 1)]
    [InlineData(-2, 8, 1)]
    [InlineData(3, 8, 1)]
    [InlineData(6, 8, 1)]
    [InlineData(1000, 8, 1)]
    [InlineData(int.MinValue, 8, 1)]
    [InlineData(16, 0, 1)]
    [InlineData(16, -1, 1)]
    [InlineData(16, 8, 0)]
    [InlineData(16, 8, -3)]
    [InlineData(16, 1 << 15, 1 << 15)] // r·p = 2^30
    [InlineData(16, 1, 1 << 30)]
    [InlineData(16, 2048, 8193)] // r > MaxInt32/128/p
    [InlineData(16, 8388608, 1)] // r > MaxInt32/256
    [InlineData(1 << 24, 1, 1)] // N > MaxInt32/128/r
    [InlineData(1 << 21, 8, 1)]
    [InlineData(1 << 30, 1, 1)]
    public void Validate_rejects_what_restic_rejects(int n, int r, int p)
    {
        var parameters = new ScryptParameters(n, r, p);
        Assert.Throws<ArgumentException>(parameters.Validate);
        Assert.Throws<ArgumentException>(() => Scrypt.DeriveKey([], [], parameters, new byte[64]));
    }

    [Theory]
    [InlineData(2, 1, 1)]
    [InlineData(32768, 8, 5)]
    [InlineData(65536, 8, 1)]
    [InlineData(1 << 20, 8, 1)] // the largest N at r = 8: 2^20 ≤ MaxInt32/1024
    [InlineData(1 << 23, 1, 1)]
    [InlineData(16, 1, (1 << 24) - 1)] // 128·r·p still fits an int
    public void Validate_accepts_valid_parameters(int n, int r, int p) => new ScryptParameters(n, r, p).Validate();

    [Theory]
    [InlineData(60L << 20, 32768)] // restic's 60 MiB
    [InlineData(16L << 20, 8192)] // 128·8·16384 is exactly 16 MiB, which is not below the limit
    [InlineData((16L << 20) + 1, 16384)]
    [InlineData(2049, 2)]
    public void Calibration_picks_the_largest_N_below_the_memory_limit(long memory, int expectedN) =>
        Assert.Equal(expectedN, Scrypt.LargestN(memory, 8));

    [Fact]
    public void Calibrate_returns_valid_parameters_with_r_8()
    {
        ScryptParameters parameters = Scrypt.Calibrate(TimeSpan.FromMilliseconds(30), 1 << 20);
        Assert.Equal(8, parameters.R);
        Assert.True(parameters.N is >= 2 and <= 512);
        Assert.True(parameters.P >= 1);
        parameters.Validate();
        Assert.Throws<ArgumentOutOfRangeException>(() => Scrypt.Calibrate(TimeSpan.FromMilliseconds(10), 2048));
        Assert.Throws<ArgumentOutOfRangeException>(() => Scrypt.Calibrate(TimeSpan.FromMilliseconds(-1), 1 << 20));
    }

    [Fact]
    public void Derives_a_restic_key_from_scrypt_output()
    {
        // restic derives 64 bytes and splits them 32 / 16 / 16 into encryption key, MAC k and MAC r.
        byte[] salt = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();
        byte[] derived = new byte[64];
        Scrypt.DeriveKey("geheim"u8, salt, new ScryptParameters(128, 1, 1), derived);
        Assert.Equal(BcScrypt.Generate(Encoding.UTF8.GetBytes("geheim"), salt, 128, 1, 1, 64), derived);
        CryptoKey key = CryptoKey.FromDerivedBytes(derived);
        Assert.Equal(derived[48..], key.MacR.ToArray());
    }
}
