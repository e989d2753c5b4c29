using KubeBackup.Configuration;
using KubeBackup.Sessions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KubeBackup.Scheduling;

/// <summary>A run the scheduler starts.</summary>
/// <param name="Job">The job's name.</param>
/// <param name="DueAt">The schedule's occurrence this run is for.</param>
/// <param name="StartedAt">When it started (later than <paramref name="DueAt"/> for a queued run).</param>
/// <param name="Queued">Whether it waited for the previous run.</param>
public sealed record ScheduledRun(string Job, DateTimeOffset DueAt, DateTimeOffset StartedAt, bool Queued);

/// <summary>A scheduled job and its state.</summary>
public sealed class ScheduledJob
{
    internal ScheduledJob(string name, CronSchedule schedule, ConcurrencyPolicy policy, Func<ScheduledRun, CancellationToken, Task> run,
        Action<ScheduledRun, string>? skipped)
    {
        Name = name;
        Schedule = schedule;
        ConcurrencyPolicy = policy;
        Run = run;
        OnSkipped = skipped;
    }

    /// <summary>The job's name.</summary>
    public string Name { get; }

    /// <summary>When it runs.</summary>
    public CronSchedule Schedule { get; }

    /// <summary>What happens when a run is due while the previous one still runs.</summary>
    public ConcurrencyPolicy ConcurrencyPolicy { get; }

    /// <summary>While paused, due runs are skipped (and recorded as skipped).</summary>
    public bool Paused { get; set; }

    /// <summary>The next occurrence, once the scheduler runs.</summary>
    public DateTimeOffset? NextDue { get; internal set; }

    /// <summary>Whether a run is going on.</summary>
    public bool IsRunning => Current is { IsCompleted: false };

    /// <summary>Runs started.</summary>
    public int Started { get; internal set; }

    /// <summary>Due runs skipped.</summary>
    public int Skipped { get; internal set; }

    internal Func<ScheduledRun, CancellationToken, Task> Run { get; }

    internal Action<ScheduledRun, string>? OnSkipped { get; }

    internal Task? Current { get; set; }

    internal DateTimeOffset? QueuedDue { get; set; }

    internal ITimer? Timer { get; set; }

    /// <inheritdoc />
    public override string ToString() => $"job {Name} ({Schedule})";
}

/// <summary>
/// Starts jobs at their schedules' occurrences on a <see cref="TimeProvider"/>'s timers (so tests drive it with a fake
/// clock). Each job has one timer, armed for its next occurrence; when it fires the run starts (or is skipped or queued
/// by the concurrency policy) and the timer is armed again from the occurrence, so the schedule does not drift. If the
/// process was asleep past several occurrences, they count as one.
/// </summary>
public sealed class BackupScheduler : IAsyncDisposable
{
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly List<ScheduledJob> _jobs = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private bool _started;

    /// <summary>Creates a scheduler.</summary>
    public BackupScheduler(TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The jobs.</summary>
    public IReadOnlyList<ScheduledJob> Jobs
    {
        get
        {
            lock (_lock)
            {
                return [.. _jobs];
            }
        }
    }

    /// <summary>Adds a job; it is armed by <see cref="Start"/> (or at once if the scheduler runs).</summary>
    /// <param name="name">The job's name.</param>
    /// <param name="schedule">When it runs.</param>
    /// <param name="run">The run; its token is cancelled when the scheduler stops.</param>
    /// <param name="policy">What happens on overlap.</param>
    /// <param name="onSkipped">Told about every skipped run and why (<c>overlap</c> or <c>paused</c>).</param>
    public ScheduledJob Add(string name, CronSchedule schedule, Func<ScheduledRun, CancellationToken, Task> run, ConcurrencyPolicy policy = ConcurrencyPolicy.Skip,
        Action<ScheduledRun, string>? onSkipped = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(run);
        var job = new ScheduledJob(name, schedule, policy, run, onSkipped);
        lock (_lock)
        {
            _jobs.Add(job);
            if (_started)
            {
                Arm(job, _time.GetUtcNow());
            }
        }

        return job;
    }

    /// <summary>Schedules a configuration's backups with a session runner: its schedule (randomized by the
    /// configuration's name), time zone, concurrency policy and paused flag; finished and skipped sessions go to
    /// <paramref name="history"/>.</summary>
    /// <param name="configuration">The configuration.</param>
    /// <param name="runner">Runs its sessions.</param>
    /// <param name="history">Keeps finished and skipped sessions.</param>
    /// <param name="finished">Told about every finished or skipped session.</param>
    /// <exception cref="ConfigurationException">The configuration has no schedule.</exception>
    public ScheduledJob AddConfiguration(BackupConfiguration configuration, SessionRunner runner, SessionHistory? history = null, Action<SessionResult>? finished = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(runner);
        if (string.IsNullOrEmpty(configuration.Schedule))
        {
            throw new ConfigurationException($"Configuration '{configuration.Name}' has no schedule.");
        }

        CronSchedule schedule;
        try
        {
            schedule = CronSchedule.Parse(configuration.Schedule, configuration.Name, configuration.TimeZone);
        }
        catch (FormatException ex)
        {
            throw new ConfigurationException($"Configuration '{configuration.Name}': {ex.Message}", ex);
        }

        var job = Add(configuration.Name, schedule, async (run, token) =>
        {
            var session = await runner.RunBackupAsync(configuration, null, token).ConfigureAwait(false);
            history?.Add(session, configuration.HistoryLimit);
            finished?.Invoke(session);
        }, configuration.ConcurrencyPolicy, (run, reason) =>
        {
            runner.Metrics.ScheduleSkipped(configuration.Name, reason);
            var skipped = runner.Skipped(configuration, reason == "paused" ? "the configuration is paused" : "the previous session was still running");
            history?.Add(skipped, configuration.HistoryLimit);
            finished?.Invoke(skipped);
        });
        job.Paused = configuration.Paused;
        return job;
    }

    /// <summary>Arms every job's timer.</summary>
    public void Start()
    {
        lock (_lock)
        {
            if (_started)
            {
                return;
            }

            _started = true;
            var now = _time.GetUtcNow();
            foreach (var job in _jobs)
            {
                Arm(job, now);
            }
        }
    }

    /// <summary>Stops the timers, cancels running runs and waits for them to end.</summary>
    public async Task StopAsync()
    {
        List<Task> running;
        lock (_lock)
        {
            _started = false;
            foreach (var job in _jobs)
            {
                job.Timer?.Dispose();
                job.Timer = null;
                job.QueuedDue = null;
            }

            running = [.. _jobs.Select(j => j.Current).OfType<Task>()];
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(running).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private void Arm(ScheduledJob job, DateTimeOffset from)
    {
        job.NextDue = job.Schedule.GetNextOccurrence(from);
        if (job.NextDue is not { } due)
        {
            return;
        }

        var delay = due - _time.GetUtcNow();
        if (delay < TimeSpan.Zero)
        {
            delay = TimeSpan.Zero;
        }

        if (job.Timer is null)
        {
            job.Timer = _time.CreateTimer(static state => ((Action)state!)(), (Action)(() => OnDue(job)), delay, Timeout.InfiniteTimeSpan);
        }
        else
        {
            job.Timer.Change(delay, Timeout.InfiniteTimeSpan);
        }
    }

    // Runs on the timer's callback: decides synchronously (so a fake clock's Advance has done everything by the time it
    // returns), starts the run without waiting for it, and arms the next occurrence.
    private void OnDue(ScheduledJob job)
    {
        lock (_lock)
        {
            if (!_started || job.NextDue is not { } due)
            {
                return;
            }

            var now = _time.GetUtcNow();
            if (now < due)
            {
                // Timers may fire a little early; wait for the occurrence itself.
                job.Timer?.Change(due - now, Timeout.InfiniteTimeSpan);
                return;
            }

            if (job.Paused)
            {
                Skip(job, new ScheduledRun(job.Name, due, now, false), "paused");
            }
            else if (job.IsRunning)
            {
                if (job.ConcurrencyPolicy == ConcurrencyPolicy.Queue && job.QueuedDue is null)
                {
                    job.QueuedDue = due;
                }
                else
                {
                    Skip(job, new ScheduledRun(job.Name, due, now, false), "overlap");
                }
            }
            else
            {
                StartRun(job, new ScheduledRun(job.Name, due, now, false));
            }

            Arm(job, due > now ? due : now);
        }
    }

    private void Skip(ScheduledJob job, ScheduledRun run, string reason)
    {
        job.Skipped++;
        _logger.LogInformation("Skipping the run of {Job} due at {Due}: {Reason}.", job.Name, run.DueAt, reason);
        try
        {
            job.OnSkipped?.Invoke(run, reason);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _logger.LogWarning(ex, "Recording the skipped run of {Job} failed.", job.Name);
        }
    }

    private void StartRun(ScheduledJob job, ScheduledRun run)
    {
        job.Started++;
        job.Current = RunAsync(job, run);
    }

    private async Task RunAsync(ScheduledJob job, ScheduledRun run)
    {
        // Leave the timer callback (and the lock) before the run does any work.
        await Task.Yield();
        try
        {
            await job.Run(run, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "The run of {Job} due at {Due} failed.", job.Name, run.DueAt);
        }
        finally
        {
            lock (_lock)
            {
                if (job.QueuedDue is { } queued && _started)
                {
                    job.QueuedDue = null;
                    StartRun(job, new ScheduledRun(job.Name, queued, _time.GetUtcNow(), true));
                }
            }
        }
    }
}

/// <summary>The last sessions of each configuration (as many as its <c>historyLimit</c>), for a long-running host to
/// report.</summary>
public sealed class SessionHistory
{
    private readonly Dictionary<string, LinkedList<SessionResult>> _sessions = new(StringComparer.Ordinal);

    /// <summary>Adds a finished session and drops the oldest beyond <paramref name="limit"/>.</summary>
    public void Add(SessionResult session, int limit)
    {
        ArgumentNullException.ThrowIfNull(session);
        lock (_sessions)
        {
            if (!_sessions.TryGetValue(session.ConfigurationName, out var list))
            {
                _sessions[session.ConfigurationName] = list = new LinkedList<SessionResult>();
            }

            list.AddLast(session);
            while (list.Count > Math.Max(0, limit))
            {
                list.RemoveFirst();
            }
        }
    }

    /// <summary>The kept sessions of a configuration, oldest first.</summary>
    public IReadOnlyList<SessionResult> For(string configurationName)
    {
        lock (_sessions)
        {
            return _sessions.TryGetValue(configurationName, out var list) ? [.. list] : [];
        }
    }
}
