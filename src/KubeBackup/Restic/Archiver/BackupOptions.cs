using KubeBackup.Restic.Model;

namespace KubeBackup.Restic.Archiver;

/// <summary>What a file backup reads and how it records it.</summary>
public sealed class BackupOptions
{
    /// <summary>Files and folders to back up. Relative paths are resolved against the current folder; the snapshot
    /// records absolute paths and mirrors them in its tree (<c>/home/u/src</c> becomes <c>home/u/src</c>).</summary>
    public IList<string> Paths { get; } = [];

    /// <summary>restic-style exclude patterns (see <see cref="Filtering.PathPattern"/>), matched against absolute paths.</summary>
    public IList<string> Excludes { get; } = [];

    /// <summary>Tags of the new snapshot.</summary>
    public IList<string> Tags { get; } = [];

    /// <summary>Host name recorded in the snapshot; default: the repository options' host name.</summary>
    public string? Hostname { get; set; }

    /// <summary>The snapshot to compare against. Null picks the latest snapshot of the same host and paths, as restic does.</summary>
    public ResticId? Parent { get; set; }

    /// <summary>Read every file even if the parent says it is unchanged (restic's <c>--force</c>).</summary>
    public bool Force { get; set; }

    /// <summary>Do not compare inode numbers when deciding whether a file changed (for file systems without stable inodes).</summary>
    public bool IgnoreInode { get; set; }

    /// <summary>Do not compare change times when deciding whether a file changed.</summary>
    public bool IgnoreChangeTime { get; set; }

    /// <summary>The snapshot time; default: now.</summary>
    public DateTimeOffset? Time { get; set; }

    /// <summary>Record real access times (restic's <c>--with-atime</c>). Off by default, as in restic: the access time
    /// is then recorded as the modification time, so reading files does not make every tree look changed.</summary>
    public bool WithAccessTime { get; set; }

    /// <summary>How many files are read at once. Default: twice the repository's parallelism, so reads of one file
    /// overlap with hashing of another.</summary>
    public int? ReadConcurrency { get; set; }
}

/// <summary>A stream saved as one file in a snapshot (restic's <c>backup --stdin --stdin-filename</c>).</summary>
public sealed class StreamBackupOptions
{
    /// <summary>The file's path in the snapshot, for example <c>db/dump.sql</c> (restic's default: <c>stdin</c>).</summary>
    public string FileName { get; set; } = "stdin";

    /// <summary>Tags of the new snapshot.</summary>
    public IList<string> Tags { get; } = [];

    /// <summary>Host name recorded in the snapshot; default: the repository options' host name.</summary>
    public string? Hostname { get; set; }

    /// <summary>The snapshot time; default: now.</summary>
    public DateTimeOffset? Time { get; set; }

    /// <summary>The snapshot to record as parent; default: the latest of the same host and path.</summary>
    public ResticId? Parent { get; set; }

    /// <summary>If set, the stream must deliver exactly this many bytes; otherwise the backup fails and writes no snapshot.</summary>
    public long? ExpectedLength { get; set; }
}

/// <summary>Progress of a backup, reported a few times a second.</summary>
/// <param name="FilesDone">Files finished.</param>
/// <param name="DirectoriesDone">Folders finished.</param>
/// <param name="BytesRead">Bytes read from files (including unchanged files, counted by their size).</param>
/// <param name="BytesAdded">Plaintext bytes of new blobs.</param>
/// <param name="TotalFiles">Files found by the scan so far.</param>
/// <param name="TotalBytes">Bytes found by the scan so far.</param>
/// <param name="ScanFinished">Whether the scan has seen everything (totals are final).</param>
/// <param name="Errors">Items that could not be read.</param>
/// <param name="Elapsed">Time since the start.</param>
public sealed record BackupProgress(long FilesDone, long DirectoriesDone, long BytesRead, long BytesAdded, long TotalFiles, long TotalBytes,
    bool ScanFinished, int Errors, TimeSpan Elapsed);

/// <summary>An item that could not be backed up.</summary>
/// <param name="Path">The absolute path.</param>
/// <param name="Message">What went wrong.</param>
public sealed record BackupError(string Path, string Message);

/// <summary>The outcome of a backup.</summary>
public sealed class BackupResult
{
    /// <summary>The snapshot written.</summary>
    public required Snapshot Snapshot { get; init; }

    /// <summary>The statistics (also stored in the snapshot's <c>summary</c>).</summary>
    public required SnapshotSummary Summary { get; init; }

    /// <summary>Items that could not be read and are missing from the snapshot. When not empty the backup is
    /// incomplete: the snapshot holds everything else (restic's exit code 3).</summary>
    public required IReadOnlyList<BackupError> Errors { get; init; }

    /// <summary>Whether everything asked for was backed up.</summary>
    public bool IsComplete => Errors.Count == 0;

    /// <summary>The parent snapshot compared against, if any.</summary>
    public ResticId? Parent { get; init; }

    /// <summary>How long the backup took.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>Bytes in packs this backup uploaded (after compression and encryption).</summary>
    public long StoredBytesAdded { get; init; }
}
