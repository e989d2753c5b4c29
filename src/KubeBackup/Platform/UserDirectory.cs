namespace KubeBackup.Platform;

/// <summary>Maps user and group IDs to names and back, as <c>getpwuid</c>/<c>getgrgid</c> would (results cached).</summary>
public static class UserDirectory
{
    /// <summary>The user name of a UID, or null if unknown.</summary>
    public static string? UserName(uint uid) => throw new NotImplementedException();

    /// <summary>The group name of a GID, or null if unknown.</summary>
    public static string? GroupName(uint gid) => throw new NotImplementedException();

    /// <summary>The UID of a user name, if known.</summary>
    public static uint? UserId(string name) => throw new NotImplementedException();

    /// <summary>The GID of a group name, if known.</summary>
    public static uint? GroupId(string name) => throw new NotImplementedException();
}
