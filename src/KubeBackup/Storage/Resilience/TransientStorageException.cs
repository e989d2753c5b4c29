namespace KubeBackup.Storage.Resilience;

/// <summary>
/// A storage failure that a later attempt may not meet: throttling (429), a server error (500, 502, 503, 504), a
/// timeout, a reset or refused connection. Backends raise it for such failures so the resilience pipeline retries
/// them; when retries are exhausted it reaches the caller as it is.
/// </summary>
public sealed class TransientStorageException : StorageException
{
    /// <summary>Creates the exception.</summary>
    public TransientStorageException(string message, Exception? innerException = null) : base(message, innerException) { }
}
