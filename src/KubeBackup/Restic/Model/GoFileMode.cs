using System.Text;

namespace KubeBackup.Restic.Model;

/// <summary>The bits of Go's <c>os.FileMode</c>, which restic stores as a node's <c>mode</c>: permissions in the low
/// nine bits, the file type and setuid/setgid/sticky in high bits (not where POSIX keeps them).</summary>
public static class GoFileMode
{
    /// <summary>A directory.</summary>
    public const uint Dir = 1u << 31;
    /// <summary>A symbolic link.</summary>
    public const uint Symlink = 1u << 27;
    /// <summary>A device (with <see cref="CharDevice"/>: a character device).</summary>
    public const uint Device = 1u << 26;
    /// <summary>A named pipe.</summary>
    public const uint NamedPipe = 1u << 25;
    /// <summary>A socket.</summary>
    public const uint Socket = 1u << 24;
    /// <summary>setuid.</summary>
    public const uint Setuid = 1u << 23;
    /// <summary>setgid.</summary>
    public const uint Setgid = 1u << 22;
    /// <summary>A character device (together with <see cref="Device"/>).</summary>
    public const uint CharDevice = 1u << 21;
    /// <summary>sticky.</summary>
    public const uint Sticky = 1u << 20;
    /// <summary>The <c>rwxrwxrwx</c> bits.</summary>
    public const uint Permissions = 0x1FF;

    /// <summary>The <c>ls -l</c> style string restic prints (<c>drwxr-xr-x</c>, <c>Lrwxrwxrwx</c>…).</summary>
    public static string ToDisplayString(uint mode)
    {
        var sb = new StringBuilder(10);
        sb.Append((mode & Dir) != 0 ? 'd'
            : (mode & Symlink) != 0 ? 'L'
            : (mode & CharDevice) != 0 ? 'c'
            : (mode & Device) != 0 ? 'D'
            : (mode & NamedPipe) != 0 ? 'p'
            : (mode & Socket) != 0 ? 'S' : '-');
        const string rwx = "rwxrwxrwx";
        for (int i = 0; i < 9; i++)
        {
            sb.Append((mode & (1u << (8 - i))) != 0 ? rwx[i] : '-');
        }

        return sb.ToString();
    }
}
