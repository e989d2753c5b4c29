using KubeBackup.Restic.Model;

namespace KubeBackup.Restic.Packs;

/// <summary>One blob as a pack header describes it: where it starts, how long it is stored, and its plaintext length
/// if it is compressed.</summary>
/// <param name="Id">SHA-256 of the uncompressed plaintext.</param>
/// <param name="Type">Data or tree.</param>
/// <param name="Offset">Byte offset in the pack.</param>
/// <param name="Length">Stored length (IV + ciphertext + MAC).</param>
/// <param name="UncompressedLength">Plaintext length if compressed, else 0.</param>
internal readonly record struct PackBlob(ResticId Id, BlobType Type, uint Offset, uint Length, uint UncompressedLength)
{
    /// <summary>Whether the blob is stored compressed.</summary>
    public bool IsCompressed => UncompressedLength != 0;

    /// <summary>The plaintext length.</summary>
    public uint PlaintextLength => IsCompressed ? UncompressedLength : Length - Crypto.CryptoKey.Overhead;

    /// <summary>The index entry of this blob.</summary>
    public IndexBlob ToIndexBlob() => new(Id, Type, Offset, Length, UncompressedLength);
}
