using KubeBackup.Restic.Model;

namespace KubeBackup.Restic.Index;

/// <summary>Where a blob is stored: its pack, offset, stored length and (if compressed) plaintext length.</summary>
/// <param name="PackId">The pack that holds the blob.</param>
/// <param name="Type">Data or tree.</param>
/// <param name="Offset">Offset in the pack.</param>
/// <param name="Length">Stored length (IV + ciphertext + MAC).</param>
/// <param name="UncompressedLength">Plaintext length if compressed, else 0.</param>
internal readonly record struct BlobLocation(ResticId PackId, BlobType Type, uint Offset, uint Length, uint UncompressedLength)
{
    /// <summary>Whether the blob is stored compressed.</summary>
    public bool IsCompressed => UncompressedLength != 0;

    /// <summary>The plaintext length.</summary>
    public uint PlaintextLength => IsCompressed ? UncompressedLength : Length - Crypto.CryptoKey.Overhead;
}

/// <summary>Identifies a blob: restic keys blobs by ID and type, so one ID can exist as data and as tree.</summary>
/// <param name="Id">SHA-256 of the plaintext.</param>
/// <param name="Type">Data or tree.</param>
internal readonly record struct BlobKey(ResticId Id, BlobType Type);
