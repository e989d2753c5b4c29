using System.Globalization;
using System.Text;
using KubeBackup.Platform;

namespace KubeBackup.Tests.Support;

/// <summary>What <see cref="TreeSnapshot.AssertEqual"/> compares. Every switch off means "compare"; relax with
/// <c>with</c>, for example <c>TreeCompareOptions.Default with { IgnoreOwnership = true }</c>.</summary>
/// <remarks>Never compared: inode and device numbers, link counts (hard links are compared as groups of paths),
/// directory sizes, ctime, and the access times of symlinks (reading a link updates it).</remarks>
internal sealed record TreeCompareOptions
{
    /// <summary>Everything, access times included.</summary>
    public static TreeCompareOptions Strict { get; } = new();

    /// <summary>Everything except access times, which any reader of the tree may move.</summary>
    public static TreeCompareOptions Default { get; } = new() { IgnoreAccessTimes = true };

    /// <summary>What Debian's restic 0.14 restores of a tree it backed up (checked by
    /// <c>TestTreeTests.Restic_restores_the_tree_as_the_Restic014_options_say</c>): everything except access times
    /// (it sets them to the modification time), sparseness (it writes holes out as zeros; <c>--sparse</c> came in
    /// 0.15), and symlink targets that are not valid UTF-8 (it stores them as text with bad bytes replaced by U+FFFD;
    /// <c>linktarget_raw</c> came in 0.16). Ownership, setuid/setgid/sticky, xattrs, hard links, devices, fifos,
    /// invalid-UTF-8 names and nanosecond mtimes (before 1970 and after 2038 too) all come back exactly.</summary>
    public static TreeCompareOptions Restic014 { get; } = Default with
    {
        IgnoreSparseness = true,
        CompareLinkTargetsAsLossyUtf8 = true,
    };

    /// <summary>Do not compare access times.</summary>
    public bool IgnoreAccessTimes { get; init; }

    /// <summary>Do not compare modification times at all.</summary>
    public bool IgnoreModifyTimes { get; init; }

    /// <summary>Do not compare the modification times of directories (the root's included).</summary>
    public bool IgnoreDirectoryModifyTimes { get; init; }

    /// <summary>Compare times only to this many nanoseconds (1 = exact; 1000 = microseconds; 1_000_000_000 = seconds).</summary>
    public long TimeResolutionNanoseconds { get; init; } = 1;

    /// <summary>Do not compare uid and gid.</summary>
    public bool IgnoreOwnership { get; init; }

    /// <summary>Do not compare permission bits at all.</summary>
    public bool IgnorePermissions { get; init; }

    /// <summary>Compare only the 0777 bits, not setuid, setgid and sticky.</summary>
    public bool IgnoreSpecialPermissionBits { get; init; }

    /// <summary>Do not compare extended attributes.</summary>
    public bool IgnoreExtendedAttributes { get; init; }

    /// <summary>Which extended attributes to compare, by name (null: all).</summary>
    public Func<string, bool>? IncludeExtendedAttribute { get; init; }

    /// <summary>Do not compare whether regular files are sparse.</summary>
    public bool IgnoreSparseness { get; init; }

    /// <summary>Do not compare which paths are hard links of one another.</summary>
    public bool IgnoreHardLinks { get; init; }

    /// <summary>Do not compare the root folder's own metadata (mode, owner, times, xattrs).</summary>
    public bool IgnoreRootMetadata { get; init; }

    /// <summary>Compare symlink targets after decoding them as UTF-8 with invalid bytes replaced by U+FFFD.</summary>
    public bool CompareLinkTargetsAsLossyUtf8 { get; init; }

    /// <summary>Entries to leave out on both sides (a folder's entries are not left out with it).</summary>
    public Func<TreeEntry, bool>? Exclude { get; init; }

    /// <summary>How many differences the failure message lists.</summary>
    public int MaxReportedDifferences { get; init; } = 50;
}

/// <summary>One difference between two trees.</summary>
/// <param name="Path">The entry's escaped relative path ('.' for the root).</param>
/// <param name="Field">What differs: entry, kind, mode, uid, gid, size, content, sparse, target, rdev, mtime, atime,
/// xattr NAME, hardlink.</param>
/// <param name="Expected">The expected value, formatted.</param>
/// <param name="Actual">The actual value, formatted.</param>
internal sealed record TreeDifference(string Path, string Field, string Expected, string Actual)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Path}: {Field}: expected {Expected}, actual {Actual}";
}

internal static class TreeComparer
{
    public static List<TreeDifference> Compare(TreeSnapshot expected, TreeSnapshot actual, TreeCompareOptions options)
    {
        var differences = new List<TreeDifference>();
        foreach (var e in expected.Entries)
        {
            if (options.Exclude?.Invoke(e) == true)
            {
                continue;
            }

            var a = actual.Find(e.Path);
            if (a is null || options.Exclude?.Invoke(a) == true)
            {
                differences.Add(new(e.DisplayPath, "entry", $"a {Describe(e.Kind)}", "missing"));
                continue;
            }

            CompareEntry(e, a, options, differences);
        }

        foreach (var a in actual.Entries)
        {
            if (options.Exclude?.Invoke(a) != true && expected.Find(a.Path) is null)
            {
                differences.Add(new(a.DisplayPath, "entry", "missing", $"a {Describe(a.Kind)}"));
            }
        }

        return differences;
    }

    private static void CompareEntry(TreeEntry e, TreeEntry a, TreeCompareOptions options, List<TreeDifference> differences)
    {
        void Check<T>(string field, T expected, T actual, Func<T, string>? format = null)
        {
            if (!EqualityComparer<T>.Default.Equals(expected, actual))
            {
                format ??= v => v?.ToString() ?? "none";
                differences.Add(new(e.DisplayPath, field, format(expected), format(actual)));
            }
        }

        if (e.Kind != a.Kind)
        {
            differences.Add(new(e.DisplayPath, "kind", Describe(e.Kind), Describe(a.Kind)));
            return;
        }

        var isRoot = e.Path.Length == 0;
        if (isRoot && options.IgnoreRootMetadata)
        {
            return;
        }

        if (!options.IgnorePermissions && e.Kind != PosixFileKind.Symlink)
        {
            var mask = options.IgnoreSpecialPermissionBits ? 0x1FFu : 0xFFFu;
            Check("mode", e.Permissions & mask, a.Permissions & mask, TreeSnapshot.FormatMode);
        }

        if (!options.IgnoreOwnership)
        {
            Check("uid", e.Uid, a.Uid);
            Check("gid", e.Gid, a.Gid);
        }

        switch (e.Kind)
        {
            case PosixFileKind.Regular:
                Check("size", e.Size, a.Size);
                Check("content", e.ContentSha256, a.ContentSha256, h => $"sha256 {h}");
                if (!options.IgnoreSparseness)
                {
                    Check("sparse", e.IsSparse, a.IsSparse, s => s ? $"sparse" : "not sparse");
                }

                break;
            case PosixFileKind.Symlink:
                if (options.CompareLinkTargetsAsLossyUtf8)
                {
                    Check("target", Encoding.UTF8.GetString(e.LinkTarget!), Encoding.UTF8.GetString(a.LinkTarget!),
                        t => TreeSnapshot.Escape(Encoding.UTF8.GetBytes(t)));
                }
                else
                {
                    Check("target", TreeSnapshot.Key(e.LinkTarget!), TreeSnapshot.Key(a.LinkTarget!),
                        t => TreeSnapshot.Escape(Encoding.Latin1.GetBytes(t)));
                }

                break;
            case PosixFileKind.CharDevice or PosixFileKind.BlockDevice:
                Check("rdev", e.RDevice, a.RDevice, FormatDevice);
                break;
        }

        var resolution = Math.Max(1, options.TimeResolutionNanoseconds);
        var isDirectory = e.Kind == PosixFileKind.Directory;
        if (!options.IgnoreModifyTimes && !(isDirectory && options.IgnoreDirectoryModifyTimes))
        {
            Check("mtime", Truncate(e.ModifyTime, resolution), Truncate(a.ModifyTime, resolution), FormatNanoseconds);
        }

        if (!options.IgnoreAccessTimes && e.Kind != PosixFileKind.Symlink)
        {
            Check("atime", Truncate(e.AccessTime, resolution), Truncate(a.AccessTime, resolution), FormatNanoseconds);
        }

        if (!options.IgnoreExtendedAttributes)
        {
            CompareAttributes(e, a, options, differences);
        }

        if (!options.IgnoreHardLinks)
        {
            Check("hardlink", e.HardLinkOf is null ? null : TreeSnapshot.Key(e.HardLinkOf), a.HardLinkOf is null ? null : TreeSnapshot.Key(a.HardLinkOf),
                p => p is null ? "its own inode" : $"same inode as {TreeSnapshot.Escape(Encoding.Latin1.GetBytes(p))}");
        }
    }

    private static void CompareAttributes(TreeEntry e, TreeEntry a, TreeCompareOptions options, List<TreeDifference> differences)
    {
        var include = options.IncludeExtendedAttribute ?? (_ => true);
        var expected = e.ExtendedAttributes.Where(x => include(x.Name)).ToDictionary(x => x.Name, x => x.Value, StringComparer.Ordinal);
        var actual = a.ExtendedAttributes.Where(x => include(x.Name)).ToDictionary(x => x.Name, x => x.Value, StringComparer.Ordinal);
        foreach (var name in expected.Keys.Union(actual.Keys).Order(StringComparer.Ordinal))
        {
            var hasExpected = expected.TryGetValue(name, out var ev);
            var hasActual = actual.TryGetValue(name, out var av);
            if (hasExpected && hasActual && ev.AsSpan().SequenceEqual(av))
            {
                continue;
            }

            differences.Add(new(e.DisplayPath, $"xattr {name}", hasExpected ? FormatValue(ev!) : "absent", hasActual ? FormatValue(av!) : "absent"));
        }
    }

    /// <summary>The time in nanoseconds since the epoch, rounded down to a multiple of the resolution.</summary>
    private static Int128 Truncate(TimeSpec time, long resolution)
    {
        var total = ((Int128)time.Seconds * 1_000_000_000) + time.Nanoseconds;
        var remainder = total % resolution;
        return total - (remainder < 0 ? remainder + resolution : remainder);
    }

    private static string FormatNanoseconds(Int128 total)
    {
        var seconds = total / 1_000_000_000;
        var nanoseconds = total % 1_000_000_000;
        if (nanoseconds < 0)
        {
            nanoseconds += 1_000_000_000;
            seconds--;
        }

        return TreeSnapshot.FormatTime(new TimeSpec((long)seconds, (long)nanoseconds));
    }

    private static string FormatValue(byte[] value) => $"0x{Convert.ToHexString(value)} ({value.Length} bytes)";

    private static string FormatDevice(ulong device) =>
        string.Create(CultureInfo.InvariantCulture, $"{((device >> 8) & 0xfff) | ((device >> 32) & ~0xfffUL)}:{(device & 0xff) | ((device >> 12) & ~0xffUL)}");

    private static string Describe(PosixFileKind kind) => kind switch
    {
        PosixFileKind.Regular => "file",
        PosixFileKind.Directory => "directory",
        PosixFileKind.Symlink => "symlink",
        PosixFileKind.Fifo => "fifo",
        PosixFileKind.CharDevice => "character device",
        PosixFileKind.BlockDevice => "block device",
        PosixFileKind.Socket => "socket",
        _ => kind.ToString(),
    };
}
