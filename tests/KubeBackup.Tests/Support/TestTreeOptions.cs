namespace KubeBackup.Tests.Support;

/// <summary>What <see cref="TestTree.Generate"/> puts in a tree and how big. The defaults make the full tree
/// (429 entries, 83 MiB apparent, 44 MiB on disk, about 1 s); <see cref="Quick"/> keeps every kind of item but
/// shrinks the sizes (167 entries, 33 MiB apparent).</summary>
internal sealed record TestTreeOptions
{
    private const int MiB = 1024 * 1024;

    /// <summary>The full-size tree.</summary>
    public static TestTreeOptions Default { get; } = new();

    /// <summary>Every kind of item, with the large files just over restic's 8 MiB maximum chunk size and few small files.</summary>
    public static TestTreeOptions Quick { get; } = new()
    {
        SmallFileCount = 40,
        BigFileSize = 9 * MiB,
        ZeroRunFileSize = 9 * MiB,
        SparseFileSize = 12 * MiB,
    };

    /// <summary>How many small files to make under <c>small/</c> (0 is allowed).</summary>
    public int SmallFileCount { get; init; } = 300;

    /// <summary>How many small files go in each folder <c>small/dNNN</c>.</summary>
    public int SmallFilesPerFolder { get; init; } = 100;

    /// <summary>The largest small file; sizes are spread from 0 to this.</summary>
    public int SmallFileMaxSize { get; init; } = 16 * 1024;

    /// <summary>Size of <c>big/random.bin</c> (pseudo-random bytes); over 8 MiB it spans several chunks.</summary>
    public long BigFileSize { get; init; } = 20 * MiB;

    /// <summary>Size of <c>big/zero-runs.bin</c>: random islands between long runs of zeros, written densely.</summary>
    public long ZeroRunFileSize { get; init; } = 20 * MiB;

    /// <summary>Size of <c>big/sparse.bin</c> (a few data regions, the rest holes); <c>big/hole-only.bin</c> is a quarter of it.</summary>
    public long SparseFileSize { get; init; } = 32 * MiB;

    /// <summary>Names and a symlink target that are not valid UTF-8 (off for tools that cannot carry them).</summary>
    public bool IncludeInvalidUtf8 { get; init; } = true;

    /// <summary>Entries owned by other users (1234:2345, 0:2345, 65534:65534); only when running as root.</summary>
    public bool IncludeOwnership { get; init; } = true;

    /// <summary>A character device (1:3, the numbers of /dev/null) and a block device; only when running as root and
    /// where mknod is allowed.</summary>
    public bool IncludeDevices { get; init; } = true;

    /// <summary>A fifo.</summary>
    public bool IncludeFifo { get; init; } = true;

    /// <summary><c>user.kb.*</c> extended attributes; skipped (and reported) where the file system refuses them.</summary>
    public bool IncludeExtendedAttributes { get; init; } = true;

    /// <summary>Timestamps before 1970 and after 2038 under <c>times/</c>.</summary>
    public bool IncludeExtremeTimes { get; init; } = true;
}

/// <summary>What <see cref="TestTree.Generate"/> made.</summary>
/// <param name="Root">The tree's root folder.</param>
/// <param name="Seed">The seed it was made from.</param>
/// <param name="Directories">Directories, not counting the root.</param>
/// <param name="RegularFiles">Names of regular files, hard-link names included.</param>
/// <param name="HardLinkNames">Names that are extra hard links to a file already counted.</param>
/// <param name="Symlinks">Symbolic links.</param>
/// <param name="Fifos">Named pipes.</param>
/// <param name="Devices">Device nodes.</param>
/// <param name="ContentBytes">Apparent size of all distinct regular files.</param>
/// <param name="ExtendedAttributes">Whether the xattrs were set (false if not asked for or refused).</param>
/// <param name="Ownership">Whether entries were given to other owners.</param>
/// <param name="Skipped">Items that were asked for but could not be made here, with the reason.</param>
internal sealed record TestTreeInfo(
    string Root,
    int Seed,
    int Directories,
    int RegularFiles,
    int HardLinkNames,
    int Symlinks,
    int Fifos,
    int Devices,
    long ContentBytes,
    bool ExtendedAttributes,
    bool Ownership,
    IReadOnlyList<string> Skipped)
{
    /// <summary>Entries below the root.</summary>
    public int Entries => Directories + RegularFiles + Symlinks + Fifos + Devices;

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Root} (seed {Seed}): {Entries} entries: {Directories} directories, {RegularFiles} file names " +
        $"({HardLinkNames} extra hard links), {Symlinks} symlinks, {Fifos} fifos, {Devices} devices; {ContentBytes} bytes; " +
        $"xattrs {(ExtendedAttributes ? "set" : "not set")}, ownership {(Ownership ? "set" : "not set")}" +
        (Skipped.Count == 0 ? "" : "; skipped: " + string.Join("; ", Skipped));
}
