using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using KubeBackup.Platform;

namespace KubeBackup.Tests.Support;

/// <summary>One entry of a <see cref="TreeSnapshot"/>: everything about it that a faithful copy must reproduce, plus
/// its inode numbers for information (those differ between copies and are never compared).</summary>
internal sealed class TreeEntry
{
    /// <summary>Path relative to the snapshot root as raw bytes, components joined by '/'; empty for the root.</summary>
    public required byte[] Path { get; init; }

    /// <summary>The path for messages: '.' for the root; control characters and invalid UTF-8 bytes escaped (\n, \xff).</summary>
    public string DisplayPath => TreeSnapshot.Escape(Path);

    /// <summary>File type.</summary>
    public required PosixFileKind Kind { get; init; }

    /// <summary>Permission bits including setuid, setgid and sticky.</summary>
    public required uint Permissions { get; init; }

    /// <summary>Owner.</summary>
    public required uint Uid { get; init; }

    /// <summary>Group.</summary>
    public required uint Gid { get; init; }

    /// <summary>Size in bytes (compared for regular files only).</summary>
    public required long Size { get; init; }

    /// <summary>Allocated 512-byte blocks.</summary>
    public required long Blocks { get; init; }

    /// <summary>Modification time.</summary>
    public required TimeSpec ModifyTime { get; init; }

    /// <summary>Access time as found when captured (symlinks' are never compared: reading the link updates it).</summary>
    public required TimeSpec AccessTime { get; init; }

    /// <summary>Lower-case hex SHA-256 of a regular file's content.</summary>
    public string? ContentSha256 { get; init; }

    /// <summary>A symlink's raw target.</summary>
    public byte[]? LinkTarget { get; init; }

    /// <summary>Device number of a device node.</summary>
    public ulong RDevice { get; init; }

    /// <summary>Extended attributes sorted by name.</summary>
    public IReadOnlyList<(string Name, byte[] Value)> ExtendedAttributes { get; init; } = [];

    /// <summary>For the second and later names of a hard-linked inode (in path order): the first name's path.</summary>
    public byte[]? HardLinkOf { get; internal set; }

    /// <summary>Whether a regular file occupies less space than its size (<c>blocks * 512 &lt; size</c>).</summary>
    public bool IsSparse => Kind == PosixFileKind.Regular && Blocks * 512 < Size;

    /// <summary>Inode number (informational).</summary>
    public ulong Inode { get; init; }

    /// <summary>Device of the file system (informational).</summary>
    public ulong Device { get; init; }

    /// <summary>Hard-link count (informational; in-tree links are compared through <see cref="HardLinkOf"/>).</summary>
    public ulong Links { get; init; }

    /// <inheritdoc/>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(DisplayPath).Append(' ').Append(Kind).Append(' ').Append(TreeSnapshot.FormatMode(Permissions))
            .Append(' ').Append(Uid).Append(':').Append(Gid).Append(" mtime=").Append(TreeSnapshot.FormatTime(ModifyTime));
        if (Kind == PosixFileKind.Regular)
        {
            text.Append(" size=").Append(Size).Append(" sha256=").Append(ContentSha256);
            if (IsSparse)
            {
                text.Append(" sparse");
            }
        }

        if (LinkTarget is not null)
        {
            text.Append(" -> ").Append(TreeSnapshot.Escape(LinkTarget));
        }

        if (Kind is PosixFileKind.CharDevice or PosixFileKind.BlockDevice)
        {
            text.Append(" rdev=").Append(RDevice);
        }

        if (HardLinkOf is not null)
        {
            text.Append(" link-of=").Append(TreeSnapshot.Escape(HardLinkOf));
        }

        foreach (var (name, value) in ExtendedAttributes)
        {
            text.Append(" xattr:").Append(name).Append('=').Append(Convert.ToHexString(value));
        }

        return text.ToString();
    }
}

/// <summary>
/// A comparable description of a file tree: per entry its raw relative path, kind, permission bits, owner, size,
/// nanosecond times, content SHA-256, link target, device number, xattrs, sparseness, and hard links expressed as
/// "same inode as path X". Capture two trees and compare them with <see cref="AssertEqual"/>.
/// </summary>
/// <remarks>Capturing reads files and folders with O_NOATIME, so it does not change the access times it records
/// (except symlinks': readlink updates them, so they are never compared). Capture a source tree before a backup
/// reads it, if access times are to be compared.</remarks>
internal sealed class TreeSnapshot
{
    private readonly Dictionary<string, TreeEntry> byPath;

    private TreeSnapshot(string root, List<TreeEntry> entries)
    {
        Root = root;
        Entries = entries;
        byPath = entries.ToDictionary(e => Key(e.Path), StringComparer.Ordinal);
    }

    /// <summary>The folder that was captured.</summary>
    public string Root { get; }

    /// <summary>All entries, the root first, sorted by raw path bytes.</summary>
    public IReadOnlyList<TreeEntry> Entries { get; }

    /// <summary>The entry at a relative path given as UTF-8 text ("" for the root), or null.</summary>
    public TreeEntry? Find(string relativePath) => Find(Encoding.UTF8.GetBytes(relativePath));

    /// <summary>The entry at a raw relative path, or null.</summary>
    public TreeEntry? Find(ReadOnlySpan<byte> relativePath) => byPath.GetValueOrDefault(Key(relativePath));

    /// <summary>Reads the whole tree below <paramref name="root"/> (which is followed if it is a symlink; nothing
    /// below it is).</summary>
    public static TreeSnapshot Capture(string root)
    {
        ArgumentNullException.ThrowIfNull(root);
        root = System.IO.Path.GetFullPath(root).TrimEnd('/');
        var entries = new List<TreeEntry>();
        var buffer = new byte[1024 * 1024];
        using (var top = DirectoryHandle.Open(root))
        {
            var rootName = Encoding.UTF8.GetBytes(System.IO.Path.GetFileName(root));
            IReadOnlyList<(string, byte[])> rootAttributes = [];
            if (rootName.Length > 0)
            {
                using var parent = DirectoryHandle.Open(System.IO.Path.GetDirectoryName(root) ?? "/");
                rootAttributes = SortAttributes(parent.ReadExtendedAttributes(rootName));
            }

            entries.Add(MakeEntry([], top.Stat(), null, null, rootAttributes));
            Walk(top, [], entries, buffer);
        }

        entries.Sort((a, b) => a.Path.AsSpan().SequenceCompareTo(b.Path));
        GroupHardLinks(entries);
        return new TreeSnapshot(root, entries);
    }

    /// <summary>The differences between two snapshots, expected first (empty if they match under the options).</summary>
    public static IReadOnlyList<TreeDifference> Compare(TreeSnapshot expected, TreeSnapshot actual, TreeCompareOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        return TreeComparer.Compare(expected, actual, options ?? TreeCompareOptions.Default);
    }

    /// <summary>Fails the test with a list of differences (path, field, expected and actual value) unless the two
    /// snapshots match under the options (<see cref="TreeCompareOptions.Default"/> if none).</summary>
    public static void AssertEqual(TreeSnapshot expected, TreeSnapshot actual, TreeCompareOptions? options = null)
    {
        options ??= TreeCompareOptions.Default;
        var differences = Compare(expected, actual, options);
        if (differences.Count == 0)
        {
            return;
        }

        var message = new StringBuilder();
        message.Append(CultureInfo.InvariantCulture, $"The trees differ in {differences.Count} place(s).\n")
            .Append(CultureInfo.InvariantCulture, $"  expected: {expected.Root}\n")
            .Append(CultureInfo.InvariantCulture, $"  actual:   {actual.Root}\n");
        foreach (var difference in differences.Take(options.MaxReportedDifferences))
        {
            message.Append("  ").Append(difference).Append('\n');
        }

        if (differences.Count > options.MaxReportedDifferences)
        {
            message.Append(CultureInfo.InvariantCulture, $"  ... and {differences.Count - options.MaxReportedDifferences} more\n");
        }

        Assert.Fail(message.ToString());
    }

    /// <summary>Like <see cref="AssertEqual"/> starting from <see cref="TreeCompareOptions.Default"/> and relaxing it,
    /// for example <c>AssertEqualIgnoring(a, b, o =&gt; o with { IgnoreOwnership = true })</c>.</summary>
    public static void AssertEqualIgnoring(TreeSnapshot expected, TreeSnapshot actual, Func<TreeCompareOptions, TreeCompareOptions> relax)
    {
        ArgumentNullException.ThrowIfNull(relax);
        AssertEqual(expected, actual, relax(TreeCompareOptions.Default));
    }

    /// <summary>One line per entry, for logs and for diffing two listings by eye.</summary>
    public string Describe() => string.Join('\n', Entries.Select(e => e.ToString()));

    // ---- capture ----

    private static void Walk(DirectoryHandle directory, byte[] prefix, List<TreeEntry> entries, byte[] buffer)
    {
        var names = directory.ReadEntries();
        names.Sort((a, b) => a.AsSpan().SequenceCompareTo(b));
        foreach (var name in names)
        {
            var path = prefix.Length == 0 ? name : [.. prefix, (byte)'/', .. name];
            var status = directory.StatChild(name);
            string? hash = null;
            byte[]? target = null;
            switch (status.Kind)
            {
                case PosixFileKind.Regular:
                    hash = HashFile(directory, name, buffer);
                    break;
                case PosixFileKind.Symlink:
                    target = directory.ReadLink(name);
                    break;
            }

            entries.Add(MakeEntry(path, status, hash, target, SortAttributes(directory.ReadExtendedAttributes(name))));
            if (status.Kind == PosixFileKind.Directory)
            {
                using var child = directory.OpenDirectory(name);
                Walk(child, path, entries, buffer);
            }
        }
    }

    private static TreeEntry MakeEntry(byte[] path, FileStatus status, string? hash, byte[]? target, IReadOnlyList<(string, byte[])> attributes) => new()
    {
        Path = path,
        Kind = status.Kind,
        Permissions = status.Permissions,
        Uid = status.Uid,
        Gid = status.Gid,
        Size = status.Size,
        Blocks = status.Blocks,
        ModifyTime = status.ModifyTime,
        AccessTime = status.AccessTime,
        ContentSha256 = hash,
        LinkTarget = target,
        RDevice = status.Kind is PosixFileKind.CharDevice or PosixFileKind.BlockDevice ? status.RDevice : 0,
        ExtendedAttributes = attributes,
        Inode = status.Inode,
        Device = status.Device,
        Links = status.Links,
    };

    private static string HashFile(DirectoryHandle directory, byte[] name, byte[] buffer)
    {
        using var file = directory.OpenFileForRead(name);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long offset = 0;
        int read;
        while ((read = RandomAccess.Read(file, buffer, offset)) > 0)
        {
            sha.AppendData(buffer, 0, read);
            offset += read;
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static List<(string, byte[])> SortAttributes(List<(string Name, byte[] Value)> attributes)
    {
        attributes.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return attributes;
    }

    private static void GroupHardLinks(List<TreeEntry> sortedEntries)
    {
        // Inode numbers differ between copies, so a hard link is described by the path of the inode's first name.
        var first = new Dictionary<(ulong Device, ulong Inode), byte[]>();
        foreach (var entry in sortedEntries)
        {
            if (entry.Kind == PosixFileKind.Directory || entry.Links < 2)
            {
                continue;
            }

            if (first.TryGetValue((entry.Device, entry.Inode), out var leader))
            {
                entry.HardLinkOf = leader;
            }
            else
            {
                first.Add((entry.Device, entry.Inode), entry.Path);
            }
        }
    }

    // ---- formatting ----

    internal static string Key(ReadOnlySpan<byte> path) => Encoding.Latin1.GetString(path); // one char per byte: lossless

    /// <summary>Raw path bytes for messages: valid printable UTF-8 as is; control and invisible characters and
    /// invalid bytes escaped, so two different names never look alike.</summary>
    public static string Escape(ReadOnlySpan<byte> raw)
    {
        if (raw.IsEmpty)
        {
            return ".";
        }

        var text = new StringBuilder(raw.Length);
        while (!raw.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(raw, out var rune, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                text.Append(CultureInfo.InvariantCulture, $"\\x{raw[0]:x2}");
                raw = raw[1..];
                continue;
            }

            raw = raw[consumed..];
            switch (rune.Value)
            {
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                default:
                    var category = Rune.GetUnicodeCategory(rune);
                    var invisible = category is UnicodeCategory.Control or UnicodeCategory.Format
                        or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
                        or UnicodeCategory.SpaceSeparator or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
                        or UnicodeCategory.OtherNotAssigned;
                    if (invisible && rune.Value != ' ')
                    {
                        text.Append(rune.Value <= 0xFFFF ? "\\u" : "\\U")
                            .Append(rune.Value.ToString(rune.Value <= 0xFFFF ? "x4" : "x8", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        text.Append(rune.ToString());
                    }

                    break;
            }
        }

        return text.ToString();
    }

    internal static string FormatTime(TimeSpec time)
    {
        var seconds = DateTimeOffset.FromUnixTimeSeconds(time.Seconds);
        return string.Create(CultureInfo.InvariantCulture, $"{seconds:yyyy-MM-ddTHH:mm:ss}.{time.Nanoseconds:D9}Z");
    }

    internal static string FormatMode(uint permissions) => "0" + Convert.ToString(permissions, 8).PadLeft(3, '0');
}
