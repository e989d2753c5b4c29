using System.Runtime.InteropServices;

namespace KubeBackup.Platform;

/// <summary>A POSIX call failed. Carries the errno so callers can tell "not found" or "permission denied" apart.</summary>
public sealed class PosixException : IOException
{
    /// <summary>Creates the exception.</summary>
    public PosixException(string operation, int errno, string? path = null)
        : base($"{operation}{(path is null ? "" : " " + path)}: {Describe(errno)}")
    {
        Operation = operation;
        Errno = errno;
        Path = path;
    }

    /// <summary>The call that failed, for example <c>openat</c>.</summary>
    public string Operation { get; }

    /// <summary>The errno value.</summary>
    public int Errno { get; }

    /// <summary>The path or name involved, for display.</summary>
    public string? Path { get; }

    /// <summary>ENOENT.</summary>
    public bool IsNotFound => Errno == 2;

    /// <summary>EACCES or EPERM.</summary>
    public bool IsAccessDenied => Errno is 13 or 1;

    private static string Describe(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
}
