using System.Diagnostics;
using KubeBackup.Configuration;
using KubeBackup.Diagnostics;
using KubeBackup.Functions;
using KubeBackup.Hooks;
using KubeBackup.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KubeBackup.Sessions;

/// <summary>
/// Runs a configuration once: a backup session or a restore session, target by target. For each target: the task is
/// planned (variables resolved, functions bound) before anything runs; the repository is opened; pre hooks run in
/// order (a failing one with <c>onError: Fail</c> stops the target before any data is written) and hold-open hooks are
/// started; the data steps run; hold-open hooks are released; post hooks run; then maintenance and status steps.
/// Every hook outcome, step, snapshot, statistic and failure reason lands in the result, which is returned also when
/// things fail (or the session is cancelled); it is not thrown.
/// </summary>
public sealed class SessionRunner
{
    private static readonly KubeBackupMetrics SharedMetrics = new();
    private readonly SessionRunnerOptions _options;
    private readonly IHookExecutor _hooks;
    private readonly ILogger _logger;

    /// <summary>Creates a runner.</summary>
    public SessionRunner(SessionRunnerOptions? options = null)
    {
        _options = options ?? new SessionRunnerOptions();
        _options.Metrics ??= SharedMetrics;
        _hooks = _options.HookExecutor ?? new LocalHookExecutor(timeProvider: _options.TimeProvider);
        _logger = _options.LoggerFactory?.CreateLogger("KubeBackup.Sessions") ?? NullLogger.Instance;
    }

    /// <summary>The instruments this runner records on.</summary>
    public KubeBackupMetrics Metrics => _options.Metrics!;

    /// <summary>Runs a backup of the configuration's targets (or those asked for).</summary>
    public async Task<BackupSession> RunBackupAsync(BackupConfiguration configuration, BackupRequest? request = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        request ??= new BackupRequest();
        var session = new BackupSession(NewId(), configuration.Name);
        await RunAsync(session, configuration, request.Targets, "latest", request.Progress, cancellationToken).ConfigureAwait(false);
        return session;
    }

    /// <summary>Runs a restore of the configuration's targets (or those asked for) with their restore tasks.</summary>
    public async Task<RestoreSession> RunRestoreAsync(BackupConfiguration configuration, RestoreRequest? request = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        request ??= new RestoreRequest();
        var session = new RestoreSession(NewId(), configuration.Name, request.Snapshot);
        await RunAsync(session, configuration, request.Targets, request.Snapshot, request.Progress, cancellationToken).ConfigureAwait(false);
        return session;
    }

    /// <summary>Records a backup session that did not run (paused, or the previous one still running).</summary>
    internal BackupSession Skipped(BackupConfiguration configuration, string reason)
    {
        var session = new BackupSession(NewId(), configuration.Name) { StartedAt = _options.TimeProvider.GetUtcNow(), Reason = reason, Phase = SessionPhase.Skipped };
        session.Finish(session.StartedAt);
        Metrics.SessionFinished(session);
        return session;
    }

    private async Task RunAsync(SessionResult session, BackupConfiguration configuration, IList<string> targetNames, string snapshot,
        IProgress<SessionProgress>? progress, CancellationToken cancellationToken)
    {
        var time = _options.TimeProvider;
        session.StartedAt = time.GetUtcNow();
        session.Phase = SessionPhase.Running;
        string kind = KubeBackupMetrics.KindTag(session.Kind);
        using var activity = KubeBackupMetrics.ActivitySource.StartActivity($"kubebackup.{kind}");
        activity?.SetTag("kubebackup.configuration", configuration.Name);
        activity?.SetTag("kubebackup.session", session.Id);
        _logger.LogInformation("Starting {Kind} session {Session} of {Configuration}.", kind, session.Id, configuration.Name);

        List<BackupTarget> targets;
        try
        {
            ConfigurationValidator.Validate(configuration, _options.Functions.Names);
            targets = targetNames.Count == 0 ? configuration.Targets : [.. targetNames.Select(configuration.GetTarget)];
        }
        catch (ConfigurationException ex)
        {
            session.Reason = ex.Message;
            Finish(session, activity);
            return;
        }

        var environment = new SessionEnvironment(_options, configuration, session.Kind, session.Id, snapshot, progress, _logger);
        await using (environment.ConfigureAwait(false))
        {
            foreach (var target in targets)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    var skipped = new TargetResult(target.Name) { Phase = SessionPhase.Skipped, StartedAt = time.GetUtcNow(), FinishedAt = time.GetUtcNow() };
                    skipped.WarningList.Add("not run: the session was cancelled");
                    session.TargetList.Add(skipped);
                    continue;
                }

                var result = await RunTargetAsync(environment, target, cancellationToken).ConfigureAwait(false);
                session.TargetList.Add(result);
                Metrics.TargetFinished(session.Kind, configuration.Name, result);
            }
        }

        if (cancellationToken.IsCancellationRequested)
        {
            session.Reason = "the session was cancelled";
        }

        Finish(session, activity);
    }

    private void Finish(SessionResult session, Activity? activity)
    {
        session.Finish(_options.TimeProvider.GetUtcNow());
        Metrics.SessionFinished(session);
        activity?.SetTag("kubebackup.phase", session.Phase.ToString());
        if (session.Phase is SessionPhase.Failed or SessionPhase.PartiallyFailed)
        {
            activity?.SetStatus(ActivityStatusCode.Error, session.Reason ?? session.Phase.ToString());
        }

        _logger.LogInformation("{Kind} session {Session} of {Configuration} ended {Phase} in {Duration}.",
            session.Kind, session.Id, session.ConfigurationName, session.Phase, session.Duration);
    }

    private async Task<TargetResult> RunTargetAsync(SessionEnvironment session, BackupTarget target, CancellationToken cancellationToken)
    {
        var time = _options.TimeProvider;
        var configuration = session.Configuration;
        using var activity = KubeBackupMetrics.ActivitySource.StartActivity("kubebackup.target");
        activity?.SetTag("kubebackup.target", target.Name);
        var earlier = new List<string>();
        TargetResult result;
        int attempt = 0;
        while (true)
        {
            attempt++;
            result = new TargetResult(target.Name) { StartedAt = time.GetUtcNow(), Phase = SessionPhase.Running, Attempts = attempt };
            result.WarningList.AddRange(earlier);
            bool retryable = await RunAttemptAsync(session, target, result, cancellationToken).ConfigureAwait(false);
            result.Phase = result.CurrentPhase;
            result.FinishedAt = time.GetUtcNow();
            if (result.Phase != SessionPhase.Failed || !retryable || attempt >= configuration.Retry.MaxAttempts || cancellationToken.IsCancellationRequested)
            {
                break;
            }

            earlier.Add($"attempt {attempt} failed: {string.Join("; ", result.Failures)}");
            _logger.LogWarning("Target {Target} failed (attempt {Attempt}); trying again in {Delay}.", target.Name, attempt, configuration.Retry.Delay);
            try
            {
                await Task.Delay(configuration.Retry.Delay, time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        activity?.SetTag("kubebackup.phase", result.Phase.ToString());
        return result;
    }

    /// <summary>One attempt at a target; false when trying again cannot help (a configuration error, cancellation).</summary>
    private async Task<bool> RunAttemptAsync(SessionEnvironment session, BackupTarget target, TargetResult result, CancellationToken cancellationToken)
    {
        var configuration = session.Configuration;
        bool backup = session.Kind == SessionKind.Backup;
        var variables = TaskVariables.For(configuration, target, session.SessionId, backup ? "backup" : "restore");
        List<PlannedStep> plan;
        List<HookDefinition> preHooks, postHooks;
        var prePhase = backup ? HookPhase.PreBackup : HookPhase.PreRestore;
        var postPhase = backup ? HookPhase.PostBackup : HookPhase.PostRestore;
        try
        {
            var task = backup ? DefaultTasks.BackupTaskOf(configuration, target) : DefaultTasks.RestoreTaskOf(configuration, target);
            string taskName = (backup ? target.Task ?? configuration.Task : target.RestoreTask ?? configuration.RestoreTask) ?? "default";
            plan = TaskPlanner.Plan(task, taskName, _options.Functions, variables);
            preHooks = [.. configuration.Hooks.Of(prePhase).Select(h => TaskPlanner.Resolve(h, variables, prePhase.ToString()))];
            postHooks = [.. configuration.Hooks.Of(postPhase).Select(h => TaskPlanner.Resolve(h, variables, postPhase.ToString()))];
        }
        catch (ConfigurationException ex)
        {
            result.FailureList.AddRange(ex.Problems);
            return false;
        }

        using var timeout = configuration.Timeout is { } limit ? new CancellationTokenSource(limit, _options.TimeProvider) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        var token = linked.Token;
        var held = new List<IHeldHook>();
        bool statusDone = false;
        try
        {
            try
            {
                // The repository first: a wrong password or a missing bucket must not cost a database freeze.
                await session.GetRepositoryAsync(token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                result.FailureList.Add($"the repository cannot be opened: {Describe(ex)}");
                return ex is not ConfigurationException;
            }

            bool stopped = false;
            foreach (var hook in preHooks)
            {
                HookOutcome outcome;
                if (hook.Kind == HookKind.HoldOpen)
                {
                    var handle = await _hooks.StartHoldOpenAsync(new HookInvocation(hook, prePhase, configuration.Name, target.Name), token).ConfigureAwait(false);
                    outcome = handle.Ready;
                    if (outcome.Succeeded)
                    {
                        held.Add(handle);
                    }
                    else
                    {
                        await handle.DisposeAsync().ConfigureAwait(false);
                    }
                }
                else
                {
                    outcome = await _hooks.RunAsync(new HookInvocation(hook, prePhase, configuration.Name, target.Name), token).ConfigureAwait(false);
                }

                if (!Record(session, target, result, outcome, "no data was written"))
                {
                    stopped = true;
                    break;
                }
            }

            if (!stopped)
            {
                foreach (var step in plan.Where(s => s.Stage == FunctionStage.Data))
                {
                    await RunStepAsync(session, target, result, variables, step, token).ConfigureAwait(false);
                }
            }

            for (int i = held.Count - 1; i >= 0; i--)
            {
                var outcome = await held[i].ReleaseAsync(token).ConfigureAwait(false);
                bool wasOk = result.CurrentPhase != SessionPhase.Failed;
                if (!Record(session, target, result, outcome, null) && wasOk)
                {
                    // What the hook held (a backup mode, a lock) ended before the data steps did: the snapshots taken
                    // under it are not what they claim to be, so none of them stays untagged.
                    await TagPartialAsync(session, result, token).ConfigureAwait(false);
                }
            }

            foreach (var hook in postHooks)
            {
                if (!Applies(hook.When, result))
                {
                    result.HookList.Add(new HookOutcome { Name = hook.Name, Phase = postPhase, Kind = hook.Kind, Succeeded = true, Skipped = true, OnError = hook.OnError });
                    continue;
                }

                var outcome = await _hooks.RunAsync(new HookInvocation(hook, postPhase, configuration.Name, target.Name), token).ConfigureAwait(false);
                Record(session, target, result, outcome, null);
            }

            foreach (var step in plan.Where(s => s.Stage != FunctionStage.Data))
            {
                await RunStepAsync(session, target, result, variables, step, token).ConfigureAwait(false);
            }

            statusDone = true;
            return true;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            result.FailureList.Add($"the target did not finish within {configuration.Timeout}");
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            result.FailureList.Add("the session was cancelled");
            return false;
        }
        finally
        {
            foreach (var h in held)
            {
                await h.DisposeAsync().ConfigureAwait(false);
            }

            if (!statusDone && !cancellationToken.IsCancellationRequested)
            {
                // A timed-out or stopped target still publishes its status (that is when it matters most).
                foreach (var step in plan.Where(s => s.Stage == FunctionStage.Status && !result.StepList.Any(o => o.Name == s.Name)))
                {
                    await RunStepAsync(session, target, result, variables, step, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    private async Task RunStepAsync(SessionEnvironment session, BackupTarget target, TargetResult result, IReadOnlyDictionary<string, string> variables,
        PlannedStep step, CancellationToken token)
    {
        var time = _options.TimeProvider;
        if (!Applies(step.When, result))
        {
            result.StepList.Add(new StepOutcome(step.Name, step.Function, SessionPhase.Skipped, TimeSpan.Zero, null));
            return;
        }

        using var activity = KubeBackupMetrics.ActivitySource.StartActivity("kubebackup.step");
        activity?.SetTag("kubebackup.step", step.Name);
        activity?.SetTag("kubebackup.function", step.Function);
        long start = time.GetTimestamp();
        var context = new FunctionContext(session, target, result, variables, step.Name);
        try
        {
            await step.Bound.RunAsync(context, token).ConfigureAwait(false);
            result.StepList.Add(new StepOutcome(step.Name, step.Function, SessionPhase.Succeeded, time.GetElapsedTime(start), null));
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            result.StepList.Add(new StepOutcome(step.Name, step.Function, SessionPhase.Failed, time.GetElapsedTime(start), "cancelled"));
            throw;
        }
        catch (Exception ex)
        {
            string reason = Describe(ex);
            result.StepList.Add(new StepOutcome(step.Name, step.Function, SessionPhase.Failed, time.GetElapsedTime(start), reason));
            result.FailureList.Add($"{step.Name}: {reason}");
            activity?.SetStatus(ActivityStatusCode.Error, reason);
            _logger.LogWarning("Step {Step} of target {Target} failed: {Reason}", step.Name, target.Name, reason);
        }
    }

    /// <summary>Records a hook's outcome; false when it failed with onError Fail.</summary>
    private bool Record(SessionEnvironment session, BackupTarget target, TargetResult result, HookOutcome outcome, string? consequence)
    {
        result.HookList.Add(outcome);
        if (outcome.Succeeded)
        {
            return true;
        }

        session.Metrics.HookFailed(session.Configuration.Name, target.Name, outcome.Name, outcome.Phase, outcome.OnError);
        string code = outcome.ExitCode is { } c ? $" (exit code {c})" : outcome.StatusCode is { } s ? $" (HTTP {s})" : "";
        string message = $"{outcome.Phase} hook '{outcome.Name}' failed{code}: {outcome.Error}";
        _logger.LogWarning("{Message}", message);
        if (outcome.OnError == HookErrorMode.Continue)
        {
            result.ProblemList.Add(message + "; the session went on (onError: Continue)");
            return true;
        }

        result.FailureList.Add(consequence is null ? message : $"{message}; {consequence}");
        return false;
    }

    private static async Task TagPartialAsync(SessionEnvironment session, TargetResult result, CancellationToken token)
    {
        var repository = await session.GetRepositoryAsync(token).ConfigureAwait(false);
        string tag = session.Configuration.Completeness.PartialTag;
        for (int i = 0; i < result.SnapshotList.Count; i++)
        {
            var record = result.SnapshotList[i];
            if (record.Partial || session.Kind != SessionKind.Backup)
            {
                continue;
            }

            var snapshot = await repository.LoadSnapshotAsync(record.Id, token).ConfigureAwait(false);
            var tagged = await SnapshotOperations.AddTagAsync(repository, snapshot, tag, token).ConfigureAwait(false);
            result.SnapshotList[i] = record with { Id = tagged.Id, Tags = [.. tagged.Tags ?? []], Partial = true };
        }
    }

    private static bool Applies(ExecutionPolicy when, TargetResult result) => when switch
    {
        ExecutionPolicy.Always => true,
        ExecutionPolicy.OnFailure => result.CurrentPhase == SessionPhase.Failed,
        _ => result.CurrentPhase != SessionPhase.Failed,
    };

    private static string Describe(Exception ex) => ex switch
    {
        InvalidOperationException { InnerException: StreamRejectedException } => ex.Message,
        _ => ex.Message,
    };

    private static string NewId() => Guid.NewGuid().ToString("N")[..12];
}
