using KubeBackup.Restic.Compression;
using KubeBackup.Restic.Repository;

namespace KubeBackup.Restic.Pruning;

/// <summary>How aggressively prune reclaims space (restic's <c>prune</c> flags).</summary>
public sealed class PruneOptions
{
    /// <summary>Unused space to tolerate after pruning, as a percentage of the used data (restic's
    /// <c>--max-unused</c>, default 5%). Packs that are partly unused are repacked until at most this much is left.
    /// <c>null</c> means "unlimited": no data pack is repacked for its unused space (tree packs with unused trees,
    /// packs mixing data and trees, and ten or more very small packs still are, as in restic).</summary>
    public double? MaxUnusedPercent { get; set; } = 5;

    /// <summary>Stop repacking after this many bytes of packs (restic's <c>--max-repack-size</c>); null for no limit.</summary>
    public long? MaxRepackBytes { get; set; }

    /// <summary>Repack every pack holding uncompressed blobs so that all data ends up compressed (restic's
    /// <c>--repack-uncompressed</c>): for a repository upgraded from format 1, whose old data was stored as it was.
    /// Needs format 2 and a compression mode other than off (<see cref="RepositoryException"/> otherwise). Blobs are
    /// then stored compressed even where zstd gains nothing (a few bytes more), so a second run finds nothing left to do.
    /// Trees are compressed by every prune of a format 2 repository, with or without this option.</summary>
    public bool RepackUncompressed { get; set; }

    /// <summary>Throws if <paramref name="repository"/> cannot carry out these options (<see cref="RepackUncompressed"/>
    /// on format 1 or with compression off). Prune checks this before it takes the lock; a caller that does other work
    /// first (forget, then prune) checks it before that work.</summary>
    /// <exception cref="RepositoryException">The options ask for what the repository cannot do.</exception>
    public void EnsureSupportedBy(ResticRepository repository)
    {
        ArgumentNullException.ThrowIfNull(repository);
        if (RepackUncompressed && !repository.SupportsCompression)
        {
            throw new RepositoryException($"Repacking uncompressed data needs repository format 2; this repository is format {repository.Config.Version} (upgrade it first: restic migrate upgrade_repo_v2).");
        }

        if (RepackUncompressed && repository.Options.Compression == CompressionMode.Off)
        {
            throw new RepositoryException("Repacking uncompressed data needs compression: it is off for this repository handle.");
        }
    }

    /// <summary>Only compute and return the plan; change nothing.</summary>
    public bool DryRun { get; set; }

    /// <summary>How long to wait for the exclusive lock (restic's <c>--retry-lock</c>); zero fails at once.</summary>
    public TimeSpan RetryLock { get; set; }
}

/// <summary>What a prune did (or, in a dry run, would do).</summary>
public sealed class PruneResult
{
    /// <summary>Blobs referenced by snapshots.</summary>
    public long UsedBlobs { get; init; }

    /// <summary>Bytes (stored) of the blobs referenced by snapshots.</summary>
    public long UsedBytes { get; init; }

    /// <summary>Bytes (stored) of blobs no snapshot references, before pruning.</summary>
    public long UnusedBytesBefore { get; init; }

    /// <summary>Bytes (stored) of unused blobs left after pruning (in packs not worth repacking).</summary>
    public long UnusedBytesAfter { get; init; }

    /// <summary>Packs deleted because nothing in them is used.</summary>
    public int PacksDeleted { get; init; }

    /// <summary>Packs whose used blobs were copied into new packs and which were then deleted.</summary>
    public int PacksRepacked { get; init; }

    /// <summary>Packs on storage that no index mentions (left by interrupted backups); deleted.</summary>
    public int UnreferencedPacksDeleted { get; init; }

    /// <summary>New packs written by repacking.</summary>
    public int PacksWritten { get; init; }

    /// <summary>Packs kept as they are.</summary>
    public int PacksKept { get; init; }

    /// <summary>Index files replaced.</summary>
    public int IndexFilesReplaced { get; init; }

    /// <summary>Stored bytes freed (deleted packs minus new packs).</summary>
    public long BytesFreed { get; init; }

    /// <summary>Whether this was a dry run (nothing changed).</summary>
    public bool DryRun { get; init; }

    /// <summary>How long it took.</summary>
    public TimeSpan Duration { get; init; }
}

/// <summary>Progress of a prune.</summary>
/// <param name="Phase">What is happening.</param>
/// <param name="Done">Items done in this phase.</param>
/// <param name="Total">Items in this phase (0 if unknown).</param>
public sealed record PruneProgress(string Phase, long Done, long Total);
