using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace KubeBackup.Platform;

/// <summary>
/// The libc calls the POSIX layer needs, for 64-bit Linux (x86_64, arm64) with glibc 2.28 or later. Only calls whose symbols glibc
/// 2.28 already exports are used (so no <c>getdents64</c> or <c>fstatat</c> symbol, which came later), and only
/// structures whose layout does not depend on the architecture where there is a choice (<c>statx</c>, not
/// <c>struct stat</c>). Descriptor parameters are <see cref="SafeFileHandle"/> where the call works on an open handle,
/// so the marshaller keeps the handle alive (and its number from being reused) for the duration of the call.
/// </summary>
/// <remarks>
/// Every declaration sets <c>SetLastError</c>: the generated stub clears errno before the call and captures it after,
/// which <c>readdir</c> relies on to tell the end of a directory from an error.
/// </remarks>
internal static unsafe partial class LibC
{
    private const string Library = "libc";

    // errno values (asm-generic/errno-base.h, errno.h on x86_64).
    internal const int EPERM = 1;
    internal const int ENOENT = 2;
    internal const int ESRCH = 3;
    internal const int EINTR = 4;
    internal const int EIO = 5;
    internal const int ENXIO = 6;
    internal const int EACCES = 13;
    internal const int EEXIST = 17;
    internal const int ENOTDIR = 20;
    internal const int EISDIR = 21;
    internal const int EINVAL = 22;
    internal const int ERANGE = 34;
    internal const int ENOSYS = 38;
    internal const int ELOOP = 40;
    internal const int ENODATA = 61;
    internal const int EOPNOTSUPP = 95;

    // open flags (asm-generic/fcntl.h, which x86_64 uses as it is).
    internal const int O_RDONLY = 0x0;
    internal const int O_WRONLY = 0x1;
    internal const int O_CREAT = 0x40;
    internal const int O_EXCL = 0x80;
    internal const int O_NONBLOCK = 0x800;
    internal const int O_NOATIME = 0x40000;
    internal const int O_CLOEXEC = 0x80000;
    internal const int O_PATH = 0x200000;
    internal const int O_RDWR = 0x2;

    // arm64 (and 32-bit arm) define O_DIRECTORY and O_NOFOLLOW themselves (arch/arm64/include/uapi/asm/fcntl.h):
    // with x86_64's values there, O_DIRECTORY would be O_DIRECT's bit and O_NOFOLLOW O_LARGEFILE's, so "open this
    // folder without following a symlink" would silently follow it. Every other flag above is the same.
    private static readonly bool ArmOpenFlags = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm;
    internal static readonly int O_DIRECTORY = ArmOpenFlags ? 0x4000 : 0x10000;
    internal static readonly int O_NOFOLLOW = ArmOpenFlags ? 0x8000 : 0x20000;

    // O_DIRECT trades places with O_DIRECTORY on arm64 as well: x86_64's O_DIRECT bit is arm64's O_DIRECTORY.
    internal static readonly int O_DIRECT = ArmOpenFlags ? 0x10000 : 0x4000;

    // __O_TMPFILE | O_DIRECTORY: an unnamed file in the given folder.
    internal static readonly int O_TMPFILE = 0x400000 | O_DIRECTORY;

    // *at flags.
    internal const int AT_FDCWD = -100;
    internal const int AT_SYMLINK_NOFOLLOW = 0x100;
    internal const int AT_REMOVEDIR = 0x200;
    internal const int AT_NO_AUTOMOUNT = 0x800;
    internal const int AT_SYMLINK_FOLLOW = 0x400;
    internal const int AT_EMPTY_PATH = 0x1000;

    // statx mask: type, mode, nlink, uid, gid, atime, mtime, ctime, ino, size, blocks.
    internal const uint STATX_BASIC_STATS = 0x7ff;

    internal const int F_GETFL = 3;
    internal const int F_SETFL = 4;

    internal const int SEEK_SET = 0;
    internal const int SEEK_DATA = 3;
    internal const int SEEK_HOLE = 4;

    /// <summary><c>struct statx_timestamp</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct StatxTimestamp
    {
        public long Seconds;
        public uint Nanoseconds;
        private readonly int reserved;
    }

    /// <summary><c>struct statx</c> (linux/stat.h): the same 256-byte layout on every architecture.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    internal struct Statx
    {
        [FieldOffset(0)] public uint Mask;
        [FieldOffset(4)] public uint BlockSize;
        [FieldOffset(8)] public ulong Attributes;
        [FieldOffset(16)] public uint Links;
        [FieldOffset(20)] public uint Uid;
        [FieldOffset(24)] public uint Gid;
        [FieldOffset(28)] public ushort Mode;
        [FieldOffset(32)] public ulong Inode;
        [FieldOffset(40)] public ulong Size;
        [FieldOffset(48)] public ulong Blocks;
        [FieldOffset(56)] public ulong AttributesMask;
        [FieldOffset(64)] public StatxTimestamp AccessTime;
        [FieldOffset(80)] public StatxTimestamp BirthTime;
        [FieldOffset(96)] public StatxTimestamp ChangeTime;
        [FieldOffset(112)] public StatxTimestamp ModifyTime;
        [FieldOffset(128)] public uint RDeviceMajor;
        [FieldOffset(132)] public uint RDeviceMinor;
        [FieldOffset(136)] public uint DeviceMajor;
        [FieldOffset(140)] public uint DeviceMinor;
    }

    /// <summary><c>struct timespec</c> on a 64-bit ABI.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary>The fixed head of glibc's <c>struct dirent</c> (x86_64 and every other 64-bit glibc ABI).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Dirent
    {
        public ulong Inode;
        public long Offset;
        public ushort RecordLength;
        public byte Type;
        // d_name (NUL-terminated) follows at offset 19.
    }

    /// <summary><c>struct passwd</c> on a 64-bit glibc ABI.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Passwd
    {
        public byte* Name;
        public byte* Password;
        public uint Uid;
        public uint Gid;
        public byte* Gecos;
        public byte* Home;
        public byte* Shell;
    }

    /// <summary><c>struct group</c> on a 64-bit glibc ABI.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Group
    {
        public byte* Name;
        public byte* Password;
        public uint Gid;
        public byte** Members;
    }

    // openat is variadic in C; on x86_64 passing the mode as a fixed argument is what every binding does and is
    // ABI-compatible for integer arguments.
    [LibraryImport(Library, EntryPoint = "openat", SetLastError = true)]
    internal static partial int OpenAt(SafeFileHandle dirfd, byte* path, int flags, uint mode);

    [LibraryImport(Library, EntryPoint = "openat", SetLastError = true)]
    internal static partial int OpenAt(int dirfd, byte* path, int flags, uint mode);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport(Library, EntryPoint = "statx", SetLastError = true)]
    internal static partial int StatX(SafeFileHandle dirfd, byte* path, int flags, uint mask, Statx* buffer);

    [LibraryImport(Library, EntryPoint = "statx", SetLastError = true)]
    internal static partial int StatX(int dirfd, byte* path, int flags, uint mask, Statx* buffer);

    /// <summary>Takes ownership of <paramref name="fd"/> on success; closedir closes it.</summary>
    [LibraryImport(Library, EntryPoint = "fdopendir", SetLastError = true)]
    internal static partial IntPtr FdOpenDir(int fd);

    [LibraryImport(Library, EntryPoint = "readdir", SetLastError = true)]
    internal static partial Dirent* ReadDir(IntPtr dir);

    [LibraryImport(Library, EntryPoint = "closedir", SetLastError = true)]
    internal static partial int CloseDir(IntPtr dir);

    [LibraryImport(Library, EntryPoint = "readlinkat", SetLastError = true)]
    internal static partial nint ReadLinkAt(SafeFileHandle dirfd, byte* path, byte* buffer, nuint size);

    [LibraryImport(Library, EntryPoint = "mkdirat", SetLastError = true)]
    internal static partial int MkDirAt(SafeFileHandle dirfd, byte* path, uint mode);

    [LibraryImport(Library, EntryPoint = "symlinkat", SetLastError = true)]
    internal static partial int SymlinkAt(byte* target, SafeFileHandle newdirfd, byte* linkpath);

    [LibraryImport(Library, EntryPoint = "linkat", SetLastError = true)]
    internal static partial int LinkAt(SafeFileHandle olddirfd, byte* oldpath, SafeFileHandle newdirfd, byte* newpath, int flags);

    [LibraryImport(Library, EntryPoint = "linkat", SetLastError = true)]
    internal static partial int LinkAt(int olddirfd, byte* oldpath, int newdirfd, byte* newpath, int flags);

    [LibraryImport(Library, EntryPoint = "fchmod", SetLastError = true)]
    internal static partial int FChMod(SafeFileHandle fd, uint mode);

    [LibraryImport(Library, EntryPoint = "mkfifoat", SetLastError = true)]
    internal static partial int MkFifoAt(SafeFileHandle dirfd, byte* path, uint mode);

    // mknodat became an exported symbol in glibc 2.33; before that it was an inline wrapper around __xmknodat.
    [LibraryImport(Library, EntryPoint = "mknodat", SetLastError = true)]
    internal static partial int MkNodAt(SafeFileHandle dirfd, byte* path, uint mode, ulong device);

    // The pre-2.33 entry point (version 0 on x86_64); dev_t is passed by pointer.
    [LibraryImport(Library, EntryPoint = "__xmknodat", SetLastError = true)]
    internal static partial int XMkNodAt(int version, SafeFileHandle dirfd, byte* path, uint mode, ulong* device);

    [LibraryImport(Library, EntryPoint = "unlinkat", SetLastError = true)]
    internal static partial int UnlinkAt(SafeFileHandle dirfd, byte* path, int flags);

    [LibraryImport(Library, EntryPoint = "fchmodat", SetLastError = true)]
    internal static partial int FChModAt(int dirfd, byte* path, uint mode, int flags);

    [LibraryImport(Library, EntryPoint = "fchownat", SetLastError = true)]
    internal static partial int FChOwnAt(SafeFileHandle dirfd, byte* path, uint uid, uint gid, int flags);

    [LibraryImport(Library, EntryPoint = "utimensat", SetLastError = true)]
    internal static partial int UTimensAt(SafeFileHandle dirfd, byte* path, Timespec* times, int flags);

    // fcntl is variadic too; F_GETFL/F_SETFL take (and ignore, for F_GETFL) one int.
    [LibraryImport(Library, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int FCntl(SafeFileHandle fd, int command, int argument);

    [LibraryImport(Library, EntryPoint = "pwrite", SetLastError = true)]
    internal static partial nint PWrite(SafeFileHandle fd, byte* buffer, nuint count, long offset);

    [LibraryImport(Library, EntryPoint = "ftruncate", SetLastError = true)]
    internal static partial int FTruncate(SafeFileHandle fd, long length);

    [LibraryImport(Library, EntryPoint = "lseek", SetLastError = true)]
    internal static partial long LSeek(SafeFileHandle fd, long offset, int whence);

    /// <summary>madvise(2) advice: back the range with transparent huge pages where the system allows it on request.</summary>
    internal const int MADV_HUGEPAGE = 14;

    [LibraryImport(Library, EntryPoint = "madvise", SetLastError = true)]
    internal static partial int MAdvise(void* address, nuint length, int advice);

    /// <summary><c>statfs(2)</c> into a buffer of at least <see cref="StatFsSize"/> bytes; the file-system type
    /// (<c>f_type</c>, a <c>long</c> on 64-bit Linux) is its first field on every architecture.</summary>
    [LibraryImport(Library, EntryPoint = "statfs", SetLastError = true)]
    internal static partial int StatFs(byte* path, byte* buffer);

    /// <summary>Room for <c>struct statfs</c> (120 bytes on 64-bit Linux), with margin.</summary>
    internal const int StatFsSize = 256;

    [LibraryImport(Library, EntryPoint = "fsync", SetLastError = true)]
    internal static partial int FSync(SafeFileHandle fd);

    /// <summary>posix_fadvise(2) advice: the cached pages of the range are not needed again.</summary>
    internal const int POSIX_FADV_DONTNEED = 4;

    // posix_fadvise returns the error number instead of setting errno.
    [LibraryImport(Library, EntryPoint = "posix_fadvise")]
    internal static partial int PosixFAdvise(SafeFileHandle fd, long offset, long length, int advice);

    [LibraryImport(Library, EntryPoint = "geteuid")]
    internal static partial uint GetEUid();

    [LibraryImport(Library, EntryPoint = "getegid")]
    internal static partial uint GetEGid();

    [LibraryImport(Library, EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int signal);

    // The l* variants act on a symlink itself rather than its target. They are called with
    // "/proc/self/fd/<dirfd>/<name>": the kernel resolves the directory through the descriptor (the magic link) and
    // then looks the name up in it without following a final symlink, which is exactly "*at with NOFOLLOW".
    [LibraryImport(Library, EntryPoint = "llistxattr", SetLastError = true)]
    internal static partial nint LListXAttr(byte* path, byte* list, nuint size);

    /// <summary>listxattrat(2), Linux 6.13 and later: a child's attribute names, looked up relative to a directory
    /// descriptor. glibc 2.36 has no wrapper, so it goes through <c>syscall(2)</c>; its number is the same on x86_64
    /// and arm64 (new system calls share one table), the only architectures this layer runs on.</summary>
    internal static nint ListXAttrAt(int dirfd, byte* name, int atFlags, byte* list, nuint size) =>
        Syscall(SysListXAttrAt, dirfd, (nint)name, atFlags, (nint)list, (nint)size);

    private const nint SysListXAttrAt = 465;

    [LibraryImport(Library, EntryPoint = "syscall", SetLastError = true)]
    private static partial nint Syscall(nint number, nint a1, nint a2, nint a3, nint a4, nint a5);

    [LibraryImport(Library, EntryPoint = "lgetxattr", SetLastError = true)]
    internal static partial nint LGetXAttr(byte* path, byte* name, byte* value, nuint size);

    [LibraryImport(Library, EntryPoint = "lsetxattr", SetLastError = true)]
    internal static partial int LSetXAttr(byte* path, byte* name, byte* value, nuint size, int flags);

    [LibraryImport(Library, EntryPoint = "fsetxattr", SetLastError = true)]
    internal static partial int FSetXAttr(SafeFileHandle fd, byte* name, byte* value, nuint size, int flags);

    [LibraryImport(Library, EntryPoint = "fchown", SetLastError = true)]
    internal static partial int FChOwn(SafeFileHandle fd, uint uid, uint gid);

    [LibraryImport(Library, EntryPoint = "futimens", SetLastError = true)]
    internal static partial int FUTimens(SafeFileHandle fd, Timespec* times);

    // The *_r lookups return an errno value directly (not through errno) and set *result to null when not found.
    [LibraryImport(Library, EntryPoint = "getpwuid_r")]
    internal static partial int GetPwUidR(uint uid, Passwd* pwd, byte* buffer, nuint size, Passwd** result);

    [LibraryImport(Library, EntryPoint = "getpwnam_r")]
    internal static partial int GetPwNamR(byte* name, Passwd* pwd, byte* buffer, nuint size, Passwd** result);

    [LibraryImport(Library, EntryPoint = "getgrgid_r")]
    internal static partial int GetGrGidR(uint gid, Group* grp, byte* buffer, nuint size, Group** result);

    [LibraryImport(Library, EntryPoint = "getgrnam_r")]
    internal static partial int GetGrNamR(byte* name, Group* grp, byte* buffer, nuint size, Group** result);

    /// <summary>glibc's <c>makedev</c>: how <c>st_dev</c>/<c>st_rdev</c> encode a major and minor number.</summary>
    internal static ulong MakeDevice(uint major, uint minor) =>
        ((ulong)(major & 0x00000fffu) << 8) | ((ulong)(major & 0xfffff000u) << 32) |
        (minor & 0x000000ffu) | ((ulong)(minor & 0xffffff00u) << 12);

    /// <summary>Copies <paramref name="text"/> into <paramref name="scratch"/> (or a new array if it does not fit) and
    /// appends the NUL that C expects.</summary>
    internal static Span<byte> Terminate(ReadOnlySpan<byte> text, Span<byte> scratch)
    {
        var buffer = text.Length < scratch.Length ? scratch : new byte[text.Length + 1];
        text.CopyTo(buffer);
        buffer[text.Length] = 0;
        return buffer[..(text.Length + 1)];
    }

    internal static FileStatus ToFileStatus(in Statx s) => new(
        Mode: s.Mode,
        Inode: s.Inode,
        Device: MakeDevice(s.DeviceMajor, s.DeviceMinor),
        RDevice: MakeDevice(s.RDeviceMajor, s.RDeviceMinor),
        Links: s.Links,
        Uid: s.Uid,
        Gid: s.Gid,
        Size: (long)s.Size,
        Blocks: (long)s.Blocks,
        AccessTime: new TimeSpec(s.AccessTime.Seconds, s.AccessTime.Nanoseconds),
        ModifyTime: new TimeSpec(s.ModifyTime.Seconds, s.ModifyTime.Nanoseconds),
        ChangeTime: new TimeSpec(s.ChangeTime.Seconds, s.ChangeTime.Nanoseconds));
}
