namespace KubeBackup;

/// <summary>The repository exists but cannot be used as asked: an unsupported format version, an invalid configuration,
/// an attempt to initialise a location that already holds a repository.</summary>
public sealed class RepositoryException : KubeBackupException
{
    /// <summary>Creates the exception.</summary>
    public RepositoryException(string message, Exception? innerException = null) : base(message, innerException) { }
}
