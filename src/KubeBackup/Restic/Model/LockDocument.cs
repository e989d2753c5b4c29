namespace KubeBackup.Restic.Model;

/// <summary>A lock file's content.</summary>
public sealed class LockDocument
{
    /// <summary>When the lock was created or last refreshed.</summary>
    public GoTime Time { get; set; }
    /// <summary>Whether the lock is exclusive.</summary>
    public bool Exclusive { get; set; }
    /// <summary>The host of the process holding the lock.</summary>
    public string Hostname { get; set; } = "";
    /// <summary>The user of the process holding the lock.</summary>
    public string Username { get; set; } = "";
    /// <summary>The process ID.</summary>
    public int Pid { get; set; }
    /// <summary>The user ID.</summary>
    public uint Uid { get; set; }
    /// <summary>The group ID.</summary>
    public uint Gid { get; set; }
}
