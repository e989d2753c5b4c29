namespace KubeBackup.Platform;

/// <summary>A POSIX timestamp: seconds and nanoseconds since the Unix epoch.</summary>
/// <param name="Seconds">Seconds since 1970-01-01T00:00:00Z.</param>
/// <param name="Nanoseconds">0 to 999,999,999.</param>
internal readonly record struct TimeSpec(long Seconds, long Nanoseconds);

/// <summary>What <c>lstat</c> says of a file system entry, with full POSIX fidelity.</summary>
/// <param name="Mode">Raw <c>st_mode</c>: type bits (<c>S_IFMT</c>) and permission bits including setuid/setgid/sticky.</param>
/// <param name="Inode">Inode number.</param>
/// <param name="Device">Device holding the entry (<c>st_dev</c>).</param>
/// <param name="RDevice">Device number of a device node (<c>st_rdev</c>).</param>
/// <param name="Links">Hard-link count.</param>
/// <param name="Uid">Owner user ID.</param>
/// <param name="Gid">Owner group ID.</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="Blocks">Allocated 512-byte blocks (less than Size/512 for sparse files).</param>
/// <param name="AccessTime">Last access.</param>
/// <param name="ModifyTime">Last modification.</param>
/// <param name="ChangeTime">Last status change.</param>
internal readonly record struct FileStatus(
    uint Mode, ulong Inode, ulong Device, ulong RDevice, ulong Links, uint Uid, uint Gid, long Size, long Blocks,
    TimeSpec AccessTime, TimeSpec ModifyTime, TimeSpec ChangeTime)
{
    /// <summary>The <c>S_IFMT</c> type bits.</summary>
    public PosixFileKind Kind => (PosixFileKind)(Mode & 0xF000);

    /// <summary>Permission bits including setuid, setgid and sticky (<c>07777</c>).</summary>
    public uint Permissions => Mode & 0xFFF;
}

/// <summary>POSIX file types (<c>st_mode &amp; S_IFMT</c>).</summary>
internal enum PosixFileKind : uint
{
    /// <summary>Named pipe.</summary>
    Fifo = 0x1000,
    /// <summary>Character device.</summary>
    CharDevice = 0x2000,
    /// <summary>Directory.</summary>
    Directory = 0x4000,
    /// <summary>Block device.</summary>
    BlockDevice = 0x6000,
    /// <summary>Regular file.</summary>
    Regular = 0x8000,
    /// <summary>Symbolic link.</summary>
    Symlink = 0xA000,
    /// <summary>Socket.</summary>
    Socket = 0xC000,
}
