using System.Runtime.InteropServices;
using System.Text;

namespace KubeBackup.Platform;

/// <summary>Name checks and display helpers shared by the POSIX layer.</summary>
internal static class PosixNames
{
    /// <summary>Throws unless <paramref name="name"/> is exactly one path component that names a child.</summary>
    /// <remarks>"." and ".." are refused because they would reach the directory itself or its parent; '/' because the
    /// kernel would walk it as a path (following any symlink on the way); NUL because C would silently cut the name
    /// there.</remarks>
    internal static void Validate(ReadOnlySpan<byte> name, string parameterName = "name")
    {
        if (name.IsEmpty)
        {
            throw new ArgumentException("A name must not be empty.", parameterName);
        }

        if (name.IndexOfAny((byte)'/', (byte)0) >= 0)
        {
            throw new ArgumentException($"A name must be one path component without '/' or NUL: '{Display(name)}'.", parameterName);
        }

        if (name.SequenceEqual("."u8) || name.SequenceEqual(".."u8))
        {
            throw new ArgumentException($"'{Display(name)}' does not name a child.", parameterName);
        }
    }

    /// <summary>Throws if a path contains NUL (which would silently shorten it).</summary>
    internal static void ValidatePath(ReadOnlySpan<byte> path)
    {
        if (path.IsEmpty)
        {
            throw new ArgumentException("A path must not be empty.", nameof(path));
        }

        if (path.Contains((byte)0))
        {
            throw new ArgumentException("A path must not contain NUL.", nameof(path));
        }
    }

    /// <summary>A name for messages: UTF-8 decoded, invalid bytes shown as U+FFFD.</summary>
    internal static string Display(ReadOnlySpan<byte> name) => Encoding.UTF8.GetString(name);

    internal static string Join(string directory, ReadOnlySpan<byte> name) =>
        directory.EndsWith('/') ? directory + Display(name) : directory + "/" + Display(name);

    /// <summary>The errno of the P/Invoke call that just failed.</summary>
    internal static int LastErrno() => Marshal.GetLastPInvokeError();
}
