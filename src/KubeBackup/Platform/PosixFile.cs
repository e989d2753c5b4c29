using System.Text;
using Microsoft.Win32.SafeHandles;
using static KubeBackup.Platform.LibC;

namespace KubeBackup.Platform;

/// <summary>Path-based POSIX calls and calls on open files that .NET does not offer.</summary>
internal static class PosixFile
{
    /// <summary>Creates a file with no name in <paramref name="directory"/> (<c>O_TMPFILE</c>), opened for reading and
    /// writing: it exists only as long as the handle, so however the process ends it leaves nothing behind. Returns
    /// null where the file system does not support unnamed files.</summary>
    public static unsafe SafeFileHandle? CreateUnnamedFile(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var path = Encoding.UTF8.GetBytes(directory + "\0");
        fixed (byte* p = path)
        {
            int fd = OpenAt(AT_FDCWD, p, O_TMPFILE | O_RDWR | O_CLOEXEC, 0x180);
            if (fd < 0)
            {
                int errno = PosixNames.LastErrno();
                // EOPNOTSUPP / EISDIR / EINVAL: the file system or kernel has no O_TMPFILE; the caller falls back.
                if (errno is EOPNOTSUPP or 21 or 22)
                {
                    return null;
                }

                throw new PosixException("open(O_TMPFILE)", errno, directory);
            }

            return new SafeFileHandle(fd, ownsHandle: true);
        }
    }

    /// <summary>Gives a file made by <see cref="CreateUnnamedFile"/> the name <paramref name="path"/>. Returns false,
    /// linking nothing, when <paramref name="path"/> already exists.</summary>
    public static bool LinkUnnamedFile(SafeFileHandle file, string path)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var target = Encoding.UTF8.GetBytes(path + "\0");
        bool referenced = false;
        file.DangerousAddRef(ref referenced);
        try
        {
            return Link((int)file.DangerousGetHandle(), target, path);
        }
        finally
        {
            if (referenced)
            {
                file.DangerousRelease();
            }
        }
    }

    private static unsafe bool Link(int fd, byte[] target, string path)
    {
        byte empty = 0;
        fixed (byte* t = target)
        {
            // AT_EMPTY_PATH links the descriptor itself but needs CAP_DAC_READ_SEARCH; without it the kernel says
            // ENOENT, and the descriptor's /proc link does the same job for any user.
            if (LinkAt(fd, &empty, AT_FDCWD, t, AT_EMPTY_PATH) == 0)
            {
                return true;
            }

            int errno = PosixNames.LastErrno();
            if (errno == ENOENT)
            {
                var proc = Encoding.UTF8.GetBytes($"/proc/self/fd/{fd}\0");
                fixed (byte* pp = proc)
                {
                    if (LinkAt(AT_FDCWD, pp, AT_FDCWD, t, AT_SYMLINK_FOLLOW) == 0)
                    {
                        return true;
                    }
                }

                errno = PosixNames.LastErrno();
            }

            return errno == EEXIST ? false : throw new PosixException("linkat", errno, path);
        }
    }

    /// <summary><c>fchmod</c> of an open file.</summary>
    public static void ChangeMode(SafeFileHandle file, UnixFileMode mode)
    {
        if (FChMod(file, (uint)mode) != 0)
        {
            throw new PosixException("fchmod", PosixNames.LastErrno());
        }
    }

    /// <summary><c>fchmod</c> with raw permission bits (the low 12, setuid/setgid/sticky included).</summary>
    public static void SetPermissions(SafeFileHandle file, uint permissions)
    {
        if (FChMod(file, permissions & 0xFFF) != 0)
        {
            throw new PosixException("fchmod", PosixNames.LastErrno());
        }
    }

    /// <summary><c>fchown</c> of an open file. The kernel clears setuid/setgid: set permissions afterwards.</summary>
    public static void SetOwner(SafeFileHandle file, uint uid, uint gid)
    {
        if (FChOwn(file, uid, gid) != 0)
        {
            throw new PosixException("fchown", PosixNames.LastErrno());
        }
    }

    /// <summary><c>futimens</c>: access and modification times of an open file, with nanoseconds.</summary>
    public static unsafe void SetTimes(SafeFileHandle file, TimeSpec accessTime, TimeSpec modifyTime)
    {
        var times = stackalloc Timespec[2];
        times[0] = new Timespec { Seconds = accessTime.Seconds, Nanoseconds = accessTime.Nanoseconds };
        times[1] = new Timespec { Seconds = modifyTime.Seconds, Nanoseconds = modifyTime.Nanoseconds };
        if (FUTimens(file, times) != 0)
        {
            throw new PosixException("futimens", PosixNames.LastErrno());
        }
    }

    /// <summary><c>fsetxattr</c> of an open file. An empty name or one containing NUL fails with <c>EINVAL</c>.</summary>
    public static unsafe void SetExtendedAttribute(SafeFileHandle file, string attributeName, ReadOnlySpan<byte> value)
    {
        ArgumentNullException.ThrowIfNull(attributeName);
        if (attributeName.Length == 0 || attributeName.Contains('\0', StringComparison.Ordinal))
        {
            throw new PosixException("fsetxattr", EINVAL);
        }

        byte[] name = System.Text.Encoding.UTF8.GetBytes(attributeName + "\0");
        fixed (byte* a = name)
        fixed (byte* v = value)
        {
            // A non-null pointer even for an empty value: an empty attribute is valid and different from none.
            byte one = 0;
            if (FSetXAttr(file, a, v == null ? &one : v, (nuint)value.Length, 0) != 0)
            {
                throw new PosixException("fsetxattr", PosixNames.LastErrno());
            }
        }
    }

    /// <summary><c>lstat</c> of a path (raw bytes).</summary>
    public static unsafe FileStatus LStat(ReadOnlySpan<byte> path)
    {
        PosixNames.ValidatePath(path);
        Statx buffer;
        Span<byte> scratch = stackalloc byte[256];
        fixed (byte* p = Terminate(path, scratch))
        {
            if (StatX(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &buffer) != 0)
            {
                throw new PosixException("statx", PosixNames.LastErrno(), PosixNames.Display(path));
            }
        }

        return ToFileStatus(buffer);
    }

    /// <summary><c>lstat</c> of a path given as a .NET string.</summary>
    public static FileStatus LStat(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return LStat(Encoding.UTF8.GetBytes(path));
    }

    /// <summary>The type of the file system that holds <paramref name="path"/> (<c>statfs</c>'s <c>f_type</c>, for
    /// example 0xEF53 for ext4), or null where it cannot be told.</summary>
    public static unsafe long? FileSystemType(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte* buffer = stackalloc byte[StatFsSize];
        byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            return StatFs(p, buffer) == 0 ? *(long*)buffer : null;
        }
    }

    /// <summary><c>fstat</c> of an open file.</summary>
    public static FileStatus Stat(SafeFileHandle file) => ToFileStatus(StatRaw(file));

    /// <summary>The kernel's <c>statx</c> record of an open file, for the fields <see cref="FileStatus"/> leaves out
    /// (the preferred I/O block size).</summary>
    internal static unsafe Statx StatRaw(SafeFileHandle file)
    {
        ArgumentNullException.ThrowIfNull(file);
        Statx buffer;
        fixed (byte* empty = "\0"u8)
        {
            // statx(fd, "", AT_EMPTY_PATH) is fstat; it also works on O_PATH descriptors.
            if (StatX(file, empty, AT_EMPTY_PATH, STATX_BASIC_STATS, &buffer) != 0)
            {
                throw new PosixException("statx", PosixNames.LastErrno());
            }
        }

        return buffer;
    }

    /// <summary>Writes all of <paramref name="data"/> at <paramref name="offset"/> (<c>pwrite</c>, continued after a
    /// short write or EINTR). Returns 0, or the error number of the write that failed, for callers that can fall back
    /// (EINVAL from an <c>O_DIRECT</c> descriptor whose alignment the device does not accept).</summary>
    internal static unsafe int TryWriteAll(SafeFileHandle file, ReadOnlySpan<byte> data, long offset)
    {
        fixed (byte* start = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                nint n = PWrite(file, start + done, (nuint)(data.Length - done), offset + done);
                if (n < 0)
                {
                    int errno = PosixNames.LastErrno();
                    if (errno == EINTR)
                    {
                        continue;
                    }

                    return errno;
                }

                if (n == 0)
                {
                    return EIO;
                }

                done += (int)n;
            }
        }

        return 0;
    }

    /// <summary>Sets the size of an open file (<c>ftruncate</c>); growing it leaves a hole.</summary>
    public static void SetLength(SafeFileHandle file, long length)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        while (FTruncate(file, length) != 0)
        {
            var errno = PosixNames.LastErrno();
            if (errno != EINTR)
            {
                throw new PosixException("ftruncate", errno);
            }
        }
    }

    /// <summary>The start of the next region holding data at or after <paramref name="offset"/> (<c>lseek(SEEK_DATA)</c>),
    /// or -1 if the rest of the file is a hole. Where the file system cannot tell, returns <paramref name="offset"/>.</summary>
    /// <remarks>Moves the descriptor's file offset: read with positional calls (<see cref="RandomAccess"/>), which
    /// ignore it.</remarks>
    public static long NextData(SafeFileHandle file, long offset)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var result = LSeek(file, offset, SEEK_DATA);
        if (result >= 0)
        {
            return result;
        }

        var errno = PosixNames.LastErrno();
        return errno switch
        {
            // No data at or after the offset: the rest is a hole, or the offset is at or past the end.
            ENXIO => -1,
            // SEEK_DATA unknown (very old kernels) or refused by the file system: treat everything as data.
            EINVAL or EOPNOTSUPP => offset < Stat(file).Size ? offset : -1,
            _ => throw new PosixException("lseek(SEEK_DATA)", errno),
        };
    }

    /// <summary>The start of the next hole at or after <paramref name="offset"/> (<c>lseek(SEEK_HOLE)</c>); the file's
    /// end counts as a hole.</summary>
    /// <remarks>At or past the end returns <paramref name="offset"/> itself. Moves the descriptor's file offset, like
    /// <see cref="NextData"/>.</remarks>
    public static long NextHole(SafeFileHandle file, long offset)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var result = LSeek(file, offset, SEEK_HOLE);
        if (result >= 0)
        {
            return result;
        }

        var errno = PosixNames.LastErrno();
        return errno switch
        {
            ENXIO => offset,
            EINVAL or EOPNOTSUPP => Math.Max(offset, Stat(file).Size),
            _ => throw new PosixException("lseek(SEEK_HOLE)", errno),
        };
    }

    /// <summary>Tells the kernel the file's cached pages will not be read again (<c>posix_fadvise DONTNEED</c>): clean
    /// pages are dropped at once. Advice only; nothing happens where it is not supported.</summary>
    public static void DropCachedPages(SafeFileHandle file)
    {
        ArgumentNullException.ThrowIfNull(file);
        _ = PosixFAdvise(file, 0, 0, POSIX_FADV_DONTNEED);
    }

    /// <summary>Flushes an open directory or file to stable storage (<c>fsync</c>).</summary>
    public static void Sync(SafeFileHandle file) => Sync(file, null);

    internal static void Sync(SafeFileHandle file, string? displayPath)
    {
        ArgumentNullException.ThrowIfNull(file);
        while (FSync(file) != 0)
        {
            var errno = PosixNames.LastErrno();
            if (errno != EINTR)
            {
                throw new PosixException("fsync", errno, displayPath);
            }
        }
    }

    /// <summary>The current process's effective user ID.</summary>
    public static uint EffectiveUserId => GetEUid();

    /// <summary>The current process's effective group ID.</summary>
    public static uint EffectiveGroupId => GetEGid();

    /// <summary>Whether a process with this ID exists (<c>kill(pid, 0)</c>).</summary>
    /// <remarks>EPERM means the process exists but belongs to someone else. IDs of zero or less are never a single
    /// process (kill would address a process group), so they give false.</remarks>
    public static bool ProcessExists(int pid)
    {
        if (pid <= 0)
        {
            return false;
        }

        return Kill(pid, 0) == 0 || PosixNames.LastErrno() == EPERM;
    }
}
