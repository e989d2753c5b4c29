namespace KubeBackup;

/// <summary>
/// The base of every exception KubeBackup throws on purpose. Callers that want to tell "our" failures apart from
/// programming errors catch this type; the derived types say what went wrong.
/// </summary>
/// <remarks>Messages never contain passwords, keys or credentials.</remarks>
public class KubeBackupException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public KubeBackupException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public KubeBackupException(string message, Exception? innerException) : base(message, innerException) { }
}
