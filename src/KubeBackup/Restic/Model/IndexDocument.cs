namespace KubeBackup.Restic.Model;

/// <summary>An index file: which blobs are in which packs, at which offsets.</summary>
public sealed class IndexDocument
{
    /// <summary>The packs this index covers.</summary>
    public List<IndexPack> Packs { get; set; } = [];

    /// <summary>Legacy: index files this one replaces. Read, never written.</summary>
    public List<ResticId>? Supersedes { get; set; }
}

/// <summary>One pack in an index.</summary>
public sealed class IndexPack
{
    /// <summary>The pack's ID (its file name).</summary>
    public ResticId Id { get; set; }

    /// <summary>The blobs in the pack.</summary>
    public List<IndexBlob> Blobs { get; set; } = [];
}

/// <summary>One blob's entry in an index.</summary>
/// <param name="Id">SHA-256 of the blob's uncompressed plaintext.</param>
/// <param name="Type">Data or tree.</param>
/// <param name="Offset">Byte offset in the pack.</param>
/// <param name="Length">Stored length (IV + ciphertext + MAC).</param>
/// <param name="UncompressedLength">Plaintext length if the blob is compressed; 0 if it is not.</param>
public readonly record struct IndexBlob(ResticId Id, BlobType Type, uint Offset, uint Length, uint UncompressedLength)
{
    /// <summary>Whether the blob is stored compressed.</summary>
    public bool IsCompressed => UncompressedLength != 0;

    /// <summary>The plaintext length: <see cref="UncompressedLength"/> if compressed, else <c>Length - 32</c>.</summary>
    public uint PlaintextLength => IsCompressed ? UncompressedLength : Length - 32;
}
