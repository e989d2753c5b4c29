namespace KubeBackup;

/// <summary>A stream being backed up ended before it delivered the bytes it promised (or failed mid-way). No snapshot
/// was written for it.</summary>
public sealed class TruncatedStreamException : KubeBackupException
{
    /// <summary>Creates the exception.</summary>
    public TruncatedStreamException(string message, long expectedBytes, long actualBytes, Exception? innerException = null)
        : base(message, innerException)
    {
        ExpectedBytes = expectedBytes;
        ActualBytes = actualBytes;
    }

    /// <summary>The bytes expected, or -1 if unknown.</summary>
    public long ExpectedBytes { get; }

    /// <summary>The bytes received.</summary>
    public long ActualBytes { get; }
}
