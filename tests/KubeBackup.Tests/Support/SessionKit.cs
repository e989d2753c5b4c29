using KubeBackup.Configuration;
using KubeBackup.Diagnostics;
using KubeBackup.Drills;
using KubeBackup.Functions;
using KubeBackup.Restic;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Repository;
using KubeBackup.Sessions;

namespace KubeBackup.Tests.Support;

/// <summary>A repository, its password file and a session runner with its own metrics, for session tests.</summary>
public sealed class SessionKit : IDisposable
{
    private SessionKit(TempDirectory dir, ProbeAndRetention extras)
    {
        Dir = dir;
        Extras = extras;
        Metrics = new KubeBackupMetrics();
        Functions = FunctionRegistry.CreateBuiltIn(extras.Probes, extras.Retention, new ResticRepositoryChecker());
        Options = new SessionRunnerOptions { Functions = Functions, RepositoryOptions = TestRepository.Options(), Metrics = Metrics };
        Runner = new SessionRunner(Options);
    }

    public TempDirectory Dir { get; }

    public string RepositoryPath => Dir.Combine("repo");

    public string PasswordFile => Dir.Combine("password");

    public KubeBackupMetrics Metrics { get; }

    public SessionRunner Runner { get; private set; }

    public SessionRunnerOptions Options { get; }

    public FunctionRegistry Functions { get; }

    /// <summary>Uses another clock (and a runner built on it).</summary>
    public void UseClock(TimeProvider time)
    {
        Options.TimeProvider = time;
        Runner = new SessionRunner(Options);
    }

    internal ProbeAndRetention Extras { get; }

    public RestoreProbeRegistry Probes => Extras.Probes;

    public static async Task<SessionKit> CreateAsync()
    {
        var dir = new TempDirectory("session");
        var kit = new SessionKit(dir, new ProbeAndRetention(new RestoreProbeRegistry(), new ResticRetentionRunner()));
        await File.WriteAllTextAsync(kit.PasswordFile, TestRepository.Password + "\n");
        await using var repo = await TestRepository.InitAsync(kit.RepositoryPath);
        return kit;
    }

    /// <summary>Loads YAML after replacing {REPO}, {PWFILE} and {DIR}.</summary>
    public BackupConfiguration Load(string yaml) =>
        ConfigurationLoader.LoadYaml(yaml.Replace("{REPO}", RepositoryPath, StringComparison.Ordinal)
            .Replace("{PWFILE}", PasswordFile, StringComparison.Ordinal).Replace("{DIR}", Dir.Path, StringComparison.Ordinal));

    public async Task<IReadOnlyList<Snapshot>> SnapshotsAsync()
    {
        await using var repo = await TestRepository.OpenAsync(RepositoryPath);
        return await repo.ListSnapshotsAsync();
    }

    public Task<ResticRepository> OpenAsync() => TestRepository.OpenAsync(RepositoryPath);

    public int FileCount(string folder) =>
        Directory.Exists(Path.Combine(RepositoryPath, folder)) ? Directory.EnumerateFiles(Path.Combine(RepositoryPath, folder), "*", SearchOption.AllDirectories).Count() : 0;

    public void Dispose()
    {
        Metrics.Dispose();
        Dir.Dispose();
    }
}

internal sealed record ProbeAndRetention(RestoreProbeRegistry Probes, IRetentionRunner Retention);
