namespace KubeBackup;

/// <summary>A retention policy was refused: it is empty, or it would remove every item of a group (current restic's
/// safety rules). Nothing was removed.</summary>
public sealed class RetentionException : KubeBackupException
{
    /// <summary>Creates the exception.</summary>
    public RetentionException(string message) : base(message) { }
}
