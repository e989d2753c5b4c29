using KubeBackup.Configuration;
using KubeBackup.Diagnostics;
using KubeBackup.Functions;
using KubeBackup.Hooks;
using KubeBackup.Restic.Repository;
using KubeBackup.Storage;
using Microsoft.Extensions.Logging;

namespace KubeBackup.Sessions;

/// <summary>What a <see cref="SessionRunner"/> works with; every part has a default for a process on this machine.</summary>
public sealed class SessionRunnerOptions
{
    /// <summary>The functions tasks can name; default: the built-ins.</summary>
    public FunctionRegistry Functions { get; set; } = FunctionRegistry.CreateDefault();

    /// <summary>Runs hooks; default: a <see cref="LocalHookExecutor"/>.</summary>
    public IHookExecutor? HookExecutor { get; set; }

    /// <summary>Reads repository passwords and credentials.</summary>
    public ISecretResolver SecretResolver { get; set; } = new LocalSecretResolver();

    /// <summary>Turns repository locations into backends.</summary>
    public BackendRegistry Backends { get; set; } = new();

    /// <summary>Options for opening repositories (compression, pack size, parallelism).</summary>
    public ResticRepositoryOptions? RepositoryOptions { get; set; }

    /// <summary>Options for creating a repository when the configuration says <c>create: true</c>.</summary>
    public RepositoryInitOptions? InitOptions { get; set; }

    /// <summary>The clock for timestamps, timeouts and retry delays.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where log messages go.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>The instruments; default: a shared instance on the <c>KubeBackup</c> meter.</summary>
    public KubeBackupMetrics? Metrics { get; set; }

    /// <summary>The host's services, handed to functions.</summary>
    public IServiceProvider? Services { get; set; }
}

/// <summary>Which targets of a backup to run, and where progress goes.</summary>
public sealed class BackupRequest
{
    /// <summary>Target names; empty: all.</summary>
    public IList<string> Targets { get; } = [];

    /// <summary>Receives progress of the data steps.</summary>
    public IProgress<SessionProgress>? Progress { get; set; }
}

/// <summary>What to restore.</summary>
public sealed class RestoreRequest
{
    /// <summary><c>latest</c> (the newest complete snapshot of each target) or a snapshot ID (prefix).</summary>
    public string Snapshot { get; set; } = "latest";

    /// <summary>Target names; empty: all.</summary>
    public IList<string> Targets { get; } = [];

    /// <summary>Receives progress of the data steps.</summary>
    public IProgress<SessionProgress>? Progress { get; set; }
}

/// <summary>Progress of a data step.</summary>
/// <param name="Configuration">The configuration.</param>
/// <param name="Target">The target.</param>
/// <param name="Step">The step.</param>
/// <param name="BytesProcessed">Bytes read so far.</param>
/// <param name="FilesProcessed">Files done so far.</param>
public sealed record SessionProgress(string Configuration, string Target, string Step, long BytesProcessed, long FilesProcessed);
