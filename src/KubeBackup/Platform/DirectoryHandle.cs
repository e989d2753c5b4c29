using Microsoft.Win32.SafeHandles;

namespace KubeBackup.Platform;

/// <summary>
/// An open directory (a file descriptor opened with <c>O_DIRECTORY</c>). Every operation on a child takes a single name
/// component, never a path, and never follows a symlink at that name; so a restore that only goes through directory
/// handles cannot be led outside its target by a crafted name or by a symlink planted in the tree.
/// Names are raw bytes: POSIX names need not be valid UTF-8.
/// </summary>
public sealed class DirectoryHandle : IDisposable
{
    /// <summary>Opens a directory by absolute or relative path, following symlinks in the path (as a user expects for
    /// the path they name on the command line).</summary>
    public static DirectoryHandle Open(ReadOnlySpan<byte> path) => throw new NotImplementedException();

    /// <summary>Opens a directory by path given as a .NET string.</summary>
    public static DirectoryHandle Open(string path) => throw new NotImplementedException();

    /// <summary>Opens a child directory; fails if the child is a symlink or not a directory.</summary>
    public DirectoryHandle OpenDirectory(ReadOnlySpan<byte> name) => throw new NotImplementedException();

    /// <summary>Lists the names in the directory except <c>.</c> and <c>..</c>, in the order the file system returns them.</summary>
    public List<byte[]> ReadEntries() => throw new NotImplementedException();

    /// <summary>The status of the directory itself.</summary>
    public FileStatus Stat() => throw new NotImplementedException();

    /// <summary>The status of a child, without following a symlink (<c>fstatat(AT_SYMLINK_NOFOLLOW)</c>).</summary>
    public FileStatus StatChild(ReadOnlySpan<byte> name) => throw new NotImplementedException();

    /// <summary>Tries <see cref="StatChild"/>; returns false if the child does not exist.</summary>
    public bool TryStatChild(ReadOnlySpan<byte> name, out FileStatus status) => throw new NotImplementedException();

    /// <summary>The raw target of a symlink child.</summary>
    public byte[] ReadLink(ReadOnlySpan<byte> name) => throw new NotImplementedException();

    /// <summary>Opens a regular-file child for reading without following symlinks, and without updating its access time
    /// where the process may do so (<c>O_NOATIME</c>), so a backup does not change what it backs up.</summary>
    public SafeFileHandle OpenFileForRead(ReadOnlySpan<byte> name) => throw new NotImplementedException();

    /// <summary>Lists the extended attributes of a child (not following symlinks); empty where unsupported.</summary>
    public List<(string Name, byte[] Value)> ReadExtendedAttributes(ReadOnlySpan<byte> name) => throw new NotImplementedException();

    // ---- writing (restore) ----

    /// <summary>Makes sure a real directory exists at <paramref name="name"/> and opens it: creates it if missing; if a
    /// non-directory (including a symlink) is in the way, removes that first.</summary>
    public DirectoryHandle CreateDirectory(ReadOnlySpan<byte> name, uint permissions) => throw new NotImplementedException();

    /// <summary>Creates a new regular file for writing, replacing whatever non-directory is at the name (never writing
    /// through a symlink).</summary>
    public SafeFileHandle CreateFile(ReadOnlySpan<byte> name, uint permissions) => throw new NotImplementedException();

    /// <summary>Creates a symlink, replacing a non-directory at the name.</summary>
    public void CreateSymlink(ReadOnlySpan<byte> name, ReadOnlySpan<byte> target) => throw new NotImplementedException();

    /// <summary>Creates a hard link at <paramref name="name"/> to <paramref name="existingName"/> in <paramref name="existingDirectory"/>, replacing a non-directory at the name.</summary>
    public void CreateHardLink(ReadOnlySpan<byte> name, DirectoryHandle existingDirectory, ReadOnlySpan<byte> existingName) => throw new NotImplementedException();

    /// <summary>Creates a fifo, socket placeholder or device node (<c>mknodat</c>); devices need privileges.</summary>
    public void CreateSpecial(ReadOnlySpan<byte> name, PosixFileKind kind, uint permissions, ulong device) => throw new NotImplementedException();

    /// <summary>Removes a non-directory child (<c>unlinkat</c>), or an empty directory child when <paramref name="directory"/> is true.</summary>
    public void Remove(ReadOnlySpan<byte> name, bool directory) => throw new NotImplementedException();

    /// <summary>Sets permission bits (including setuid/setgid/sticky) of a child; no-op for symlinks.</summary>
    public void SetPermissions(ReadOnlySpan<byte> name, uint permissions) => throw new NotImplementedException();

    /// <summary>Sets the owner of a child without following a symlink (<c>fchownat(AT_SYMLINK_NOFOLLOW)</c>).</summary>
    public void SetOwner(ReadOnlySpan<byte> name, uint uid, uint gid) => throw new NotImplementedException();

    /// <summary>Sets access and modification times of a child with nanosecond precision, without following a symlink.</summary>
    public void SetTimes(ReadOnlySpan<byte> name, TimeSpec accessTime, TimeSpec modifyTime) => throw new NotImplementedException();

    /// <summary>Sets an extended attribute of a child (not following symlinks).</summary>
    public void SetExtendedAttribute(ReadOnlySpan<byte> name, string attributeName, ReadOnlySpan<byte> value) => throw new NotImplementedException();

    /// <summary>Closes the descriptor.</summary>
    public void Dispose() => throw new NotImplementedException();
}
