namespace KubeBackup.Restic.Model;

/// <summary>A snapshot as stored in <c>snapshots/ID</c>.</summary>
public sealed class Snapshot
{
    /// <summary>When the snapshot was taken, in the creator's UTC offset.</summary>
    public GoTime Time { get; set; }

    /// <summary>The snapshot this one was compared against, if any.</summary>
    public ResticId? Parent { get; set; }

    /// <summary>The root tree.</summary>
    public ResticId Tree { get; set; }

    /// <summary>The absolute paths that were backed up.</summary>
    public List<string> Paths { get; set; } = [];

    /// <summary>The host name.</summary>
    public string? Hostname { get; set; }

    /// <summary>The user name.</summary>
    public string? Username { get; set; }

    /// <summary>The user ID.</summary>
    public uint Uid { get; set; }

    /// <summary>The group ID.</summary>
    public uint Gid { get; set; }

    /// <summary>Exclude patterns used.</summary>
    public List<string>? Excludes { get; set; }

    /// <summary>Tags.</summary>
    public List<string>? Tags { get; set; }

    /// <summary>The ID of the snapshot this one was rewritten from, if any.</summary>
    public ResticId? Original { get; set; }

    /// <summary>The program that wrote the snapshot (restic 0.16+ field).</summary>
    public string? ProgramVersion { get; set; }

    /// <summary>Statistics of the backup (restic 0.17+ field).</summary>
    public SnapshotSummary? Summary { get; set; }

    /// <summary>The snapshot's ID (the SHA-256 of its stored file). Not part of the JSON.</summary>
    public ResticId Id { get; set; }
}

/// <summary>The <c>summary</c> of a snapshot (restic 0.17+).</summary>
public sealed class SnapshotSummary
{
    /// <summary>When the backup started.</summary>
    public GoTime BackupStart { get; set; }
    /// <summary>When the backup ended.</summary>
    public GoTime BackupEnd { get; set; }
    /// <summary>Files not in the parent.</summary>
    public ulong FilesNew { get; set; }
    /// <summary>Files changed since the parent.</summary>
    public ulong FilesChanged { get; set; }
    /// <summary>Files unchanged since the parent.</summary>
    public ulong FilesUnmodified { get; set; }
    /// <summary>Folders not in the parent.</summary>
    public ulong DirsNew { get; set; }
    /// <summary>Folders changed since the parent.</summary>
    public ulong DirsChanged { get; set; }
    /// <summary>Folders unchanged since the parent.</summary>
    public ulong DirsUnmodified { get; set; }
    /// <summary>New data blobs.</summary>
    public ulong DataBlobs { get; set; }
    /// <summary>New tree blobs.</summary>
    public ulong TreeBlobs { get; set; }
    /// <summary>Plaintext bytes of new blobs.</summary>
    public ulong DataAdded { get; set; }
    /// <summary>Stored bytes of new blobs (after compression and encryption).</summary>
    public ulong DataAddedPacked { get; set; }
    /// <summary>Files processed.</summary>
    public ulong TotalFilesProcessed { get; set; }
    /// <summary>Bytes processed.</summary>
    public ulong TotalBytesProcessed { get; set; }
}
