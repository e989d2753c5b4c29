namespace KubeBackup;

/// <summary>
/// Data read from a repository failed verification: a MAC did not match, a hash differs from the name it is stored
/// under, a pack header or JSON document is malformed, or a file is shorter than its index says. The data is never
/// returned to the caller when this is thrown.
/// </summary>
public sealed class IntegrityException : KubeBackupException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="fileName">The repository file that holds the damaged data (for example <c>data/ab/ab12…</c>), if known.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public IntegrityException(string message, string? fileName = null, Exception? innerException = null)
        : base(fileName is null ? message : $"{fileName}: {message}", innerException)
    {
        FileName = fileName;
    }

    /// <summary>The repository file that holds the damaged data, if known.</summary>
    public string? FileName { get; }
}
