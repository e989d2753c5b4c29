using System.Runtime.Intrinsics;
using System.Security.Cryptography;

namespace KubeBackup.Restic.Crypto;

/// <summary>
/// Single-block AES-128 encryption, which Poly1305-AES needs once per message to turn the nonce into <c>s</c>.
/// Immutable after construction and safe to share between threads.
/// </summary>
internal sealed class Aes128Block
{
    private readonly byte[] _key;
    private readonly bool _hardware;
    private Aes128RoundKeys _roundKeys;

    /// <summary>Creates the cipher for a 16-byte key.</summary>
    /// <param name="key">The AES-128 key.</param>
    /// <param name="allowHardware">False forces the portable path.</param>
    public Aes128Block(ReadOnlySpan<byte> key, bool allowHardware = true)
    {
        if (key.Length != 16)
        {
            throw new ArgumentException("AES-128 needs a 16-byte key.", nameof(key));
        }

        _key = key.ToArray();
        _hardware = allowHardware && AesNi.IsSupported;
        if (_hardware)
        {
            AesNi.ExpandKey128(key, ref _roundKeys);
        }
    }

    /// <summary>Encrypts one 16-byte block.</summary>
    public void EncryptBlock(ReadOnlySpan<byte> block, Span<byte> destination)
    {
        if (block.Length != 16 || destination.Length != 16)
        {
            throw new ArgumentException("AES works on 16-byte blocks.");
        }

        if (_hardware)
        {
            AesNi.Encrypt(Vector128.Create(block), in _roundKeys).CopyTo(destination);
            return;
        }

        // See Aes256Ctr: a per-call object keeps the portable path thread-safe.
        using Aes aes = Aes.Create();
        aes.Key = _key;
        aes.EncryptEcb(block, destination, PaddingMode.None);
    }
}
