using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using static KubeBackup.Platform.LibC;

namespace KubeBackup.Platform;

/// <summary>
/// An open directory (a file descriptor opened with <c>O_DIRECTORY</c>). Every operation on a child takes a single name
/// component, never a path, and never follows a symlink at that name; so a restore that only goes through directory
/// handles cannot be led outside its target by a crafted name or by a symlink planted in the tree.
/// Names are raw bytes: POSIX names need not be valid UTF-8.
/// </summary>
/// <remarks>
/// A name is refused with <see cref="ArgumentException"/> if it is empty, <c>.</c>, <c>..</c>, or contains '/' or NUL.
/// Failed calls throw <see cref="PosixException"/> with the errno. Instances may be used from several threads at once:
/// no operation depends on the descriptor's file offset.
/// </remarks>
internal sealed class DirectoryHandle : IDisposable
{
    // Names are at most 255 bytes on Linux file systems; with the NUL this fits the stack buffer.
    private const int NameScratch = 256;

    private static bool useVersionedMkNod;

    private readonly SafeFileHandle handle;

    private DirectoryHandle(SafeFileHandle handle, string displayPath)
    {
        this.handle = handle;
        DisplayPath = displayPath;
    }

    /// <summary>The path this handle was reached by, for messages only (invalid UTF-8 shown as U+FFFD).</summary>
    public string DisplayPath { get; }

    /// <summary>Opens a directory by absolute or relative path, following symlinks in the path (as a user expects for
    /// the path they name on the command line).</summary>
    public static unsafe DirectoryHandle Open(ReadOnlySpan<byte> path)
    {
        PosixNames.ValidatePath(path);
        var display = PosixNames.Display(path);
        Span<byte> scratch = stackalloc byte[NameScratch];
        fixed (byte* p = Terminate(path, scratch))
        {
            var fd = OpenDirectoryDescriptor(null, p, noFollow: false);
            if (fd < 0)
            {
                throw new PosixException("openat", PosixNames.LastErrno(), display);
            }

            return new DirectoryHandle(new SafeFileHandle(fd, ownsHandle: true), display);
        }
    }

    /// <summary>Opens a directory by path given as a .NET string.</summary>
    public static DirectoryHandle Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Open(Encoding.UTF8.GetBytes(path));
    }

    /// <summary>Opens a child directory; fails if the child is a symlink or not a directory.</summary>
    /// <exception cref="PosixException"><c>ENOTDIR</c> if the child is a symlink (whatever it points to) or not a
    /// directory.</exception>
    public unsafe DirectoryHandle OpenDirectory(ReadOnlySpan<byte> name)
    {
        PosixNames.Validate(name);
        Span<byte> scratch = stackalloc byte[NameScratch];
        fixed (byte* p = Terminate(name, scratch))
        {
            var fd = OpenDirectoryDescriptor(handle, p, noFollow: true);
            if (fd < 0)
            {
                throw Error("openat", name);
            }

            return new DirectoryHandle(new SafeFileHandle(fd, ownsHandle: true), PosixNames.Join(DisplayPath, name));
        }
    }

    /// <summary>Lists the names in the directory except <c>.</c> and <c>..</c>, in the order the file system returns them.</summary>
    public unsafe List<byte[]> ReadEntries()
    {
        // Read through a fresh descriptor for "." rather than this handle's own: the listing position lives in the
        // open file description, so a private one keeps concurrent or repeated listings independent, and fdopendir
        // takes ownership of the descriptor it is given.
        int fd;
        fixed (byte* dot = ".\0"u8)
        {
            fd = OpenWithNoAtime(handle, dot, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
        }

        if (fd < 0)
        {
            throw new PosixException("openat", PosixNames.LastErrno(), DisplayPath);
        }

        var dir = FdOpenDir(fd);
        if (dir == IntPtr.Zero)
        {
            var errno = PosixNames.LastErrno();
            _ = Close(fd);
            throw new PosixException("fdopendir", errno, DisplayPath);
        }

        try
        {
            var names = new List<byte[]>();
            while (true)
            {
                var entry = ReadDir(dir);
                if (entry == null)
                {
                    // The generated stub clears errno before the call, so 0 here means "end of directory".
                    var errno = PosixNames.LastErrno();
                    if (errno != 0)
                    {
                        throw new PosixException("readdir", errno, DisplayPath);
                    }

                    return names;
                }

                var name = MemoryMarshal.CreateReadOnlySpanFromNullTerminated((byte*)entry + 19);
                if (name.SequenceEqual("."u8) || name.SequenceEqual(".."u8))
                {
                    continue;
                }

                names.Add(name.ToArray());
            }
        }
        finally
        {
            _ = CloseDir(dir);
        }
    }

    /// <summary>The status of the directory itself.</summary>
    public unsafe FileStatus Stat()
    {
        Statx buffer;
        fixed (byte* empty = "\0"u8)
        {
            if (StatX(handle, empty, AT_EMPTY_PATH, STATX_BASIC_STATS, &buffer) != 0)
            {
                throw new PosixException("statx", PosixNames.LastErrno(), DisplayPath);
            }
        }

        return ToFileStatus(buffer);
    }

    /// <summary>The status of a child, without following a symlink (<c>fstatat(AT_SYMLINK_NOFOLLOW)</c>).</summary>
    public FileStatus StatChild(ReadOnlySpan<byte> name)
    {
        PosixNames.Validate(name);
        var errno = StatChildCore(name, out var status);
        return errno == 0 ? status : throw new PosixException("statx", errno, PosixNames.Join(DisplayPath, name));
    }

    /// <summary>Tries <see cref="StatChild"/>; returns false if the child does not exist.</summary>
    public bool TryStatChild(ReadOnlySpan<byte> name, out FileStatus status)
    {
        PosixNames.Validate(name);
        var errno = StatChildCore(name, out status);
        return errno switch
        {
            0 => true,
            ENOENT => false,
            _ => throw new PosixException("statx", errno, PosixNames.Join(DisplayPath, name)),
        };
    }

    /// <summary>The raw target of a symlink child.</summary>
    /// <exception cref="PosixException"><c>EINVAL</c> if the child is not a symlink.</exception>
    public unsafe byte[] ReadLink(ReadOnlySpan<byte> name)
    {
        PosixNames.Validate(name);
        Span<byte> scratch = stackalloc byte[NameScratch];
        fixed (byte* p = Terminate(name, scratch))
        {
            // readlink truncates silently; a result that fills the buffer may have been cut, so grow and retry.
            for (var size = 256; ; size *= 4)
            {
                var buffer = new byte[size];
                nint length;
                fixed (byte* b = buffer)
                {
                    length = ReadLinkAt(handle, p, b, (nuint)size);
                }

                if (length < 0)
                {
                    throw Error("readlinkat", name);
                }

                if (length < size)
                {
                    return buffer[..(int)length];
                }
            }
        }
    }

    /// <summary>Opens a regular-file child for reading without following symlinks, and without updating its access time
    /// where the process may do so (<c>O_NOATIME</c>), so a backup does not change what it backs up.</summary>
    /// <exception cref="PosixException"><c>ELOOP</c> if the child is a symlink; <c>EISDIR</c> or <c>EINVAL</c> if it
    /// is a directory or another non-regular file.</exception>
    public unsafe SafeFileHandle OpenFileForRead(ReadOnlySpan<byte> name)
    {
        PosixNames.Validate(name);
        Span<byte> scratch = stackalloc byte[NameScratch];
        int fd;
        fixed (byte* p = Terminate(name, scratch))
        {
            // O_NONBLOCK: if the entry was swapped for a fifo since the caller looked at it, open would otherwise wait
            // for a writer forever. It has no effect on regular files, and is cleared again below.
            fd = OpenWithNoAtime(handle, p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0);
        }

        if (fd < 0)
        {
            throw Error("openat", name);
        }

        var file = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            var status = PosixFile.Stat(file);
            if (status.Kind != PosixFileKind.Regular)
            {
                throw new PosixException("open regular file", status.Kind == PosixFileKind.Directory ? EISDIR : EINVAL,
                    PosixNames.Join(DisplayPath, name));
            }

            // .NET treats a descriptor with O_NONBLOCK as asynchronous; keep only O_NOATIME (if it was granted).
            var statusFlags = FCntl(file, F_GETFL, 0);
            if (statusFlags < 0 || FCntl(file, F_SETFL, statusFlags & ~O_NONBLOCK) < 0)
            {
                throw Error("fcntl", name);
            }

            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Lists the extended attributes of a child (not following symlinks); empty where unsupported.</summary>
    /// <remarks>Attribute names are decoded as UTF-8 (they are ASCII in practice); values are raw bytes. The order is the
    /// file system's.</remarks>
    public unsafe List<(string Name, byte[] Value)> ReadExtendedAttributes(ReadOnlySpan<byte> name)
    {
        PosixNames.Validate(name);
        var result = new List<(string Name, byte[] Value)>();
        using var lease = new DescriptorLease(handle);
        if (HasNoExtendedAttributes(lease.Descriptor, name))
        {
            return result;
        }

        fixed (byte* path = ProcPath(lease.Descriptor, name))
        {
            byte[] list;
            nint listLength;
            while (true)
            {
                var size = LListXAttr(path, null, 0);
                if (size < 0)
                {
                    var errno = PosixNames.LastErrno();
                    return errno == EOPNOTSUPP ? result : throw new PosixException("llistxattr", errno, PosixNames.Join(DisplayPath, name));
                }

                if (size == 0)
                {
                    return result;
                }

                list = new byte[size];
                fixed (byte* l = list)
                {
                    listLength = LListXAttr(path, l, (nuint)list.Length);
                }

                if (listLength >= 0)
                {
                    break;
                }

                // ERANGE: an attribute was added between the two calls; ask for the size again.
                if (PosixNames.LastErrno() != ERANGE)
                {
                    throw Error("llistxattr", name);
                }
            }

            var names = list.AsSpan(0, (int)listLength);
            while (!names.IsEmpty)
            {
                var end = names.IndexOf((byte)0);
                var attribute = end < 0 ? names : names[..end];
                names = end < 0 ? default : names[(end + 1)..];
                if (attribute.IsEmpty)
                {
                    continue;
                }

                var value = GetAttribute(path, attribute, name);
                if (value is not null)
                {
                    result.Add((Encoding.UTF8.GetString(attribute), value));
                }
            }
        }

        return result;
    }

    /// <summary>
    /// True when listxattrat(2) says the child has no attributes, the common case a backup asks about for every file.
    /// It looks the name up in this directory directly; the /proc path the other xattr calls need costs a procfs
    /// lookup and permission check per file (about a tenth of a no-change backup's CPU). False when there are
    /// attributes or the kernel lacks the call (before Linux 6.13, or filtered by seccomp): the caller then lists
    /// them the portable way, which also reports any error.
    /// </summary>
    private static unsafe bool HasNoExtendedAttributes(int descriptor, ReadOnlySpan<byte> name)
    {
        if (s_noListXAttrAt)
        {
            return false;
        }

        Span<byte> scratch = stackalloc byte[NameScratch];
        nint size;
        fixed (byte* p = Terminate(name, scratch))
        {
            size = ListXAttrAt(descriptor, p, AT_SYMLINK_NOFOLLOW, null, 0);
        }

        if (size < 0 && PosixNames.LastErrno() is ENOSYS or EPERM)
        {
            // Real listing errors are ENOENT, EACCES and the like; ENOSYS (old kernel) and EPERM (a seccomp filter
            // that does not know the call) mean the call itself is unavailable, for good.
            s_noListXAttrAt = true;
        }
        return size == 0;
    }

    /// <summary>Set once listxattrat(2) turned out to be unavailable; only x86_64 and arm64 share its number.</summary>
    private static volatile bool s_noListXAttrAt =
        RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64);

    // ---- writing (restore) ----

    /// <summary>Makes sure a real directory exists at <paramref name="name"/> and opens it: creates it if missing; if a
    /// non-directory (including a symlink) is in the way, removes that first.</summary>
    /// <remarks>A new directory gets <paramref name="permissions"/> less the process umask; an existing one keeps its
    /// permissions. A restore should create with owner rwx and set the final permissions after filling it.</remarks>
    public unsafe DirectoryHandle CreateDirectory(ReadOnlySpan<byte> name, uint permissions)
    {
        PosixNames.Validate(name);
        Span<byte> scratch = stackalloc byte[NameScratch];
        fixed (byte* p = Terminate(name, scratch))
        {
            for (var attempt = 0; ; attempt++)
            {
                if (MkDirAt(handle, p, permissions & 0xFFF) != 0)
                {
                    var errno = PosixNames.LastErrno();
                    if (errno != EEXIST || attempt >= 3)
                    {
                        throw new PosixException("mkdirat", errno, PosixNames.Join(DisplayPath, name));
                    }

                    if (!TryStatChild(name, out var existing))
                    {
                        continue; // vanished meanwhile: create it
                    }

                    if (existing.Kind != PosixFileKind.Directory)
                    {
                        // A file, symlink or other non-directory is in the way: replace it. Unlinking a symlink
                        // removes the link itself, never what it points to.
                        if (UnlinkAt(handle, p, 0) != 0 && PosixNames.LastErrno() != ENOENT)
                        {
                            throw Error("unlinkat", name);
                        }

                        continue;
                    }
                }

                // O_NOFOLLOW: if the directory was swapped for a symlink since, fail instead of entering the target.
                var fd = OpenDirectoryDescriptor(handle, p, noFollow: true);
                if (fd < 0)
                {
                    throw Error("openat", name);
                }

                return new DirectoryHandle(new SafeFileHandle(fd, ownsHandle: true), PosixNames.Join(DisplayPath, name));
            }
        }
    }

    /// <summary>Creates a new regular file for writing, replacing whatever non-directory is at the name (never writing
    /// through a symlink).</summary>
    /// <remarks>The file is created with <c>O_CREAT|O_EXCL|O_NOFOLLOW</c>, so it is always a new inode; the mode is
    /// <paramref name="permissions"/> less the umask (set the exact bits with <see cref="SetPermissions"/>).</remarks>
    /// <exception cref="PosixException"><c>EISDIR</c> if a directory is at the name.</exception>
    public unsafe SafeFileHandle CreateFile(ReadOnlySpan<byte> name, uint permissions)
    {
        PosixNames.Validate(name);
        Span<byte> scratch = stackalloc byte[NameScratch];
        fixed (byte* p = Terminate(name, scratch))
        {
            for (var attempt = 0; ; attempt++)
            {
                var fd = OpenAnywhere(handle, p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, permissions & 0xFFF);
                if (fd >= 0)
                {
                    return new SafeFileHandle(fd, ownsHandle: true);
                }

                ReplaceOrThrow("openat", PosixNames.LastErrno(), name, p, attempt);
            }
        }
    }

    /// <summary>
    /// A second, write-only descriptor on a regular file at <paramref name="name"/> whose writes bypass the page cache
    /// (<c>O_DIRECT</c>), provided it is the file <paramref name="sameAs"/> is open on (same device and inode: the name
    /// is looked up again, and without following a symlink). <see langword="null"/> where the file system refuses
    /// <c>O_DIRECT</c> or the name now holds something else; the caller then writes through <paramref name="sameAs"/>.
    /// <paramref name="ioBlockSize"/> is the file system's preferred I/O size (<c>st_blksize</c>), which direct writes
    /// should be aligned to.
    /// </summary>
    public unsafe SafeFileHandle? TryOpenForDirectWrite(ReadOnlySpan<byte> name, SafeFileHandle sameAs, out int ioBlockSize)
    {
        ioBlockSize = 0;
        PosixNames.Validate(name);
        ArgumentNullException.ThrowIfNull(sameAs);
        Span<byte> scratch = stackalloc byte[NameScratch];
        int fd;
        fixed (byte* p = Terminate(name, scratch))
        {
            fd = OpenAnywhere(handle, p, O_WRONLY | O_DIRECT | O_NOFOLLOW | O_CLOEXEC, 0);
        }

        if (fd < 0)
        {
            return null;
        }

        var file = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            var opened = PosixFile.StatRaw(file);
            var expected = PosixFile.StatRaw(sameAs);
            if (opened.DeviceMajor == expected.DeviceMajor && opened.DeviceMinor == expected.DeviceMinor && opened.Inode == expected.Inode
                && (opened.Mode & 0xF000) == (uint)PosixFileKind.Regular)
            {
                ioBlockSize = (int)opened.BlockSize;
                return file;
            }
        }
        catch (PosixException)
        {
            // Treated like a refusal: the caller writes through the descriptor it has.
        }

        file.Dispose();
        return null;
    }

    /// <summary>Creates a symlink, replacing a non-directory at the name.</summary>
    /// <remarks>The target is stored as given and never resolved. An empty target fails with <c>ENOENT</c> (the
    /// kernel's answer) and one containing NUL with <c>EINVAL</c>: both are data from a snapshot, so they are
    /// reported like any other failed restore of an entry, not as a programming error.</remarks>
    /// <exception cref="PosixException"><c>EISDIR</c> if a directory is at the name.</exception>
    public unsafe void CreateSymlink(ReadOnlySpan<byte> name, ReadOnlySpan<byte> target)
    {
        PosixNames.Validate(name);
        if (target.Contains((byte)0))
        {
            throw new PosixException("symlinkat", EINVAL, PosixNames.Join(DisplayPath, name));
        }

        Span<byte> scratch = stackalloc byte[NameScratch];
        var terminatedTarget = Terminate(target, stackalloc byte[NameScratch]);
        fixed (byte* p = Terminate(name, scratch))
        fixed (byte* t = terminatedTarget)
        {
            for (var attempt = 0; ; attempt++)
            {
                if (SymlinkAt(t, handle, p) == 0)
                {
                    return;
                }

                ReplaceOrThrow("symlinkat", PosixNames.LastErrno(), name, p, attempt);
            }
        }
    }

    /// <summary>Creates a hard link at <paramref name="name"/> to <paramref name="existingName"/> in <paramref name="existingDirectory"/>, replacing a non-directory at the name.</summary>
    /// <remarks>The link is made to the entry itself (a symlink is linked, not followed). If the name already is a
    /// link to the same inode, nothing changes.</remarks>
    /// <exception cref="PosixException"><c>EISDIR</c> if a directory is at the name.</exception>
    public unsafe void CreateHardLink(ReadOnlySpan<byte> name, DirectoryHandle existingDirectory, ReadOnlySpan<byte> existingName)
    {
        ArgumentNullException.ThrowIfNull(existingDirectory);
        PosixNames.Validate(name);
        PosixNames.Validate(existingName, nameof(existingName));
        Span<byte> scratch = stackalloc byte[NameScratch];
        var terminatedExisting = Terminate(existingName, stackalloc byte[NameScratch]);
        fixed (byte* p = Terminate(name, scratch))
        fixed (byte* e = terminatedExisting)
        {
            for (var attempt = 0; ; attempt++)
            {
                if (LinkAt(existingDirectory.handle, e, handle, p, 0) == 0)
                {
                    return;
                }

                var errno = PosixNames.LastErrno();
                if (errno == EEXIST && TryStatChild(name, out var present))
                {
                    // Already linked (for example a restore run twice): unlinking first would be pointless, and if both
                    // names are the same entry it would delete the only copy.
                    var source = existingDirectory.StatChild(existingName);
                    if (present.Inode == source.Inode && present.Device == source.Device)
                    {
                        return;
                    }
                }

                ReplaceOrThrow("linkat", errno, name, p, attempt);
            }
        }
    }

    /// <summary>Creates a fifo, socket placeholder or device node (<c>mknodat</c>); devices need privileges.</summary>
    /// <exception cref="ArgumentException"><paramref name="kind"/> is a regular file, directory or symlink.</exception>
    /// <exception cref="PosixException"><c>EISDIR</c> if a directory is at the name.</exception>
    public unsafe void CreateSpecial(ReadOnlySpan<byte> name, PosixFileKind kind, uint permissions, ulong device)
    {
        PosixNames.Validate(name);
        if (kind is not (PosixFileKind.Fifo or PosixFileKind.CharDevice or PosixFileKind.BlockDevice or PosixFileKind.Socket))
        {
            throw new ArgumentException($"CreateSpecial makes fifos, sockets and devices, not {kind}.", nameof(kind));
        }

        Span<byte> scratch = stackalloc byte[NameScratch];
        fixed (byte* p = Terminate(name, scratch))
        {
            for (var attempt = 0; ; attempt++)
            {
                var mode = (uint)kind | (permissions & 0xFFF);
                var result = kind == PosixFileKind.Fifo
                    ? MkFifoAt(handle, p, permissions & 0xFFF)
                    : MakeNode(handle, p, mode, device);
                if (result == 0)
                {
                    return;
                }

                ReplaceOrThrow(kind == PosixFileKind.Fifo ? "mkfifoat" : "mknodat", PosixNames.LastErrno(), name, p, attempt);
            }
        }
    }

    /// <summary>Removes a non-directory child (<c>unlinkat</c>), or an empty directory child when <paramref name="directory"/> is true.</summary>
    public unsafe void Remove(ReadOnlySpan<byte> name, bool directory)
    {
        PosixNames.Validate(name);
        Span<byte> scratch = stackalloc byte[NameScratch];
        fixed (byte* p = Terminate(name, scratch))
        {
            if (UnlinkAt(handle, p, directory ? AT_REMOVEDIR : 0) != 0)
            {
                throw Error("unlinkat", name);
            }
        }
    }

    /// <summary>Sets permission bits (including setuid/setgid/sticky) of a child; no-op for symlinks.</summary>
    /// <remarks>Only the low 12 bits (<c>07777</c>) of <paramref name="permissions"/> are used. Set the owner first:
    /// changing the owner clears setuid and setgid.</remarks>
    public unsafe void SetPermissions(ReadOnlySpan<byte> name, uint permissions)
    {
        PosixNames.Validate(name);

        // chmod has no "don't follow" flag that works everywhere (fchmodat's AT_SYMLINK_NOFOLLOW fails or is emulated
        // depending on the glibc and kernel), so pin the entry itself with an O_PATH descriptor, look at what it is,
        // and change the mode through /proc/self/fd, which refers to exactly that inode.
        Span<byte> scratch = stackalloc byte[NameScratch];
        int fd;
        fixed (byte* p = Terminate(name, scratch))
        {
            fd = OpenAnywhere(handle, p, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
        }

        if (fd < 0)
        {
            throw Error("openat", name);
        }

        using var pinned = new SafeFileHandle(fd, ownsHandle: true);
        if (PosixFile.Stat(pinned).Kind == PosixFileKind.Symlink)
        {
            return; // Linux symlinks have no permissions of their own.
        }

        fixed (byte* proc = ProcPath(fd, default))
        {
            if (FChModAt(AT_FDCWD, proc, permissions & 0xFFF, 0) != 0)
            {
                throw Error("fchmodat", name);
            }
        }
    }

    /// <summary>Sets the owner of a child without following a symlink (<c>fchownat(AT_SYMLINK_NOFOLLOW)</c>).</summary>
    /// <remarks>The kernel clears setuid/setgid when the owner of a regular file changes: set permissions afterwards.</remarks>
    public unsafe void SetOwner(ReadOnlySpan<byte> name, uint uid, uint gid)
    {
        PosixNames.Validate(name);
        Span<byte> scratch = stackalloc byte[NameScratch];
        fixed (byte* p = Terminate(name, scratch))
        {
            if (FChOwnAt(handle, p, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
            {
                throw Error("fchownat", name);
            }
        }
    }

    /// <summary>Sets access and modification times of a child with nanosecond precision, without following a symlink.</summary>
    public unsafe void SetTimes(ReadOnlySpan<byte> name, TimeSpec accessTime, TimeSpec modifyTime)
    {
        PosixNames.Validate(name);
        var times = stackalloc Timespec[2];
        times[0] = new Timespec { Seconds = accessTime.Seconds, Nanoseconds = accessTime.Nanoseconds };
        times[1] = new Timespec { Seconds = modifyTime.Seconds, Nanoseconds = modifyTime.Nanoseconds };
        Span<byte> scratch = stackalloc byte[NameScratch];
        fixed (byte* p = Terminate(name, scratch))
        {
            if (UTimensAt(handle, p, times, AT_SYMLINK_NOFOLLOW) != 0)
            {
                throw Error("utimensat", name);
            }
        }
    }

    /// <summary>Sets an extended attribute of a child (not following symlinks).</summary>
    /// <remarks>Linux refuses <c>user.*</c> attributes on symlinks and special files (<c>EPERM</c>). An empty
    /// attribute name or one containing NUL fails with <c>EINVAL</c> (it comes from snapshot data).</remarks>
    public unsafe void SetExtendedAttribute(ReadOnlySpan<byte> name, string attributeName, ReadOnlySpan<byte> value)
    {
        PosixNames.Validate(name);
        ArgumentNullException.ThrowIfNull(attributeName);
        if (attributeName.Length == 0 || attributeName.Contains('\0', StringComparison.Ordinal))
        {
            throw new PosixException("lsetxattr", EINVAL, PosixNames.Join(DisplayPath, name));
        }

        var attribute = Terminate(Encoding.UTF8.GetBytes(attributeName), stackalloc byte[NameScratch]);
        using var lease = new DescriptorLease(handle);
        fixed (byte* path = ProcPath(lease.Descriptor, name))
        fixed (byte* a = attribute)
        fixed (byte* v = value)
        {
            // A non-null pointer even for an empty value: an empty attribute is valid and different from none.
            byte one = 0;
            if (LSetXAttr(path, a, v == null ? &one : v, (nuint)value.Length, 0) != 0)
            {
                throw Error("lsetxattr", name);
            }
        }
    }

    /// <summary>Flushes the directory itself (its entries) to stable storage (<c>fsync</c>), for example after a
    /// rename into it.</summary>
    public void Sync() => PosixFile.Sync(handle, DisplayPath);

    /// <summary>Closes the descriptor.</summary>
    public void Dispose() => handle.Dispose();

    // ---- helpers ----

    private PosixException Error(string operation, ReadOnlySpan<byte> name) =>
        new(operation, PosixNames.LastErrno(), PosixNames.Join(DisplayPath, name));

    private unsafe int StatChildCore(ReadOnlySpan<byte> name, out FileStatus status)
    {
        Statx buffer;
        Span<byte> scratch = stackalloc byte[NameScratch];
        fixed (byte* p = Terminate(name, scratch))
        {
            // AT_NO_AUTOMOUNT: like lstat, look at an automount point without mounting it.
            if (StatX(handle, p, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &buffer) != 0)
            {
                status = default;
                return PosixNames.LastErrno();
            }
        }

        status = ToFileStatus(buffer);
        return 0;
    }

    /// <summary>After a create call failed: if the reason is a non-directory at the name, remove it so the caller can
    /// try again; otherwise throw.</summary>
    private unsafe void ReplaceOrThrow(string operation, int errno, ReadOnlySpan<byte> name, byte* terminatedName, int attempt)
    {
        if (errno != EEXIST || attempt >= 3)
        {
            // Several rounds of "remove, create, already exists" mean something keeps re-creating the entry.
            throw new PosixException(operation, errno, PosixNames.Join(DisplayPath, name));
        }

        if (!TryStatChild(name, out var existing))
        {
            return; // gone meanwhile; try again
        }

        if (existing.Kind == PosixFileKind.Directory)
        {
            throw new PosixException(operation, EISDIR, PosixNames.Join(DisplayPath, name));
        }

        if (UnlinkAt(handle, terminatedName, 0) != 0 && PosixNames.LastErrno() != ENOENT)
        {
            throw Error("unlinkat", name);
        }
    }

    private static unsafe int MakeNode(SafeFileHandle dir, byte* path, uint mode, ulong device)
    {
        if (!useVersionedMkNod)
        {
            try
            {
                return MkNodAt(dir, path, mode, device);
            }
            catch (EntryPointNotFoundException)
            {
                // glibc before 2.33 only exports the versioned entry point.
                useVersionedMkNod = true;
            }
        }

        return XMkNodAt(0, dir, path, mode, &device);
    }

    /// <summary>Opens a directory for listing. Tries <c>O_NOATIME</c> (so listing does not touch the access time),
    /// and falls back to an <c>O_PATH</c> descriptor where the directory may be searched but not read: the *at calls
    /// still work through it, only <see cref="ReadEntries"/> and <see cref="Sync"/> will fail.</summary>
    private static unsafe int OpenDirectoryDescriptor(SafeFileHandle? dir, byte* path, bool noFollow)
    {
        var extra = noFollow ? O_NOFOLLOW : 0;
        var fd = OpenWithNoAtime(dir, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | extra, 0);
        if (fd < 0 && PosixNames.LastErrno() == EACCES)
        {
            var pathFd = OpenAnywhere(dir, path, O_PATH | O_DIRECTORY | O_CLOEXEC | extra, 0);
            if (pathFd >= 0)
            {
                return pathFd;
            }

            Marshal.SetLastPInvokeError(EACCES); // report the original reason
        }

        return fd;
    }

    /// <summary>Opens with <c>O_NOATIME</c>, which only the owner (or a process with CAP_FOWNER) may use; on EPERM
    /// opens again without it.</summary>
    private static unsafe int OpenWithNoAtime(SafeFileHandle? dir, byte* path, int flags, uint mode)
    {
        var fd = OpenAnywhere(dir, path, flags | O_NOATIME, mode);
        if (fd < 0 && PosixNames.LastErrno() == EPERM)
        {
            fd = OpenAnywhere(dir, path, flags, mode);
        }

        return fd;
    }

    /// <summary><c>openat</c> relative to <paramref name="dir"/> (or the working directory), repeated while it fails
    /// with EINTR (opening a fifo or a slow device can be interrupted by a signal).</summary>
    private static unsafe int OpenAnywhere(SafeFileHandle? dir, byte* path, int flags, uint mode)
    {
        while (true)
        {
            var fd = dir is null ? OpenAt(AT_FDCWD, path, flags, mode) : OpenAt(dir, path, flags, mode);
            if (fd >= 0 || PosixNames.LastErrno() != EINTR)
            {
                return fd;
            }
        }
    }

    /// <summary>"/proc/self/fd/N" or "/proc/self/fd/N/name", NUL-terminated: a path the kernel resolves through the
    /// open descriptor N, so nothing above it in the tree is walked again.</summary>
    private static byte[] ProcPath(int descriptor, ReadOnlySpan<byte> name)
    {
        var prefix = Encoding.ASCII.GetBytes("/proc/self/fd/" + descriptor.ToString(CultureInfo.InvariantCulture));
        var path = new byte[prefix.Length + (name.IsEmpty ? 0 : name.Length + 1) + 1];
        prefix.CopyTo(path, 0);
        if (!name.IsEmpty)
        {
            path[prefix.Length] = (byte)'/';
            name.CopyTo(path.AsSpan(prefix.Length + 1));
        }

        return path; // the last byte is already 0
    }

    private unsafe byte[]? GetAttribute(byte* path, ReadOnlySpan<byte> attribute, ReadOnlySpan<byte> name)
    {
        var terminated = Terminate(attribute, stackalloc byte[NameScratch]);
        fixed (byte* a = terminated)
        {
            while (true)
            {
                var size = LGetXAttr(path, a, null, 0);
                if (size < 0)
                {
                    // Removed since it was listed, or a namespace this process may not read: nothing to report.
                    var errno = PosixNames.LastErrno();
                    return errno is ENODATA or EOPNOTSUPP ? null : throw new PosixException("lgetxattr", errno, PosixNames.Join(DisplayPath, name));
                }

                var value = new byte[size];
                nint length;
                fixed (byte* v = value)
                {
                    byte one = 0;
                    length = LGetXAttr(path, a, size == 0 ? &one : v, (nuint)value.Length);
                }

                if (length >= 0)
                {
                    return length == value.Length ? value : value[..(int)length];
                }

                if (PosixNames.LastErrno() != ERANGE)
                {
                    throw Error("lgetxattr", name);
                }
            }
        }
    }

    /// <summary>Holds a reference on a SafeHandle while its raw descriptor number is in use (for /proc paths), so a
    /// concurrent Dispose cannot close it and let the number be reused for another file meanwhile.</summary>
    private readonly ref struct DescriptorLease
    {
        private readonly SafeHandle owner;

        public DescriptorLease(SafeHandle owner)
        {
            this.owner = owner;
            var added = false;
            owner.DangerousAddRef(ref added);
            Descriptor = (int)owner.DangerousGetHandle();
        }

        public int Descriptor { get; }

        public void Dispose() => owner.DangerousRelease();
    }
}
