namespace KubeBackup.Cli;

/// <summary>restic's exit codes, so scripts written for restic keep working.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Fatal = 1;
    /// <summary>The backup finished and wrote a snapshot, but some files could not be read.</summary>
    public const int Incomplete = 3;
    /// <summary>Interrupted (Ctrl-C), as restic 0.14 exits on SIGINT.</summary>
    public const int Interrupted = 130;
}
