using KubeBackup.Drills;

namespace KubeBackup.Functions;

/// <summary>Functions by name. <see cref="CreateDefault"/> holds the built-ins; hosts add their own with
/// <see cref="Register"/> (or <c>services.AddKubeBackup().AddFunction&lt;T&gt;(name)</c>).</summary>
public sealed class FunctionRegistry
{
    /// <summary>Backs up files and folders.</summary>
    public const string FileBackup = "file-backup";

    /// <summary>Backs up a command's standard output.</summary>
    public const string StreamBackup = "stream-backup";

    /// <summary>Restores a snapshot into a folder.</summary>
    public const string Restore = "restore";

    /// <summary>Restores a file of a snapshot into a command's standard input.</summary>
    public const string StreamRestore = "stream-restore";

    /// <summary>Applies the retention policy (and prunes if asked).</summary>
    public const string RetentionApply = "retention-apply";

    /// <summary>Checks the repository.</summary>
    public const string Check = "check";

    /// <summary>Publishes the target's status (metrics, status file).</summary>
    public const string UpdateStatus = "update-status";

    /// <summary>Restores into a scratch folder and probes the result.</summary>
    public const string RestoreDrill = "restore-drill";

    private readonly Dictionary<string, IBackupFunction> _functions = new(StringComparer.Ordinal);

    /// <summary>Creates an empty registry.</summary>
    public FunctionRegistry()
    {
    }

    /// <summary>The registered names.</summary>
    public IReadOnlyCollection<string> Names => _functions.Keys;

    /// <summary>A registry with the built-in functions.</summary>
    /// <param name="probes">Probes the <c>restore-drill</c> function can name.</param>
    public static FunctionRegistry CreateDefault(RestoreProbeRegistry? probes = null) =>
        CreateBuiltIn(probes, new ResticRetentionRunner(), new ResticRepositoryChecker());

    internal static FunctionRegistry CreateBuiltIn(RestoreProbeRegistry? probes, IRetentionRunner retention, IRepositoryChecker checker) =>
        new FunctionRegistry()
            .Register(FileBackup, new FileBackupFunction())
            .Register(StreamBackup, new StreamBackupFunction())
            .Register(Restore, new RestoreFunction())
            .Register(StreamRestore, new StreamRestoreFunction())
            .Register(RetentionApply, new RetentionApplyFunction(retention))
            .Register(Check, new CheckFunction(checker))
            .Register(UpdateStatus, new UpdateStatusFunction())
            .Register(RestoreDrill, new RestoreDrillFunction(probes ?? new RestoreProbeRegistry()));

    /// <summary>Adds (or replaces) a function.</summary>
    /// <param name="name">Lower-case words joined by hyphens, as tasks name it.</param>
    /// <param name="function">The function.</param>
    public FunctionRegistry Register(string name, IBackupFunction function)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(function);
        _functions[name] = function;
        return this;
    }

    /// <summary>Finds a function.</summary>
    public bool TryGet(string name, out IBackupFunction function) => _functions.TryGetValue(name, out function!);
}
