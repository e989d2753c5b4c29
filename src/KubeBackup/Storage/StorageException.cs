namespace KubeBackup.Storage;

/// <summary>A backend operation failed: the storage was unreachable, refused the request, or returned an error.</summary>
public class StorageException : KubeBackupException
{
    /// <summary>Creates the exception.</summary>
    public StorageException(string message, Exception? innerException = null) : base(message, innerException) { }
}

/// <summary>The file asked for does not exist in the backend. Distinct from every other storage failure, so callers can
/// tell "missing" from "unreachable".</summary>
public sealed class StorageFileNotFoundException : StorageException
{
    /// <summary>Creates the exception.</summary>
    public StorageFileNotFoundException(FileHandle handle, Exception? innerException = null)
        : base($"{handle.RelativePath} does not exist", innerException)
    {
        Handle = handle;
    }

    /// <summary>The file that was not found.</summary>
    public FileHandle Handle { get; }
}

/// <summary>The backend refused the credentials. Never retried.</summary>
public sealed class StorageAuthenticationException : StorageException
{
    /// <summary>Creates the exception.</summary>
    public StorageAuthenticationException(string message, Exception? innerException = null) : base(message, innerException) { }
}
