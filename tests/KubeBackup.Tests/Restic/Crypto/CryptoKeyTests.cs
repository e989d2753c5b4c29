using System.Text;
using KubeBackup.Restic.Crypto;

namespace KubeBackup.Tests.Restic.Crypto;

public class CryptoKeyTests
{
    // restic's end-to-end vector (crypto_int_test.go, testValues): keys, sealed bytes, plaintext.
    private const string VectorEncryptionKey = "303e8687b1d7db18421bdc6bb8588ccadac4d59ee87b8ff70c44e635790cafef";
    private const string VectorMacK = "ef4d8824cb80b2bcc5fbff8a9b12a42c";
    private const string VectorMacR = "cc8d4b948ee0ebfe1d415de921d10353";
    private const string VectorSealed = "69fb41c62d12def4593bd71757138606338f621aeaeb39da0fe4f99233f8037a54ea63338a813bcf3f75d8c3cc75dddf8750";

    private static CryptoKey VectorKey(bool allowHardware = true) => new(
        Convert.FromHexString(VectorEncryptionKey), Convert.FromHexString(VectorMacK), Convert.FromHexString(VectorMacR), allowHardware);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Opens_restics_test_vector(bool allowHardware)
    {
        byte[] plaintext = VectorKey(allowHardware).Open(Convert.FromHexString(VectorSealed));
        Assert.Equal("Dies ist ein Test!", Encoding.UTF8.GetString(plaintext));
    }

    [Fact]
    public void Sealing_with_the_vectors_IV_reproduces_the_vector()
    {
        // Seal picks a random IV, so rebuild the sealed bytes from the parts to pin the layout IV ‖ CT ‖ MAC.
        byte[] sealedBytes = Convert.FromHexString(VectorSealed);
        byte[] iv = sealedBytes[..16];
        byte[] plaintext = Encoding.UTF8.GetBytes("Dies ist ein Test!");
        byte[] ciphertext = new byte[plaintext.Length];
        new Aes256Ctr(Convert.FromHexString(VectorEncryptionKey)).Transform(iv, plaintext, ciphertext);
        Assert.Equal(sealedBytes[16..^16], ciphertext);

        byte[] s = new byte[16], tag = new byte[16];
        new Aes128Block(Convert.FromHexString(VectorMacK)).EncryptBlock(iv, s);
        Poly1305.ComputeTag(Convert.FromHexString(VectorMacR), s, ciphertext, tag);
        Assert.Equal(sealedBytes[^16..], tag);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(31)]
    [InlineData(1000)]
    [InlineData(1 << 20)]
    public void Round_trips(int length)
    {
        var rng = new Random(length);
        CryptoKey key = CryptoKey.CreateRandom();
        byte[] plaintext = AesCtrTests.Bytes(rng, length);
        byte[] sealedBytes = key.Seal(plaintext);
        Assert.Equal(length + CryptoKey.Overhead, sealedBytes.Length);
        Assert.Equal(plaintext, key.Open(sealedBytes));

        // The portable path reads what the AES-NI path wrote and vice versa.
        var portable = new CryptoKey(key.EncryptionKey, key.MacK, key.MacR, allowHardware: false);
        Assert.Equal(plaintext, portable.Open(sealedBytes));
        Assert.Equal(plaintext, key.Open(portable.Seal(plaintext)));
    }

    [Fact]
    public void Sealed_data_is_what_BouncyCastle_computes()
    {
        var rng = new Random(21);
        CryptoKey key = CryptoKey.CreateRandom();
        byte[] plaintext = AesCtrTests.Bytes(rng, 777);
        byte[] sealedBytes = key.Seal(plaintext);
        byte[] iv = sealedBytes[..16];
        Assert.Equal(AesCtrTests.ReferenceCtr(key.EncryptionKey.ToArray(), iv, plaintext), sealedBytes[16..^16]);
        Assert.Equal(Poly1305Tests.ReferencePolyAes(key.MacR.ToArray(), key.MacK.ToArray(), iv, sealedBytes[16..^16]), sealedBytes[^16..]);
    }

    [Fact]
    public void Unclamped_r_is_kept_as_given_and_clamped_at_use()
    {
        var rng = new Random(22);
        byte[] enc = AesCtrTests.Bytes(rng, 32), k = AesCtrTests.Bytes(rng, 16);
        byte[] r = Enumerable.Repeat((byte)0xff, 16).ToArray();
        var key = new CryptoKey(enc, k, r);
        Assert.Equal(r, key.MacR.ToArray());

        byte[] sealedBytes = key.Seal(AesCtrTests.Bytes(rng, 100));
        Assert.Equal(Poly1305Tests.ReferencePolyAes(r, k, sealedBytes[..16], sealedBytes[16..^16]), sealedBytes[^16..]);

        // The clamped r is the same MAC key.
        byte[] clamped = r.ToArray();
        for (int i = 3; i < 16; i += 4) clamped[i] &= 0x0f;
        for (int i = 4; i < 16; i += 4) clamped[i] &= 0xfc;
        Assert.Equal(Convert.FromHexString("ffffff0ffcffff0ffcffff0ffcffff0f"), clamped);
        Assert.True(new CryptoKey(enc, k, clamped).TryOpen(sealedBytes, new byte[100]));
    }

    [Fact]
    public void Flipping_any_byte_fails_and_writes_nothing()
    {
        var rng = new Random(23);
        CryptoKey key = CryptoKey.CreateRandom();
        byte[] plaintext = AesCtrTests.Bytes(rng, 50);
        byte[] sealedBytes = key.Seal(plaintext);

        for (int i = 0; i < sealedBytes.Length; i++)
        {
            foreach (byte flip in new byte[] { 0x01, 0x80, 0xff })
            {
                byte[] tampered = sealedBytes.ToArray();
                tampered[i] ^= flip;
                byte[] destination = Enumerable.Repeat((byte)0xa5, plaintext.Length).ToArray();
                Assert.False(key.TryOpen(tampered, destination));
                Assert.All(destination, b => Assert.Equal(0xa5, b));
            }
        }

        byte[] ok = new byte[plaintext.Length];
        Assert.True(key.TryOpen(sealedBytes, ok));
        Assert.Equal(plaintext, ok);
    }

    [Fact]
    public void Failed_in_place_open_leaves_the_buffer_untouched()
    {
        CryptoKey key = CryptoKey.CreateRandom();
        byte[] buffer = key.Seal(Encoding.UTF8.GetBytes("some secret words for the test"));
        buffer[20] ^= 1;
        byte[] copy = buffer.ToArray();
        Assert.False(key.TryOpen(buffer, buffer.AsSpan(CryptoKey.IvSize, buffer.Length - CryptoKey.Overhead)));
        Assert.Equal(copy, buffer);
    }

    [Fact]
    public void Wrong_key_fails()
    {
        CryptoKey key = CryptoKey.CreateRandom(), other = CryptoKey.CreateRandom();
        byte[] sealedBytes = key.Seal(new byte[40]);
        Assert.False(other.TryOpen(sealedBytes, new byte[40]));

        // Same encryption key, different MAC key: still rejected.
        var otherMac = new CryptoKey(key.EncryptionKey, other.MacK, key.MacR);
        Assert.False(otherMac.TryOpen(sealedBytes, new byte[40]));
        var otherR = new CryptoKey(key.EncryptionKey, key.MacK, other.MacR);
        Assert.False(otherR.TryOpen(sealedBytes, new byte[40]));
    }

    [Fact]
    public void Open_throws_IntegrityException_naming_the_file()
    {
        CryptoKey key = CryptoKey.CreateRandom();
        byte[] sealedBytes = key.Seal(new byte[10]);
        sealedBytes[^1] ^= 0x10;
        var ex = Assert.Throws<IntegrityException>(() => key.Open(sealedBytes, "data/ab/abcdef"));
        Assert.Equal("data/ab/abcdef", ex.FileName);
        Assert.Contains("data/ab/abcdef", ex.Message);

        var shortEx = Assert.Throws<IntegrityException>(() => key.Open(new byte[31], "config"));
        Assert.Equal("config", shortEx.FileName);
        Assert.Throws<IntegrityException>(() => key.Open([]));
    }

    [Fact]
    public void Too_short_input_and_zero_IV_are_rejected()
    {
        CryptoKey key = CryptoKey.CreateRandom();
        for (int length = 0; length < CryptoKey.Overhead; length++)
        {
            Assert.False(key.TryOpen(new byte[length], Span<byte>.Empty));
        }

        // A correctly MACed message under an all-zero IV is still refused, as restic refuses it.
        byte[] iv = new byte[16];
        byte[] plaintext = Encoding.UTF8.GetBytes("zero iv");
        byte[] sealedBytes = new byte[plaintext.Length + CryptoKey.Overhead];
        new Aes256Ctr(key.EncryptionKey).Transform(iv, plaintext, sealedBytes.AsSpan(16, plaintext.Length));
        byte[] s = new byte[16];
        new Aes128Block(key.MacK).EncryptBlock(iv, s);
        Poly1305.ComputeTag(key.MacR, s, sealedBytes.AsSpan(16, plaintext.Length), sealedBytes.AsSpan(sealedBytes.Length - 16));
        byte[] destination = new byte[plaintext.Length];
        Assert.False(key.TryOpen(sealedBytes, destination));
        Assert.All(destination, b => Assert.Equal(0, b));

        // The same bytes with IV 00..01 (re-MACed) open, so only the IV made the difference.
        iv[15] = 1;
        iv.CopyTo(sealedBytes, 0);
        new Aes256Ctr(key.EncryptionKey).Transform(iv, plaintext, sealedBytes.AsSpan(16, plaintext.Length));
        new Aes128Block(key.MacK).EncryptBlock(iv, s);
        Poly1305.ComputeTag(key.MacR, s, sealedBytes.AsSpan(16, plaintext.Length), sealedBytes.AsSpan(sealedBytes.Length - 16));
        Assert.True(key.TryOpen(sealedBytes, destination));
        Assert.Equal(plaintext, destination);
    }

    [Fact]
    public void Seal_uses_fresh_IVs()
    {
        CryptoKey key = CryptoKey.CreateRandom();
        var ivs = new HashSet<string>();
        for (int i = 0; i < 1000; i++)
        {
            byte[] sealedBytes = key.Seal("same"u8);
            Assert.True(ivs.Add(Convert.ToHexString(sealedBytes, 0, 16)));
            Assert.Contains(sealedBytes.AsSpan(0, 16).ToArray(), b => b != 0);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(4096 + 3)]
    public void Seals_and_opens_in_place(int length)
    {
        var rng = new Random(length + 100);
        CryptoKey key = CryptoKey.CreateRandom();
        byte[] plaintext = AesCtrTests.Bytes(rng, length);

        byte[] buffer = new byte[length + CryptoKey.Overhead];
        plaintext.CopyTo(buffer, CryptoKey.IvSize);
        key.Seal(buffer.AsSpan(CryptoKey.IvSize, length), buffer);
        Assert.Equal(plaintext, key.Open(buffer));

        Assert.True(key.TryOpen(buffer, buffer.AsSpan(CryptoKey.IvSize, length)));
        Assert.Equal(plaintext, buffer.AsSpan(CryptoKey.IvSize, length).ToArray());
    }

    [Fact]
    public void Rejects_bad_lengths_and_overlaps()
    {
        CryptoKey key = CryptoKey.CreateRandom();
        Assert.Throws<ArgumentException>(() => key.Seal(new byte[10], new byte[41]));
        Assert.Throws<ArgumentException>(() => key.Seal(new byte[10], new byte[43]));
        byte[] sealedBytes = key.Seal(new byte[10]);
        Assert.Throws<ArgumentException>(() => key.TryOpen(sealedBytes, new byte[9]));
        Assert.Throws<ArgumentException>(() => key.TryOpen(sealedBytes, new byte[11]));

        byte[] buffer = new byte[10 + CryptoKey.Overhead];
        Assert.Throws<ArgumentException>(() => key.Seal(buffer.AsSpan(0, 10), buffer));
        Assert.Throws<ArgumentException>(() => key.Seal(buffer.AsSpan(17, 10), buffer));
        Assert.Throws<ArgumentException>(() => key.TryOpen(sealedBytes, sealedBytes.AsSpan(0, 10)));
        Assert.Throws<ArgumentException>(() => key.TryOpen(sealedBytes, sealedBytes.AsSpan(15, 10)));

        Assert.Throws<ArgumentException>(() => new CryptoKey(new byte[31], new byte[16], new byte[16]));
        Assert.Throws<ArgumentException>(() => new CryptoKey(new byte[32], new byte[15], new byte[16]));
        Assert.Throws<ArgumentException>(() => new CryptoKey(new byte[32], new byte[16], new byte[17]));
        Assert.Throws<ArgumentException>(() => CryptoKey.FromDerivedBytes(new byte[63]));
    }

    [Fact]
    public void Key_parts_and_validity()
    {
        byte[] derived = Enumerable.Range(1, 64).Select(i => (byte)i).ToArray();
        CryptoKey key = CryptoKey.FromDerivedBytes(derived);
        Assert.Equal(derived[..32], key.EncryptionKey.ToArray());
        Assert.Equal(derived[32..48], key.MacK.ToArray());
        Assert.Equal(derived[48..], key.MacR.ToArray());
        Assert.True(key.IsValid);

        Assert.False(new CryptoKey(new byte[32], derived[32..48], derived[48..]).IsValid);
        Assert.False(new CryptoKey(derived[..32], new byte[16], derived[48..]).IsValid);
        Assert.False(new CryptoKey(derived[..32], derived[32..48], new byte[16]).IsValid);

        CryptoKey a = CryptoKey.CreateRandom(), b = CryptoKey.CreateRandom();
        Assert.True(a.IsValid);
        Assert.False(a.EncryptionKey.SequenceEqual(b.EncryptionKey));
    }

    [Fact]
    public void Is_safe_to_share_between_threads()
    {
        CryptoKey key = CryptoKey.CreateRandom();
        Parallel.For(0, 64, i =>
        {
            byte[] plaintext = AesCtrTests.Bytes(new Random(i), 1000 + i);
            Assert.Equal(plaintext, key.Open(key.Seal(plaintext)));
        });
    }
}
