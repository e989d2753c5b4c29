namespace KubeBackup.Restic.Model;

/// <summary>An extended attribute of a node.</summary>
/// <param name="Name">The attribute name.</param>
/// <param name="Value">The raw value.</param>
public sealed record ExtendedAttribute(string Name, byte[] Value);

/// <summary>
/// One entry of a tree: a file, folder, symlink, device, fifo or socket, with its metadata. Names and link targets are
/// raw bytes because POSIX names need not be valid UTF-8 and restic keeps them byte for byte.
/// </summary>
public sealed class Node
{
    /// <summary>The name as raw bytes (never empty, never containing '/').</summary>
    public required byte[] Name { get; set; }

    /// <summary>The kind of node.</summary>
    public required NodeType Type { get; set; }

    /// <summary>Go <c>os.FileMode</c> bits: permissions (<c>0777</c>) plus type and setuid/setgid/sticky flags.</summary>
    public uint Mode { get; set; }

    /// <summary>Last modification.</summary>
    public GoTime ModTime { get; set; }

    /// <summary>Last access.</summary>
    public GoTime AccessTime { get; set; }

    /// <summary>Last status change.</summary>
    public GoTime ChangeTime { get; set; }

    /// <summary>Owner user ID.</summary>
    public uint Uid { get; set; }

    /// <summary>Owner group ID.</summary>
    public uint Gid { get; set; }

    /// <summary>Owner user name, if known.</summary>
    public string? User { get; set; }

    /// <summary>Owner group name, if known.</summary>
    public string? Group { get; set; }

    /// <summary>Inode number.</summary>
    public ulong Inode { get; set; }

    /// <summary>ID of the device holding the node (<c>st_dev</c>); with <see cref="Inode"/> it identifies hard links.</summary>
    public ulong DeviceId { get; set; }

    /// <summary>File size in bytes (files only).</summary>
    public ulong Size { get; set; }

    /// <summary>Hard-link count.</summary>
    public ulong Links { get; set; }

    /// <summary>The symlink target as raw bytes (symlinks only).</summary>
    public byte[]? LinkTarget { get; set; }

    /// <summary>Extended attributes, if any.</summary>
    public List<ExtendedAttribute>? ExtendedAttributes { get; set; }

    /// <summary>restic 0.17+ generic attributes (Windows metadata), kept as raw JSON values so they round-trip.</summary>
    public SortedDictionary<string, byte[]>? GenericAttributes { get; set; }

    /// <summary>Device number (<c>st_rdev</c>) of a block or character device.</summary>
    public ulong Device { get; set; }

    /// <summary>Data blob IDs of a file's content, in order; empty (never null) for an empty file; null for other types.</summary>
    public List<ResticId>? Content { get; set; }

    /// <summary>The tree blob of a folder; null for other types.</summary>
    public ResticId? Subtree { get; set; }

    /// <summary>An error recorded while reading the node, if any.</summary>
    public string? Error { get; set; }

    /// <summary>The name for display: UTF-8 decoded, with invalid bytes replaced.</summary>
    public string DisplayName => System.Text.Encoding.UTF8.GetString(Name);
}
