using KubeBackup.Configuration;
using KubeBackup.Diagnostics;
using KubeBackup.Functions;
using KubeBackup.Restic.Repository;
using KubeBackup.Tasks;
using Microsoft.Extensions.Logging;

namespace KubeBackup.Sessions;

/// <summary>What the targets of one session share: the configuration, the clock, the instruments, and the repository,
/// opened once on first use.</summary>
internal sealed class SessionEnvironment : IAsyncDisposable
{
    private readonly SessionRunnerOptions _options;
    private Task<ResticRepository>? _repository;

    public SessionEnvironment(SessionRunnerOptions options, BackupConfiguration configuration, SessionKind kind, string sessionId, string snapshotSelector,
        IProgress<SessionProgress>? progress, ILogger logger)
    {
        _options = options;
        Configuration = configuration;
        Kind = kind;
        SessionId = sessionId;
        SnapshotSelector = snapshotSelector;
        Progress = progress;
        Logger = logger;
    }

    public BackupConfiguration Configuration { get; }

    public SessionKind Kind { get; }

    public string SessionId { get; }

    public string SnapshotSelector { get; }

    public IProgress<SessionProgress>? Progress { get; }

    public ILogger Logger { get; }

    public TimeProvider TimeProvider => _options.TimeProvider;

    public KubeBackupMetrics Metrics => _options.Metrics!;

    public IServiceProvider? Services => _options.Services;

    public Task<ResticRepository> GetRepositoryAsync(CancellationToken cancellationToken)
    {
        // One open per session; a failed open is not cached, so a retry of the target tries again.
        var current = _repository;
        if (current is null || current.IsFaulted || current.IsCanceled)
        {
            current = OpenAsync(cancellationToken);
            _repository = current;
        }

        return current;
    }

    private async Task<ResticRepository> OpenAsync(CancellationToken cancellationToken)
    {
        var reference = Configuration.Repository;
        string password = await _options.SecretResolver.ResolveAsync(reference.Password, cancellationToken).ConfigureAwait(false);
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in System.Environment.GetEnvironmentVariables())
        {
            environment[(string)e.Key] = e.Value as string;
        }

        foreach (var (name, secret) in reference.Environment)
        {
            environment[name] = await _options.SecretResolver.ResolveAsync(secret, cancellationToken).ConfigureAwait(false);
        }

        var variables = new Dictionary<string, string>(Configuration.Variables, StringComparer.Ordinal)
        {
            [TaskVariables.ConfigurationName] = Configuration.Name,
        };
        string location = VariableResolver.Resolve(reference.Location, variables, "repository.location");
        var backend = _options.Backends.Create(location, environment);
        try
        {
            return await ResticRepository.OpenAsync(backend, password, _options.RepositoryOptions, cancellationToken).ConfigureAwait(false);
        }
        catch (RepositoryNotFoundException) when (reference.Create)
        {
            Logger.LogInformation("Creating the repository of configuration {Configuration}.", Configuration.Name);
            return await ResticRepository.InitAsync(backend, password, _options.InitOptions, _options.RepositoryOptions, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_repository is { IsCompletedSuccessfully: true } open)
        {
            await open.Result.DisposeAsync().ConfigureAwait(false);
        }
    }
}
