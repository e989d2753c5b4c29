namespace KubeBackup;

/// <summary>No key file of the repository could be opened with the given password.</summary>
public sealed class WrongPasswordException : KubeBackupException
{
    /// <summary>Creates the exception.</summary>
    public WrongPasswordException(string message) : base(message) { }
}
