using KubeBackup.Platform;
using KubeBackup.Restic.Model;

namespace KubeBackup.Restic.Archiver;

/// <summary>
/// Builds tree nodes from <c>lstat</c> results exactly as restic 0.14 does (which fields each type carries, Go's mode
/// bits, local-time timestamps), so the trees we write for unchanged data are byte-identical to restic's and
/// deduplicate against them.
/// </summary>
internal static class NodeFactory
{
    /// <summary>The node type of a POSIX file kind, or null for kinds restic does not store.</summary>
    public static NodeType? TypeOf(PosixFileKind kind) => kind switch
    {
        PosixFileKind.Regular => NodeType.File,
        PosixFileKind.Directory => NodeType.Dir,
        PosixFileKind.Symlink => NodeType.Symlink,
        PosixFileKind.BlockDevice => NodeType.Dev,
        PosixFileKind.CharDevice => NodeType.CharDev,
        PosixFileKind.Fifo => NodeType.Fifo,
        PosixFileKind.Socket => NodeType.Socket,
        _ => null,
    };

    /// <summary>Go's <c>os.FileMode</c> for a raw <c>st_mode</c>.</summary>
    public static uint GoMode(uint stMode)
    {
        uint mode = stMode & GoFileMode.Permissions;
        if ((stMode & 0x800) != 0) mode |= GoFileMode.Setuid;
        if ((stMode & 0x400) != 0) mode |= GoFileMode.Setgid;
        if ((stMode & 0x200) != 0) mode |= GoFileMode.Sticky;
        mode |= ((PosixFileKind)(stMode & 0xF000)) switch
        {
            PosixFileKind.Directory => GoFileMode.Dir,
            PosixFileKind.Symlink => GoFileMode.Symlink,
            PosixFileKind.BlockDevice => GoFileMode.Device,
            PosixFileKind.CharDevice => GoFileMode.Device | GoFileMode.CharDevice,
            PosixFileKind.Fifo => GoFileMode.NamedPipe,
            PosixFileKind.Socket => GoFileMode.Socket,
            _ => 0,
        };
        return mode;
    }

    /// <summary>The POSIX permission bits (with setuid, setgid, sticky) of a Go mode.</summary>
    public static uint PosixPermissions(uint goMode)
    {
        uint perm = goMode & GoFileMode.Permissions;
        if ((goMode & GoFileMode.Setuid) != 0) perm |= 0x800;
        if ((goMode & GoFileMode.Setgid) != 0) perm |= 0x400;
        if ((goMode & GoFileMode.Sticky) != 0) perm |= 0x200;
        return perm;
    }

    /// <summary>A time as Go's <c>time.Unix</c> gives it: in the process's local zone.</summary>
    public static GoTime LocalTime(TimeSpec t)
    {
        var offset = TimeZoneInfo.Local.GetUtcOffset(DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(t.Seconds, -62135596800L, 253402300799L)));
        return new GoTime(t.Seconds, (int)t.Nanoseconds, (int)offset.TotalSeconds);
    }

    /// <summary>Builds the node of a file system entry. Content, subtree and link target are filled by the caller
    /// where the type needs them.</summary>
    /// <param name="name">The raw name.</param>
    /// <param name="type">The node type.</param>
    /// <param name="st">The entry's status.</param>
    /// <param name="xattrs">Its extended attributes.</param>
    /// <param name="withAccessTime">Record the real access time; otherwise, as restic does by default, the modification time.</param>
    public static Node Create(byte[] name, NodeType type, in FileStatus st, List<ExtendedAttribute>? xattrs, bool withAccessTime = false)
    {
        var mtime = LocalTime(st.ModifyTime);
        var node = new Node
        {
            Name = name,
            Type = type,
            Mode = GoMode(st.Mode),
            ModTime = mtime,
            AccessTime = withAccessTime ? LocalTime(st.AccessTime) : mtime,
            ChangeTime = LocalTime(st.ChangeTime),
            Uid = st.Uid,
            Gid = st.Gid,
            User = UserDirectory.UserName(st.Uid),
            Group = UserDirectory.GroupName(st.Gid),
            Inode = st.Inode,
            DeviceId = st.Device,
            ExtendedAttributes = type == NodeType.Symlink ? null : xattrs,
        };
        switch (type)
        {
            case NodeType.File:
                node.Size = (ulong)st.Size;
                node.Links = st.Links;
                node.Content = [];
                break;
            case NodeType.Symlink:
                node.Links = st.Links;
                break;
            case NodeType.Dev:
            case NodeType.CharDev:
                node.Device = st.RDevice;
                node.Links = st.Links;
                break;
        }

        return node;
    }

    /// <summary>A node for something that has no file system entry (a stream, or a folder on the way to it), as restic
    /// makes for <c>--stdin</c>: the process's owner, the given time for all three timestamps.</summary>
    public static Node CreateVirtual(byte[] name, NodeType type, uint permissions, GoTime time)
    {
        return new Node
        {
            Name = name,
            Type = type,
            Mode = permissions | (type == NodeType.Dir ? GoFileMode.Dir : 0),
            ModTime = time,
            AccessTime = time,
            ChangeTime = time,
            Uid = PosixFile.EffectiveUserId,
            Gid = PosixFile.EffectiveGroupId,
            Content = type == NodeType.File ? [] : null,
        };
    }
}
