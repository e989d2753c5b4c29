using Microsoft.Win32.SafeHandles;

namespace KubeBackup.Platform;

/// <summary>Path-based POSIX calls and calls on open files that .NET does not offer.</summary>
public static class PosixFile
{
    /// <summary><c>lstat</c> of a path (raw bytes).</summary>
    public static FileStatus LStat(ReadOnlySpan<byte> path) => throw new NotImplementedException();

    /// <summary><c>lstat</c> of a path given as a .NET string.</summary>
    public static FileStatus LStat(string path) => throw new NotImplementedException();

    /// <summary><c>fstat</c> of an open file.</summary>
    public static FileStatus Stat(SafeFileHandle file) => throw new NotImplementedException();

    /// <summary>Sets the size of an open file (<c>ftruncate</c>); growing it leaves a hole.</summary>
    public static void SetLength(SafeFileHandle file, long length) => throw new NotImplementedException();

    /// <summary>The start of the next region holding data at or after <paramref name="offset"/> (<c>lseek(SEEK_DATA)</c>),
    /// or -1 if the rest of the file is a hole. Where the file system cannot tell, returns <paramref name="offset"/>.</summary>
    public static long NextData(SafeFileHandle file, long offset) => throw new NotImplementedException();

    /// <summary>The start of the next hole at or after <paramref name="offset"/> (<c>lseek(SEEK_HOLE)</c>); the file's
    /// end counts as a hole.</summary>
    public static long NextHole(SafeFileHandle file, long offset) => throw new NotImplementedException();

    /// <summary>Flushes an open directory or file to stable storage (<c>fsync</c>).</summary>
    public static void Sync(SafeFileHandle file) => throw new NotImplementedException();

    /// <summary>The current process's effective user ID.</summary>
    public static uint EffectiveUserId => throw new NotImplementedException();

    /// <summary>The current process's effective group ID.</summary>
    public static uint EffectiveGroupId => throw new NotImplementedException();

    /// <summary>Whether a process with this ID exists (<c>kill(pid, 0)</c>).</summary>
    public static bool ProcessExists(int pid) => throw new NotImplementedException();
}
