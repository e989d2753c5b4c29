using System.Buffers.Binary;
using KubeBackup.Restic.Crypto;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Modes;
using Org.BouncyCastle.Crypto.Parameters;
using BclAes = System.Security.Cryptography.Aes;

namespace KubeBackup.Tests.Restic.Crypto;

public class AesCtrTests
{
    // IVs that put the 128-bit counter next to a carry: inside the low half, across the 64-bit halves, and
    // around the 2^128 wrap, at several positions relative to the eight-block batches.
    public static TheoryData<string> CarryIvs => new()
    {
        "ffffffffffffffffffffffffffffffff",
        "fffffffffffffffffffffffffffffffa",
        "0000000000000000ffffffffffffffff",
        "0000000000000000fffffffffffffff9",
        "0000000000000000fffffffffffffff8",
        "00000000000000000000000000000000",
        "12345678abcdef01fffffffffffffffd",
        "7fffffffffffffffffffffffffffffff",
        "000000000000000000000000ffffffff",
        "00000000000000000000000000fffff0",
    };

    [Fact]
    public void Uses_AES_NI_where_the_CPU_has_it()
    {
        // Otherwise the "both paths" tests below would silently test the portable path twice.
        Assert.Equal(AesNi.IsSupported, new Aes256Ctr(new byte[32]).UsesHardware);
        Assert.False(new Aes256Ctr(new byte[32], allowHardware: false).UsesHardware);
    }

    [Fact]
    public void Matches_BouncyCastle_for_lengths_0_to_200_on_both_paths()
    {
        var rng = new Random(1);
        for (int length = 0; length <= 200; length++)
        {
            byte[] key = Bytes(rng, 32), iv = Bytes(rng, 16), data = Bytes(rng, length);
            byte[] expected = ReferenceCtr(key, iv, data);
            Assert.Equal(expected, Transform(new Aes256Ctr(key), iv, data));
            Assert.Equal(expected, Transform(new Aes256Ctr(key, allowHardware: false), iv, data));
        }
    }

    [Theory]
    [InlineData(4096 + 13)]
    [InlineData(65536)]
    [InlineData((1 << 20) + 5)]
    [InlineData(3 * (1 << 20) + 127)]
    public void Matches_BouncyCastle_for_large_inputs(int length)
    {
        var rng = new Random(length);
        byte[] key = Bytes(rng, 32), iv = Bytes(rng, 16), data = Bytes(rng, length);
        byte[] expected = ReferenceCtr(key, iv, data);
        Assert.Equal(expected, Transform(new Aes256Ctr(key), iv, data));
        Assert.Equal(expected, Transform(new Aes256Ctr(key, allowHardware: false), iv, data));
    }

    [Theory]
    [MemberData(nameof(CarryIvs))]
    public void Carries_through_all_sixteen_bytes(string ivHex)
    {
        var rng = new Random(7);
        byte[] key = Bytes(rng, 32), iv = Convert.FromHexString(ivHex);
        foreach (int length in new[] { 1, 16, 17, 100, 128, 129, 300, 1000 })
        {
            byte[] data = Bytes(rng, length);
            byte[] expected = ReferenceCtr(key, iv, data);
            Assert.Equal(expected, Transform(new Aes256Ctr(key), iv, data));
            Assert.Equal(expected, Transform(new Aes256Ctr(key, allowHardware: false), iv, data));
        }
    }

    [Fact]
    public void Counter_is_one_128_bit_big_endian_integer()
    {
        // Independent of BouncyCastle: the keystream of block i is AES_k(IV + i mod 2^128) computed with the BCL.
        var rng = new Random(3);
        byte[] key = Bytes(rng, 32);
        using BclAes aes = BclAes.Create();
        aes.Key = key;

        // Low half all ones: block 1's counter is 00..01 00..00 (carry into the high half, not a 64-bit wrap).
        AssertBlockCounter(aes, key, Convert.FromHexString("0000000000000000ffffffffffffffff"), 1, "00000000000000010000000000000000");
        // All ones: block 1 wraps to zero.
        AssertBlockCounter(aes, key, Convert.FromHexString("ffffffffffffffffffffffffffffffff"), 1, "00000000000000000000000000000000");
        // A 32-bit counter would wrap here; the 128-bit one carries into byte 11.
        AssertBlockCounter(aes, key, Convert.FromHexString("0102030405060708090a0bffffffffff"), 1, "0102030405060708090a0c0000000000");
        AssertBlockCounter(aes, key, Convert.FromHexString("0102030405060708fffffffffffffff0"), 20, "01020304050607090000000000000004");
    }

    [Fact]
    public void Works_in_place()
    {
        var rng = new Random(5);
        foreach (bool hardware in new[] { true, false })
        {
            foreach (int length in new[] { 0, 15, 128, 1000, 70000 })
            {
                byte[] key = Bytes(rng, 32), iv = Bytes(rng, 16), data = Bytes(rng, length);
                byte[] expected = ReferenceCtr(key, iv, data);
                var cipher = new Aes256Ctr(key, hardware);
                cipher.Transform(iv, data, data);
                Assert.Equal(expected, data);
            }
        }
    }

    [Fact]
    public void Aes128_block_matches_the_BCL()
    {
        var rng = new Random(9);
        for (int i = 0; i < 50; i++)
        {
            byte[] key = Bytes(rng, 16), block = Bytes(rng, 16);
            using BclAes aes = BclAes.Create();
            aes.Key = key;
            byte[] expected = aes.EncryptEcb(block, System.Security.Cryptography.PaddingMode.None);
            byte[] actual = new byte[16];
            new Aes128Block(key).EncryptBlock(block, actual);
            Assert.Equal(expected, actual);
            Array.Clear(actual);
            new Aes128Block(key, allowHardware: false).EncryptBlock(block, actual);
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void Aes256_key_schedule_matches_FIPS_197_example()
    {
        // FIPS-197 appendix C.3: AES-256 of 00112233..eeff under key 00010203..1e1f.
        byte[] key = Convert.FromHexString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        byte[] iv = Convert.FromHexString("00112233445566778899aabbccddeeff");
        byte[] keystream = Transform(new Aes256Ctr(key), iv, new byte[16]);
        Assert.Equal("8ea2b7ca516745bfeafc49904b496089", Convert.ToHexStringLower(keystream));
    }

    private static void AssertBlockCounter(BclAes aes, byte[] key, byte[] iv, int block, string counterHex)
    {
        byte[] data = new byte[(block + 1) * 16];
        byte[] keystream = Transform(new Aes256Ctr(key), iv, data);
        byte[] expected = aes.EncryptEcb(Convert.FromHexString(counterHex), System.Security.Cryptography.PaddingMode.None);
        Assert.Equal(expected, keystream.AsSpan(block * 16, 16).ToArray());

        // And the same through UInt128 arithmetic, as a statement of the rule.
        UInt128 counter = BinaryPrimitives.ReadUInt128BigEndian(iv) + (UInt128)block;
        byte[] computed = new byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(computed, counter);
        Assert.Equal(counterHex, Convert.ToHexStringLower(computed));
    }

    private static byte[] Transform(Aes256Ctr cipher, byte[] iv, byte[] data)
    {
        byte[] output = new byte[data.Length];
        cipher.Transform(iv, data, output);
        return output;
    }

    /// <summary>AES-256-CTR with BouncyCastle's SIC mode, a block at a time, truncating the last keystream block.</summary>
    internal static byte[] ReferenceCtr(byte[] key, byte[] iv, byte[] data)
    {
        var sic = new SicBlockCipher(new AesEngine());
        sic.Init(true, new ParametersWithIV(new KeyParameter(key), iv));
        byte[] output = new byte[data.Length];
        byte[] input = new byte[16], block = new byte[16];
        for (int offset = 0; offset < data.Length; offset += 16)
        {
            int n = Math.Min(16, data.Length - offset);
            Array.Clear(input);
            Array.Copy(data, offset, input, 0, n);
            sic.ProcessBlock(input, 0, block, 0);
            Array.Copy(block, 0, output, offset, n);
        }
        return output;
    }

    internal static byte[] Bytes(Random rng, int length)
    {
        byte[] bytes = new byte[length];
        rng.NextBytes(bytes);
        return bytes;
    }
}
