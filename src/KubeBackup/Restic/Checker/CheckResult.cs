using System.Globalization;

namespace KubeBackup.Restic.Checker;

/// <summary>The kinds of damage a check reports as errors: each makes <c>restic check</c> fail too.</summary>
public enum CheckErrorKind
{
    /// <summary>An index file cannot be read: missing while listed, content not matching its name, MAC failure, or
    /// malformed JSON (restic: "error loading index").</summary>
    IndexUnreadable,

    /// <summary>An index of a format 1 repository lists compressed blobs, which only format 2 allows.</summary>
    IndexVersionMismatch,

    /// <summary>An index lists a pack that does not exist (restic: "pack …: does not exist").</summary>
    PackMissing,

    /// <summary>A pack's size differs from the size its index entries add up to (restic: "unexpected file size").</summary>
    PackSizeMismatch,

    /// <summary>The index entries of a pack leave gaps or overlap (restic: "Index for pack contains gaps / overlapping blobs").</summary>
    PackIndexGaps,

    /// <summary>A snapshot file cannot be read or decoded, or names no tree.</summary>
    SnapshotUnreadable,

    /// <summary>A tree reachable from a snapshot is not in the index (restic: "id … not found in repository").</summary>
    TreeMissing,

    /// <summary>A tree is in the index but cannot be loaded: its pack is gone or damaged, or it does not decode.</summary>
    TreeUnreadable,

    /// <summary>A file's content blob is not in the index as a data blob (restic: "file … blob … not found in index").</summary>
    DataBlobMissing,

    /// <summary>A file node has no content list at all (restic: "file … has nil blob list").</summary>
    FileContentMissing,

    /// <summary>A file node lists the all-zero blob ID (restic: "file … blob … has null ID").</summary>
    NullBlobId,

    /// <summary>A folder node has no subtree, or the all-zero one (restic: "dir node … has no subtree").</summary>
    DirectoryWithoutSubtree,

    /// <summary>A node has a type restic does not accept (restic: "node … with invalid type").</summary>
    InvalidNodeType,

    /// <summary>A node has an empty name (restic: "node with empty name").</summary>
    EmptyNodeName,

    /// <summary>Read-data: a pack could not be read from the storage.</summary>
    PackReadFailed,

    /// <summary>Read-data: a pack's SHA-256 differs from its name (restic: "Pack ID does not match").</summary>
    PackIdMismatch,

    /// <summary>Read-data: a pack's header cannot be read, fails its MAC, or is malformed.</summary>
    PackHeaderInvalid,

    /// <summary>Read-data: a pack's header and the index disagree on which blobs are where (restic: "Blob … is not
    /// contained in index or position is incorrect", "Pack header size does not match").</summary>
    PackHeaderMismatch,

    /// <summary>Read-data: a blob fails its MAC, does not decompress, or does not hash to its ID.</summary>
    BlobDamaged,
}

/// <summary>Findings that are not errors (restic prints them but still says "no errors were found").</summary>
public enum CheckHintKind
{
    /// <summary>A pack file that no index lists (restic: "not referenced in any index"); prune deletes it.</summary>
    PackNotIndexed,

    /// <summary>A pack that several index files list; rebuilding the index tidies it.</summary>
    PackInSeveralIndexes,

    /// <summary>A pack with both data and tree blobs (allowed in format 1; prune repacks it).</summary>
    MixedPack,

    /// <summary>An index file in the legacy format (a bare list of packs).</summary>
    OldIndexFormat,

    /// <summary>Blobs stored in more than one pack (left by concurrent backups or an interrupted prune); prune removes the extra copies.</summary>
    DuplicateBlobs,

    /// <summary>Blobs no snapshot uses (left by forget without prune); prune removes them.</summary>
    UnusedBlobs,
}

/// <summary>Where damage shows: a path in a snapshot whose data is lost or whose tree is broken. The path is absolute in
/// the snapshot, as <c>restic ls</c> prints it; <c>/</c> means the whole snapshot.</summary>
/// <param name="SnapshotId">The snapshot.</param>
/// <param name="Path">The path in the snapshot.</param>
public sealed record AffectedPath(ResticId SnapshotId, string Path)
{
    /// <inheritdoc />
    public override string ToString() => $"snapshot {SnapshotId.ToShortString()}: {Path}";
}

/// <summary>One error found by a check: what kind, in which repository file, which blobs, and which snapshot paths it damages.</summary>
public sealed class CheckError
{
    /// <summary>What is wrong.</summary>
    public required CheckErrorKind Kind { get; init; }

    /// <summary>A description in restic's words.</summary>
    public required string Message { get; init; }

    /// <summary>The damaged repository file relative to the repository root (<c>data/ab/ab12…</c>, <c>index/…</c>,
    /// <c>snapshots/…</c>), if the error is about one.</summary>
    public string? FileName { get; init; }

    /// <summary>The pack concerned, if any.</summary>
    public ResticId? PackId { get; init; }

    /// <summary>The index files that list the pack or blob concerned.</summary>
    public IReadOnlyList<ResticId> IndexFiles { get; init; } = [];

    /// <summary>The snapshot concerned, for snapshot errors.</summary>
    public ResticId? SnapshotId { get; init; }

    /// <summary>The tree concerned: the missing or unreadable tree itself, or the tree holding a bad node.</summary>
    public ResticId? TreeId { get; init; }

    /// <summary>The name of the bad node, for node errors.</summary>
    public string? NodeName { get; init; }

    /// <summary>The blobs this error concerns (damaged, missing or misplaced).</summary>
    public IReadOnlyList<ResticId> BlobIds { get; init; } = [];

    /// <summary>The snapshot paths this error damages: files whose content is lost, folders whose tree is lost, bad
    /// nodes. Empty when no snapshot uses what is damaged, or when another intact copy of every damaged blob exists.</summary>
    public IReadOnlyList<AffectedPath> AffectedPaths { get; internal set; } = [];

    /// <inheritdoc />
    public override string ToString() => Message;
}

/// <summary>A non-critical finding: the repository is usable, but prune or an index rebuild would tidy it.</summary>
public sealed class CheckHint
{
    /// <summary>What was found.</summary>
    public required CheckHintKind Kind { get; init; }

    /// <summary>A description in restic's words.</summary>
    public required string Message { get; init; }

    /// <summary>The pack concerned, if any.</summary>
    public ResticId? PackId { get; init; }

    /// <summary>The index files concerned, if any.</summary>
    public IReadOnlyList<ResticId> IndexFiles { get; init; } = [];

    /// <summary>The blobs concerned (at most <see cref="CheckOptions.MaxBlobIdsPerHint"/>).</summary>
    public IReadOnlyList<ResticId> BlobIds { get; init; } = [];

    /// <summary>How many items the hint covers (for example the number of unused blobs), which may exceed <see cref="BlobIds"/>.</summary>
    public long Count { get; init; } = 1;

    /// <inheritdoc />
    public override string ToString() => Message;
}

/// <summary>The stages of a check, in order.</summary>
public enum CheckPhase
{
    /// <summary>Reading the index files.</summary>
    LoadIndex,
    /// <summary>Comparing the indexed packs with the pack files in storage.</summary>
    Packs,
    /// <summary>Loading snapshots and walking their trees.</summary>
    Snapshots,
    /// <summary>Reading and verifying pack data.</summary>
    ReadData,
    /// <summary>Finding which snapshot paths the damage touches.</summary>
    Affected,
}

/// <summary>Progress of a check.</summary>
/// <param name="Phase">The current stage.</param>
/// <param name="Done">Items done in this stage (index files, packs, trees).</param>
/// <param name="Total">Items known in this stage (for the tree walk, grows as trees are found).</param>
/// <param name="BytesRead">Pack bytes read so far (read-data).</param>
/// <param name="Elapsed">Time since the start.</param>
public sealed record CheckProgress(CheckPhase Phase, long Done, long Total, long BytesRead, TimeSpan Elapsed);

/// <summary>The outcome of a check: errors, hints, what the errors damage, and what was checked.</summary>
public sealed class CheckResult
{
    /// <summary>The errors; empty when the repository is sound.</summary>
    public required IReadOnlyList<CheckError> Errors { get; init; }

    /// <summary>Non-critical findings.</summary>
    public required IReadOnlyList<CheckHint> Hints { get; init; }

    /// <summary>Whether no error was found (hints may exist): restic would say "no errors were found".</summary>
    public bool IsClean => Errors.Count == 0;

    /// <summary>Every snapshot path the errors damage, at most <see cref="CheckOptions.MaxAffectedPaths"/>, sorted by snapshot and path.</summary>
    public required IReadOnlyList<AffectedPath> AffectedPaths { get; init; }

    /// <summary>Whether <see cref="AffectedPaths"/> was cut at <see cref="CheckOptions.MaxAffectedPaths"/>.</summary>
    public bool AffectedPathsTruncated { get; init; }

    /// <summary>Every snapshot that cannot be restored completely (always complete, unlike <see cref="AffectedPaths"/>).</summary>
    public required IReadOnlyList<ResticId> AffectedSnapshots { get; init; }

    /// <summary>Index files read.</summary>
    public int IndexFiles { get; init; }

    /// <summary>Packs the index lists.</summary>
    public int Packs { get; init; }

    /// <summary>Distinct blobs (ID and type) the index lists.</summary>
    public long Blobs { get; init; }

    /// <summary>Snapshots checked.</summary>
    public int Snapshots { get; init; }

    /// <summary>Distinct trees walked.</summary>
    public long Trees { get; init; }

    /// <summary>Pack files in storage that no index lists.</summary>
    public int UnreferencedPacks { get; init; }

    /// <summary>Blobs no snapshot uses (counted only when every snapshot and tree could be read, else 0).</summary>
    public long UnusedBlobs { get; init; }

    /// <summary>Packs read and verified.</summary>
    public int PacksRead { get; init; }

    /// <summary>Bytes of pack data read.</summary>
    public long BytesRead { get; init; }

    /// <summary>How long the check took.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>A one-line summary: "no errors were found", or how many errors and affected snapshots.</summary>
    public override string ToString() => IsClean
        ? "no errors were found"
        : string.Create(CultureInfo.InvariantCulture, $"{Errors.Count} errors, {AffectedSnapshots.Count} snapshots affected");
}
