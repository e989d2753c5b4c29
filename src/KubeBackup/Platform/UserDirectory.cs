using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using static KubeBackup.Platform.LibC;

namespace KubeBackup.Platform;

/// <summary>Maps user and group IDs to names and back, as <c>getpwuid</c>/<c>getgrgid</c> would (results cached).</summary>
/// <remarks>
/// Uses glibc's reentrant <c>getpwuid_r</c>/<c>getgrgid_r</c>/<c>getpwnam_r</c>/<c>getgrnam_r</c> rather than reading
/// /etc/passwd and /etc/group, so the answers follow the system's NSS configuration (LDAP, sssd, systemd-userdb...)
/// exactly as <c>ls -l</c>, <c>tar</c> and a cgo-built restic see them. Answers, including "unknown", are cached for
/// the life of the process; a lookup that fails with an error (rather than "not found") is not cached.
/// </remarks>
internal static class UserDirectory
{
    // Entries carry their strings in the caller's buffer; a group with many members needs more than the usual 1 KiB.
    private const int FirstBufferSize = 1024;
    private const int MaxBufferSize = 16 * 1024 * 1024;

    private static readonly ConcurrentDictionary<uint, string?> UserNames = new();
    private static readonly ConcurrentDictionary<uint, string?> GroupNames = new();
    private static readonly ConcurrentDictionary<string, uint?> UserIds = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, uint?> GroupIds = new(StringComparer.Ordinal);

    /// <summary>The user name of a UID, or null if unknown.</summary>
    public static unsafe string? UserName(uint uid)
    {
        if (UserNames.TryGetValue(uid, out var cached))
        {
            return cached;
        }

        for (var size = FirstBufferSize; size <= MaxBufferSize; size *= 4)
        {
            var buffer = new byte[size];
            fixed (byte* b = buffer)
            {
                Passwd entry;
                Passwd* found = null;
                var result = GetPwUidR(uid, &entry, b, (nuint)size, &found);
                if (result == ERANGE)
                {
                    continue;
                }

                return result != 0 ? null : UserNames.GetOrAdd(uid, found == null ? null : Decode(found->Name));
            }
        }

        return null;
    }

    /// <summary>The group name of a GID, or null if unknown.</summary>
    public static unsafe string? GroupName(uint gid)
    {
        if (GroupNames.TryGetValue(gid, out var cached))
        {
            return cached;
        }

        for (var size = FirstBufferSize; size <= MaxBufferSize; size *= 4)
        {
            var buffer = new byte[size];
            fixed (byte* b = buffer)
            {
                Group entry;
                Group* found = null;
                var result = GetGrGidR(gid, &entry, b, (nuint)size, &found);
                if (result == ERANGE)
                {
                    continue;
                }

                return result != 0 ? null : GroupNames.GetOrAdd(gid, found == null ? null : Decode(found->Name));
            }
        }

        return null;
    }

    /// <summary>The UID of a user name, if known.</summary>
    public static unsafe uint? UserId(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (UserIds.TryGetValue(name, out var cached))
        {
            return cached;
        }

        if (!IsLookupName(name))
        {
            return null;
        }

        var key = Encoding.UTF8.GetBytes(name + "\0");
        for (var size = FirstBufferSize; size <= MaxBufferSize; size *= 4)
        {
            var buffer = new byte[size];
            fixed (byte* k = key)
            fixed (byte* b = buffer)
            {
                Passwd entry;
                Passwd* found = null;
                var result = GetPwNamR(k, &entry, b, (nuint)size, &found);
                if (result == ERANGE)
                {
                    continue;
                }

                return result != 0 ? null : UserIds.GetOrAdd(name, found == null ? null : found->Uid);
            }
        }

        return null;
    }

    /// <summary>The GID of a group name, if known.</summary>
    public static unsafe uint? GroupId(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (GroupIds.TryGetValue(name, out var cached))
        {
            return cached;
        }

        if (!IsLookupName(name))
        {
            return null;
        }

        var key = Encoding.UTF8.GetBytes(name + "\0");
        for (var size = FirstBufferSize; size <= MaxBufferSize; size *= 4)
        {
            var buffer = new byte[size];
            fixed (byte* k = key)
            fixed (byte* b = buffer)
            {
                Group entry;
                Group* found = null;
                var result = GetGrNamR(k, &entry, b, (nuint)size, &found);
                if (result == ERANGE)
                {
                    continue;
                }

                return result != 0 ? null : GroupIds.GetOrAdd(name, found == null ? null : found->Gid);
            }
        }

        return null;
    }

    // An empty name or one with NUL can name no account; NUL would also cut the C string short.
    private static bool IsLookupName(string name) => name.Length > 0 && !name.Contains('\0', StringComparison.Ordinal);

    private static unsafe string? Decode(byte* text) =>
        text == null ? null : Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(text));
}
