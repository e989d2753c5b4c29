namespace KubeBackup.Restic.Crypto;

/// <summary>
/// A restic key: a 32-byte AES-256 encryption key and a Poly1305-AES MAC key (<c>k</c>, 16 bytes, and <c>r</c>, 16 bytes).
/// Used both as the repository's master key and as the password-derived key that unlocks it.
/// Seals as <c>IV ‖ AES-256-CTR(plaintext) ‖ Poly1305-AES(ciphertext)</c>; opening checks the MAC before decrypting.
/// Immutable and safe to use from many threads.
/// </summary>
public sealed class CryptoKey
{
    /// <summary>Bytes added by sealing: the 16-byte IV and the 16-byte MAC.</summary>
    public const int Overhead = 32;

    /// <summary>The IV (and Poly1305 nonce) length.</summary>
    public const int IvSize = 16;

    /// <summary>The MAC length.</summary>
    public const int MacSize = 16;

    /// <summary>Creates a key from its three parts. <paramref name="macR"/> may be unclamped; it is clamped at use.</summary>
    public CryptoKey(ReadOnlySpan<byte> encryptionKey, ReadOnlySpan<byte> macK, ReadOnlySpan<byte> macR) => throw new NotImplementedException();

    /// <summary>A fresh random key (for a new repository's master key).</summary>
    public static CryptoKey CreateRandom() => throw new NotImplementedException();

    /// <summary>The key restic derives from scrypt's 64 output bytes: <c>[0,32)</c> encryption, <c>[32,48)</c> MAC k, <c>[48,64)</c> MAC r.</summary>
    public static CryptoKey FromDerivedBytes(ReadOnlySpan<byte> derived64) => throw new NotImplementedException();

    /// <summary>The AES-256 encryption key.</summary>
    public ReadOnlySpan<byte> EncryptionKey => throw new NotImplementedException();

    /// <summary>The MAC's AES-128 key <c>k</c>.</summary>
    public ReadOnlySpan<byte> MacK => throw new NotImplementedException();

    /// <summary>The MAC's <c>r</c>, exactly as given (possibly unclamped).</summary>
    public ReadOnlySpan<byte> MacR => throw new NotImplementedException();

    /// <summary>Whether every part is non-zero (restic rejects all-zero keys).</summary>
    public bool IsValid => throw new NotImplementedException();

    /// <summary>Encrypts <paramref name="plaintext"/> with a fresh random IV into <paramref name="destination"/>,
    /// which must be exactly <c>plaintext.Length + Overhead</c> bytes. The two spans must not overlap, except that
    /// <paramref name="plaintext"/> may start exactly at <c>destination[IvSize..]</c> (in-place sealing).</summary>
    public void Seal(ReadOnlySpan<byte> plaintext, Span<byte> destination) => throw new NotImplementedException();

    /// <summary>Seals into a new array.</summary>
    public byte[] Seal(ReadOnlySpan<byte> plaintext) => throw new NotImplementedException();

    /// <summary>Verifies the MAC of <paramref name="sealedData"/> (<c>IV ‖ CT ‖ MAC</c>) in constant time and, only if it
    /// matches, decrypts into <paramref name="destination"/> (exactly <c>sealedData.Length - Overhead</c> bytes). Returns
    /// <c>false</c> without writing anything if the data is shorter than <see cref="Overhead"/>, the IV is all zero, or
    /// the MAC does not match. <paramref name="destination"/> may start exactly at <c>sealedData[IvSize..]</c> (in place).</summary>
    public bool TryOpen(ReadOnlySpan<byte> sealedData, Span<byte> destination) => throw new NotImplementedException();

    /// <summary>Opens into a new array, or throws <see cref="IntegrityException"/> naming <paramref name="fileName"/>.</summary>
    public byte[] Open(ReadOnlySpan<byte> sealedData, string? fileName = null) => throw new NotImplementedException();
}
