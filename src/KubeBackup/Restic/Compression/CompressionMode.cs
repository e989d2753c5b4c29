namespace KubeBackup.Restic.Compression;

/// <summary>How data blobs are compressed in a format-2 repository (restic's <c>--compression</c>).
/// Trees and metadata files are always compressed in format 2; format 1 compresses nothing.</summary>
public enum CompressionMode
{
    /// <summary>Fast compression with a good ratio (zstd level 3, like restic's default).</summary>
    Auto,
    /// <summary>Data blobs are stored uncompressed.</summary>
    Off,
    /// <summary>The best ratio, much slower.</summary>
    Max,
}
