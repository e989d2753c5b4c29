namespace KubeBackup.Restic.Restorer;

/// <summary>What a restore writes and where.</summary>
public sealed class RestoreOptions
{
    /// <summary>The folder to restore into; created if missing. Nothing is ever written outside it.</summary>
    public required string Target { get; set; }

    /// <summary>restic-style patterns of snapshot paths to restore (with their contents); empty restores everything.</summary>
    public IList<string> Includes { get; } = [];

    /// <summary>restic-style patterns of snapshot paths to leave out.</summary>
    public IList<string> Excludes { get; } = [];

    /// <summary>Leave runs of zeros as holes, so sparse files stay sparse (restic's <c>--sparse</c>). Default on.</summary>
    public bool Sparse { get; set; } = true;

    /// <summary>Restore owners (uid/gid). Default: only when running as root, since others cannot give files away.</summary>
    public bool? RestoreOwnership { get; set; }

    /// <summary>
    /// Write files of 1 MiB or more past the page cache (<c>O_DIRECT</c>) where the file system takes it; default on.
    /// A large restore then leaves the node's page cache to its workloads and leaves no backlog of dirty pages behind
    /// it. Restored bytes are the same either way; set it off to find the restored files in the cache afterwards (to
    /// read them at once). File systems without <c>O_DIRECT</c> (some FUSE and network file systems) are written
    /// through the cache regardless.
    /// </summary>
    public bool BypassPageCache { get; set; } = true;

    /// <summary>How many blobs are fetched and written at once. Default: twice the repository's parallelism, at least 4.</summary>
    public int? Concurrency { get; set; }
}

/// <summary>Progress of a restore.</summary>
/// <param name="FilesDone">Files completely written.</param>
/// <param name="FilesTotal">Files found so far.</param>
/// <param name="BytesDone">Bytes written.</param>
/// <param name="BytesTotal">Bytes of the files found so far.</param>
/// <param name="Elapsed">Time since the start.</param>
public sealed record RestoreProgress(long FilesDone, long FilesTotal, long BytesDone, long BytesTotal, TimeSpan Elapsed);

/// <summary>Something that could not be restored.</summary>
/// <param name="Path">The path in the snapshot.</param>
/// <param name="Message">What went wrong.</param>
/// <param name="Exception">The typed error behind it, if any (for example an <see cref="IntegrityException"/> naming a damaged pack).</param>
public sealed record RestoreError(string Path, string Message, Exception? Exception = null);

/// <summary>The outcome of a restore.</summary>
public sealed class RestoreResult
{
    /// <summary>Files restored.</summary>
    public long Files { get; init; }

    /// <summary>Folders restored.</summary>
    public long Directories { get; init; }

    /// <summary>Symlinks, hard links, fifos and devices restored.</summary>
    public long OtherNodes { get; init; }

    /// <summary>Bytes of file content written.</summary>
    public long Bytes { get; init; }

    /// <summary>What could not be restored; empty when everything was.</summary>
    public required IReadOnlyList<RestoreError> Errors { get; init; }

    /// <summary>Whether everything selected was restored.</summary>
    public bool IsComplete => Errors.Count == 0;

    /// <summary>How long the restore took.</summary>
    public TimeSpan Duration { get; init; }
}
