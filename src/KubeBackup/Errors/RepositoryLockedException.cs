namespace KubeBackup;

/// <summary>Another process holds a lock that conflicts with the lock this operation needs.</summary>
public sealed class RepositoryLockedException : KubeBackupException
{
    /// <summary>Creates the exception.</summary>
    public RepositoryLockedException(string message, string? lockId = null, bool exclusive = false, bool stale = false)
        : base(message)
    {
        LockId = lockId;
        Exclusive = exclusive;
        Stale = stale;
    }

    /// <summary>The ID of the conflicting lock file, if known.</summary>
    public string? LockId { get; }

    /// <summary>Whether the conflicting lock is exclusive.</summary>
    public bool Exclusive { get; }

    /// <summary>Whether the conflicting lock is stale (its owner is gone or it has not been refreshed for 30 minutes).</summary>
    public bool Stale { get; }
}
