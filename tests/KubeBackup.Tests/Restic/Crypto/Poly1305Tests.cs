using KubeBackup.Restic.Crypto;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;
using BcPoly1305 = Org.BouncyCastle.Crypto.Macs.Poly1305;

namespace KubeBackup.Tests.Restic.Crypto;

public class Poly1305Tests
{
    // Poly1305-AES examples from Bernstein's paper "The Poly1305-AES message-authentication code" (2005), appendix B,
    // which restic's crypto_int_test.go also uses: message, r, k, nonce, expected MAC (all hex).
    public static TheoryData<string, string, string, string, string> PaperVectors => new()
    {
        { "f3f6", "851fc40c3467ac0be05cc20404f3f700", "ec074c835580741701425b623235add6", "fb447350c4e868c52ac3275cf9d4327e", "f4c633c3044fc145f84f335cb81953de" },
        { "", "a0f3080000f46400d0c7e9076c834403", "75deaa25c09f208e1dc4ce6b5cad3fbf", "61ee09218d29b0aaed7e154a2c5509cc", "dd3fab2251f11ac759f0887129cc2ee7" },
        {
            "663cea190ffb83d89593f3f476b6bc24d7e679107ea26adb8caf6652d0656136",
            "48443d0bb0d21109c89a100b5ce2c208", "6acb5f61a7176dd320c5c1eb2edcdc74", "ae212a55399729595dea458bc621ff0e", "0ee1c16bb73f0f4fd19881753c01cdbe"
        },
        {
            "ab0812724a7f1e342742cbed374d94d136c6b8795d45b3819830f2c04491faf0990c62e48b8018b2c3e4a0fa3134cb67fa83e158c994d961c4cb21095c1bf9",
            "12976a08c4426d0ce8a82407c4f48207", "e1a5668a4d5b66a5f68cc5424ed5982d", "9ae831e743978d3a23527c7128149e3a", "5154ad0d2cb26e01274fc51148491f1b"
        },
    };

    [Theory]
    [MemberData(nameof(PaperVectors))]
    public void Bernstein_paper_vectors(string message, string r, string k, string nonce, string mac)
    {
        byte[] msg = Convert.FromHexString(message), rBytes = Convert.FromHexString(r), kBytes = Convert.FromHexString(k);
        byte[] nonceBytes = Convert.FromHexString(nonce);
        Assert.Equal(mac, Convert.ToHexStringLower(PolyAes(rBytes, kBytes, nonceBytes, msg)));
        Assert.Equal(mac, Convert.ToHexStringLower(PolyAes(rBytes, kBytes, nonceBytes, msg, allowHardware: false)));
        Assert.Equal(mac, Convert.ToHexStringLower(ReferencePolyAes(rBytes, kBytes, nonceBytes, msg)));
    }

    [Fact]
    public void Empty_message_gives_s()
    {
        // With no blocks the accumulator stays 0, so the tag is AES_k(nonce) itself.
        byte[] k = Convert.FromHexString("75deaa25c09f208e1dc4ce6b5cad3fbf");
        byte[] nonce = Convert.FromHexString("61ee09218d29b0aaed7e154a2c5509cc");
        using var aes = System.Security.Cryptography.Aes.Create();
        aes.Key = k;
        byte[] s = aes.EncryptEcb(nonce, System.Security.Cryptography.PaddingMode.None);
        Assert.Equal(s, PolyAes(Convert.FromHexString("a0f3080000f46400d0c7e9076c834403"), k, nonce, []));
        Assert.Equal("dd3fab2251f11ac759f0887129cc2ee7", Convert.ToHexStringLower(s));
    }

    [Fact]
    public void Matches_BouncyCastle_for_lengths_0_to_300_with_unclamped_r()
    {
        var rng = new Random(11);
        for (int length = 0; length <= 300; length++)
        {
            byte[] r = AesCtrTests.Bytes(rng, 16), k = AesCtrTests.Bytes(rng, 16), nonce = AesCtrTests.Bytes(rng, 16);
            byte[] msg = AesCtrTests.Bytes(rng, length);
            r[3] |= 0xf0; // make sure the bits clamping clears are set
            Assert.Equal(ReferencePolyAes(r, k, nonce, msg), PolyAes(r, k, nonce, msg));
        }
    }

    [Theory]
    [InlineData(4096)]
    [InlineData(65536 + 7)]
    [InlineData((1 << 20) + 15)]
    public void Matches_BouncyCastle_for_large_messages(int length)
    {
        var rng = new Random(length);
        byte[] r = AesCtrTests.Bytes(rng, 16), k = AesCtrTests.Bytes(rng, 16), nonce = AesCtrTests.Bytes(rng, 16);
        byte[] msg = AesCtrTests.Bytes(rng, length);
        Assert.Equal(ReferencePolyAes(r, k, nonce, msg), PolyAes(r, k, nonce, msg));
    }

    [Fact]
    public void Extreme_values_match_BouncyCastle()
    {
        // All-ones message blocks and the largest clamped r drive the accumulator towards its bounds,
        // exercising the carries and the final conditional subtraction of 2^130 − 5.
        var rng = new Random(13);
        byte[] ones = Enumerable.Repeat((byte)0xff, 16).ToArray();
        foreach (int length in new[] { 1, 15, 16, 17, 32, 48, 64, 1000, 4097 })
        {
            foreach (byte fill in new byte[] { 0x00, 0xff })
            {
                byte[] msg = Enumerable.Repeat(fill, length).ToArray();
                byte[] k = AesCtrTests.Bytes(rng, 16), nonce = AesCtrTests.Bytes(rng, 16);
                Assert.Equal(ReferencePolyAes(ones, k, nonce, msg), PolyAes(ones, k, nonce, msg));
                Assert.Equal(ReferencePolyAes(new byte[16], k, nonce, msg), PolyAes(new byte[16], k, nonce, msg));
            }
        }
    }

    [Theory]
    [InlineData("fcffffffffffffffffffffffffffffff", "00000000000000000000000000000000")] // h = p exactly → 0
    [InlineData("fdffffffffffffffffffffffffffffff", "01000000000000000000000000000000")] // h = p + 1
    [InlineData("ffffffffffffffffffffffffffffffff", "03000000000000000000000000000000")] // h = p + 3 = 2^130 − 2
    [InlineData("fbffffffffffffffffffffffffffffff", "faffffffffffffffffffffffffffffff")] // h = p − 1
    public void Final_reduction_handles_accumulator_at_and_above_p(string secondBlock, string expectedTag)
    {
        // With r = 1 and s = 0 the tag is (c1 + c2) mod p mod 2^128 for two full blocks c_i = m_i + 2^128.
        // m1 = 2^128 − 1 and m2 = 2^128 − 4 make the sum exactly p = 2^130 − 5; the neighbours sit just below and above.
        byte[] r = new byte[16];
        r[0] = 1;
        byte[] s = new byte[16];
        byte[] msg = Convert.FromHexString("ffffffffffffffffffffffffffffffff" + secondBlock);
        byte[] tag = new byte[16];
        Poly1305.ComputeTag(r, s, msg, tag);
        Assert.Equal(expectedTag, Convert.ToHexStringLower(tag));
        Assert.Equal(ReferencePoly1305(r, s, msg), tag);
        Poly1305.ComputeTagManaged(r, s, msg, tag);
        Assert.Equal(expectedTag, Convert.ToHexStringLower(tag));
    }

    [Fact]
    public void OpenSSL_poly1305_is_used_where_libcrypto_3_loads()
    {
        // .NET on Linux needs OpenSSL, so libcrypto.so.3 is on every machine these tests run on (Debian 12 here);
        // the native path must really be the one under test, unless a run forces the managed code.
        bool forcedManaged = string.Equals(Environment.GetEnvironmentVariable("KUBEBACKUP_POLY1305"), "managed", StringComparison.OrdinalIgnoreCase);
        Assert.Equal(!forcedManaged, NativePoly1305.IsAvailable);
    }

    [Fact]
    public void Native_and_managed_agree_on_random_messages()
    {
        var rng = new Random(17);
        foreach (int length in new[] { 0, 1, 15, 16, 17, 63, 64, 65, 255, 256, 257, 1023, 4096, 8191, 65536 + 3, 3 << 20 })
        {
            byte[] r = AesCtrTests.Bytes(rng, 16), s = AesCtrTests.Bytes(rng, 16), msg = AesCtrTests.Bytes(rng, length);
            byte[] managed = new byte[16], native = new byte[16];
            Poly1305.ComputeTagManaged(r, s, msg, managed);
            Poly1305.ComputeTag(r, s, msg, native);
            Assert.Equal(managed, native);
        }
    }

    /// <summary>Poly1305-AES with our code: s = AES-128_k(nonce), then Poly1305 with r.</summary>
    private static byte[] PolyAes(byte[] r, byte[] k, byte[] nonce, byte[] msg, bool allowHardware = true)
    {
        byte[] s = new byte[16], tag = new byte[16];
        new Aes128Block(k, allowHardware).EncryptBlock(nonce, s);
        Poly1305.ComputeTag(r, s, msg, tag);
        byte[] managed = new byte[16];
        Poly1305.ComputeTagManaged(r, s, msg, managed);
        Assert.Equal(managed, tag); // OpenSSL's code (where it loads) and ours agree on every input
        return tag;
    }

    /// <summary>BouncyCastle's Poly1305-AES: key = r ‖ k, IV = nonce. It clamps r itself.</summary>
    internal static byte[] ReferencePolyAes(byte[] r, byte[] k, byte[] nonce, byte[] msg)
    {
        var mac = new BcPoly1305(new AesEngine());
        mac.Init(new ParametersWithIV(new KeyParameter([.. r, .. k]), nonce));
        mac.BlockUpdate(msg, 0, msg.Length);
        byte[] tag = new byte[16];
        mac.DoFinal(tag, 0);
        return tag;
    }

    /// <summary>BouncyCastle's plain Poly1305 with a one-time key r ‖ s.</summary>
    private static byte[] ReferencePoly1305(byte[] r, byte[] s, byte[] msg)
    {
        var mac = new BcPoly1305();
        mac.Init(new KeyParameter([.. r, .. s]));
        mac.BlockUpdate(msg, 0, msg.Length);
        byte[] tag = new byte[16];
        mac.DoFinal(tag, 0);
        return tag;
    }
}
