namespace KubeBackup;

/// <summary>A snapshot, file, path or repository that the caller named does not exist.</summary>
public class NotFoundException : KubeBackupException
{
    /// <summary>Creates the exception.</summary>
    public NotFoundException(string message, Exception? innerException = null) : base(message, innerException) { }
}

/// <summary>No repository exists at the location (it has no <c>config</c> file).</summary>
public sealed class RepositoryNotFoundException : NotFoundException
{
    /// <summary>Creates the exception.</summary>
    public RepositoryNotFoundException(string message, Exception? innerException = null) : base(message, innerException) { }
}

/// <summary>No snapshot matches the given ID, prefix or filter.</summary>
public sealed class SnapshotNotFoundException : NotFoundException
{
    /// <summary>Creates the exception.</summary>
    public SnapshotNotFoundException(string message) : base(message) { }
}
