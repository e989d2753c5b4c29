using System.Security.Cryptography;

namespace KubeBackup.Restic.Crypto;

/// <summary>
/// A restic key: a 32-byte AES-256 encryption key and a Poly1305-AES MAC key (<c>k</c>, 16 bytes, and <c>r</c>, 16 bytes).
/// Used both as the repository's master key and as the password-derived key that unlocks it.
/// Seals as <c>IV ‖ AES-256-CTR(plaintext) ‖ Poly1305-AES(ciphertext)</c>; opening checks the MAC before decrypting.
/// Immutable and safe to use from many threads.
/// </summary>
internal sealed class CryptoKey
{
    /// <summary>Bytes added by sealing: the 16-byte IV and the 16-byte MAC.</summary>
    public const int Overhead = 32;

    /// <summary>The IV (and Poly1305 nonce) length.</summary>
    public const int IvSize = 16;

    /// <summary>The MAC length.</summary>
    public const int MacSize = 16;

    private const int EncryptionKeySize = 32;
    private const int MacKeyPartSize = 16;

    // The three parts back to back in restic's order: encryption key, MAC k, MAC r (as given, possibly unclamped).
    private readonly byte[] _material;
    private readonly Aes256Ctr _cipher;
    private readonly Aes128Block _macCipher;

    /// <summary>Creates a key from its three parts. <paramref name="macR"/> may be unclamped; it is clamped at use.</summary>
    public CryptoKey(ReadOnlySpan<byte> encryptionKey, ReadOnlySpan<byte> macK, ReadOnlySpan<byte> macR)
        : this(encryptionKey, macK, macR, allowHardware: true)
    {
    }

    /// <summary>Creates a key, optionally without the AES-NI paths (for tests of the portable code).</summary>
    internal CryptoKey(ReadOnlySpan<byte> encryptionKey, ReadOnlySpan<byte> macK, ReadOnlySpan<byte> macR, bool allowHardware)
    {
        if (encryptionKey.Length != EncryptionKeySize)
        {
            throw new ArgumentException("The encryption key must be 32 bytes.", nameof(encryptionKey));
        }
        if (macK.Length != MacKeyPartSize)
        {
            throw new ArgumentException("The MAC key k must be 16 bytes.", nameof(macK));
        }
        if (macR.Length != MacKeyPartSize)
        {
            throw new ArgumentException("The MAC key r must be 16 bytes.", nameof(macR));
        }

        _material = new byte[EncryptionKeySize + 2 * MacKeyPartSize];
        encryptionKey.CopyTo(_material);
        macK.CopyTo(_material.AsSpan(EncryptionKeySize));
        macR.CopyTo(_material.AsSpan(EncryptionKeySize + MacKeyPartSize));

        _cipher = new Aes256Ctr(encryptionKey, allowHardware);
        _macCipher = new Aes128Block(macK, allowHardware);
    }

    /// <summary>A fresh random key (for a new repository's master key).</summary>
    public static CryptoKey CreateRandom()
    {
        Span<byte> bytes = stackalloc byte[EncryptionKeySize + 2 * MacKeyPartSize];
        try
        {
            while (true)
            {
                RandomNumberGenerator.Fill(bytes);
                // r is stored as generated, like restic since 0.17; it is clamped whenever it is used.
                CryptoKey key = FromDerivedBytes(bytes);
                if (key.IsValid)
                {
                    return key;
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>The key restic derives from scrypt's 64 output bytes: <c>[0,32)</c> encryption, <c>[32,48)</c> MAC k, <c>[48,64)</c> MAC r.</summary>
    public static CryptoKey FromDerivedBytes(ReadOnlySpan<byte> derived64)
    {
        if (derived64.Length != 64)
        {
            throw new ArgumentException("A derived key is 64 bytes.", nameof(derived64));
        }
        return new CryptoKey(derived64[..32], derived64[32..48], derived64[48..64]);
    }

    /// <summary>The AES-256 encryption key.</summary>
    public ReadOnlySpan<byte> EncryptionKey => _material.AsSpan(0, EncryptionKeySize);

    /// <summary>The MAC's AES-128 key <c>k</c>.</summary>
    public ReadOnlySpan<byte> MacK => _material.AsSpan(EncryptionKeySize, MacKeyPartSize);

    /// <summary>The MAC's <c>r</c>, exactly as given (possibly unclamped).</summary>
    public ReadOnlySpan<byte> MacR => _material.AsSpan(EncryptionKeySize + MacKeyPartSize, MacKeyPartSize);

    /// <summary>Whether every part is non-zero (restic rejects all-zero keys).</summary>
    public bool IsValid =>
        EncryptionKey.ContainsAnyExcept((byte)0) && MacK.ContainsAnyExcept((byte)0) && MacR.ContainsAnyExcept((byte)0);

    /// <summary>Encrypts <paramref name="plaintext"/> with a fresh random IV into <paramref name="destination"/>,
    /// which must be exactly <c>plaintext.Length + Overhead</c> bytes. The two spans must not overlap, except that
    /// <paramref name="plaintext"/> may start exactly at <c>destination[IvSize..]</c> (in-place sealing).</summary>
    public void Seal(ReadOnlySpan<byte> plaintext, Span<byte> destination)
    {
        if (destination.Length != plaintext.Length + Overhead)
        {
            throw new ArgumentException("The destination must be exactly plaintext.Length + Overhead bytes.", nameof(destination));
        }
        if (destination.Overlaps(plaintext, out int offset) && offset != IvSize)
        {
            throw new ArgumentException("The plaintext may overlap the destination only by starting at destination[IvSize..].", nameof(plaintext));
        }

        Span<byte> iv = stackalloc byte[IvSize];
        NewIv(iv);

        Span<byte> ciphertext = destination.Slice(IvSize, plaintext.Length);
        // Encrypt first: in place, the plaintext lives where the ciphertext goes, and the IV slot is separate.
        _cipher.Transform(iv, plaintext, ciphertext);
        iv.CopyTo(destination);
        ComputeMac(iv, ciphertext, destination[^MacSize..]);
    }

    /// <summary>Encrypts <paramref name="data"/> where it lies with a fresh random IV, written to <paramref name="iv"/>,
    /// and writes the MAC to <paramref name="mac"/>: the sealed blob is <c>iv ‖ data ‖ mac</c>, in three places.</summary>
    public void SealInPlace(Span<byte> data, Span<byte> iv, Span<byte> mac)
    {
        if (iv.Length != IvSize || mac.Length != MacSize)
        {
            throw new ArgumentException("The IV and the MAC are 16 bytes each.");
        }

        NewIv(iv);
        _cipher.Transform(iv, data, data);
        ComputeMac(iv, data, mac);
    }

    /// <summary>Seals into a new array.</summary>
    public byte[] Seal(ReadOnlySpan<byte> plaintext)
    {
        byte[] result = new byte[plaintext.Length + Overhead];
        Seal(plaintext, result);
        return result;
    }

    /// <summary>Verifies the MAC of <paramref name="sealedData"/> (<c>IV ‖ CT ‖ MAC</c>) in constant time and, only if it
    /// matches, decrypts into <paramref name="destination"/> (exactly <c>sealedData.Length - Overhead</c> bytes). Returns
    /// <c>false</c> without writing anything if the data is shorter than <see cref="Overhead"/>, the IV is all zero, or
    /// the MAC does not match. <paramref name="destination"/> may start exactly at <c>sealedData[IvSize..]</c> (in place).</summary>
    public bool TryOpen(ReadOnlySpan<byte> sealedData, Span<byte> destination)
    {
        if (sealedData.Length < Overhead)
        {
            return false;
        }
        if (destination.Length != sealedData.Length - Overhead)
        {
            throw new ArgumentException("The destination must be exactly sealedData.Length - Overhead bytes.", nameof(destination));
        }
        if (sealedData.Overlaps(destination, out int offset) && offset != IvSize)
        {
            throw new ArgumentException("The destination may overlap the sealed data only by starting at sealedData[IvSize..].", nameof(destination));
        }

        // Copy the IV and tag out first: in place, decryption overwrites the ciphertext region only, but keeping
        // private copies makes the order of operations irrelevant.
        Span<byte> iv = stackalloc byte[IvSize];
        sealedData[..IvSize].CopyTo(iv);
        if (!iv.ContainsAnyExcept((byte)0))
        {
            return false;
        }

        ReadOnlySpan<byte> ciphertext = sealedData[IvSize..^MacSize];
        Span<byte> expected = stackalloc byte[MacSize];
        ComputeMac(iv, ciphertext, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, sealedData[^MacSize..]))
        {
            return false;
        }

        _cipher.Transform(iv, ciphertext, destination);
        return true;
    }

    /// <summary>Opens into a new array, or throws <see cref="IntegrityException"/> naming <paramref name="fileName"/>.</summary>
    public byte[] Open(ReadOnlySpan<byte> sealedData, string? fileName = null)
    {
        if (sealedData.Length < Overhead)
        {
            throw new IntegrityException(
                $"Encrypted data is {sealedData.Length} bytes, shorter than the {Overhead}-byte IV and MAC.", fileName);
        }

        byte[] plaintext = new byte[sealedData.Length - Overhead];
        if (!TryOpen(sealedData, plaintext))
        {
            throw new IntegrityException("Ciphertext verification failed: the MAC does not match (wrong key or damaged data).", fileName);
        }
        return plaintext;
    }

    /// <summary>Poly1305-AES over the ciphertext only: <c>s = AES-128_k(nonce)</c>, then Poly1305 with the clamped
    /// <c>r</c>.</summary>
    private void ComputeMac(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, Span<byte> tag)
    {
        Span<byte> s = stackalloc byte[16];
        _macCipher.EncryptBlock(nonce, s);
        Poly1305.ComputeTag(MacR, s, ciphertext, tag);
    }

    /// <summary>A random IV; restic treats an all-zero IV as invalid, so that one is never produced.</summary>
    private static void NewIv(Span<byte> iv)
    {
        do
        {
            RandomNumberGenerator.Fill(iv);
        }
        while (!iv.ContainsAnyExcept((byte)0));
    }
}
