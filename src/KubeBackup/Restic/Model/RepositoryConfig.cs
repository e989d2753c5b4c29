using KubeBackup.Restic.Chunking;

namespace KubeBackup.Restic.Model;

/// <summary>The repository's <c>config</c> file content.</summary>
public sealed class RepositoryConfig
{
    /// <summary>The repository format version, 1 or 2.</summary>
    public uint Version { get; set; }
    /// <summary>The repository's random ID.</summary>
    public ResticId Id { get; set; }
    /// <summary>The polynomial every chunker of this repository uses.</summary>
    public ChunkerPolynomial ChunkerPolynomial { get; set; }
}
