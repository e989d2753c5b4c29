using KubeBackup.Platform;
using Microsoft.Win32.SafeHandles;

namespace KubeBackup.Restic.Restorer;

/// <summary>
/// Where a restored node's owner, mode, extended attributes and times go: an entry named in its open folder
/// (folders, symlinks, special files), or a regular file through the descriptor it was written with (no name lookup,
/// and nothing can have replaced it at its name). The restorer applies the same steps in the same order to both.
/// </summary>
internal interface IMetadataTarget
{
    void SetOwner(uint uid, uint gid);

    void SetPermissions(uint permissions);

    void SetExtendedAttribute(string name, ReadOnlySpan<byte> value);

    void SetTimes(TimeSpec accessTime, TimeSpec modifyTime);
}

/// <summary>An entry of an open folder, by name (the *at system calls).</summary>
internal readonly struct NamedEntryTarget(DirectoryHandle directory, byte[] name) : IMetadataTarget
{
    public void SetOwner(uint uid, uint gid) => directory.SetOwner(name, uid, gid);

    public void SetPermissions(uint permissions) => directory.SetPermissions(name, permissions);

    public void SetExtendedAttribute(string attributeName, ReadOnlySpan<byte> value) => directory.SetExtendedAttribute(name, attributeName, value);

    public void SetTimes(TimeSpec accessTime, TimeSpec modifyTime) => directory.SetTimes(name, accessTime, modifyTime);
}

/// <summary>A regular file still open (the f* system calls).</summary>
internal readonly struct OpenFileTarget(SafeFileHandle file) : IMetadataTarget
{
    public void SetOwner(uint uid, uint gid) => PosixFile.SetOwner(file, uid, gid);

    public void SetPermissions(uint permissions) => PosixFile.SetPermissions(file, permissions);

    public void SetExtendedAttribute(string attributeName, ReadOnlySpan<byte> value) => PosixFile.SetExtendedAttribute(file, attributeName, value);

    public void SetTimes(TimeSpec accessTime, TimeSpec modifyTime) => PosixFile.SetTimes(file, accessTime, modifyTime);
}
