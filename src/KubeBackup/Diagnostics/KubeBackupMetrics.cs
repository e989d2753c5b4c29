using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using KubeBackup.Sessions;

namespace KubeBackup.Diagnostics;

/// <summary>
/// KubeBackup's instruments (see docs/metrics.md for names, units and tags). One instance per host is enough; tests
/// create their own so their listeners see only their own measurements.
/// </summary>
public sealed class KubeBackupMetrics : IDisposable
{
    /// <summary>The name of the meter and the activity source.</summary>
    public const string Name = "KubeBackup";

    private readonly ConcurrentDictionary<(string Configuration, string Target), long> _lastSuccess = new();
    private readonly ConcurrentDictionary<(string Configuration, string Target), long> _lastVerified = new();
    private readonly Counter<long> _sessions;
    private readonly Histogram<double> _sessionDuration;
    private readonly Counter<long> _targets;
    private readonly Counter<long> _bytesProcessed;
    private readonly Counter<long> _bytesAdded;
    private readonly Counter<long> _filesProcessed;
    private readonly Counter<long> _hookFailures;
    private readonly Counter<long> _snapshotsRemoved;
    private readonly Counter<long> _drills;
    private readonly Counter<long> _scheduleSkipped;
    private readonly bool _ownsMeter;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>, or on a meter of its own.</summary>
    public KubeBackupMetrics(IMeterFactory? meterFactory = null)
    {
        Meter = meterFactory?.Create(Name) ?? new Meter(Name);
        _ownsMeter = meterFactory is null;
        _sessions = Meter.CreateCounter<long>("kubebackup.sessions", "{session}", "Finished sessions, by kind, configuration and phase.");
        _sessionDuration = Meter.CreateHistogram<double>("kubebackup.session.duration", "s", "How long sessions took, by kind, configuration and phase.");
        _targets = Meter.CreateCounter<long>("kubebackup.targets", "{target}", "Finished targets, by kind, configuration, target and phase.");
        _bytesProcessed = Meter.CreateCounter<long>("kubebackup.target.bytes_processed", "By", "Bytes read by data steps, per target.");
        _bytesAdded = Meter.CreateCounter<long>("kubebackup.target.bytes_added", "By", "New (not deduplicated) plaintext bytes, per target.");
        _filesProcessed = Meter.CreateCounter<long>("kubebackup.target.files_processed", "{file}", "Files and streams backed up, per target.");
        _hookFailures = Meter.CreateCounter<long>("kubebackup.hook.failures", "{hook}", "Hooks that failed, by configuration, target, hook, phase and on_error.");
        _snapshotsRemoved = Meter.CreateCounter<long>("kubebackup.retention.snapshots_removed", "{snapshot}", "Snapshots retention removed, per target.");
        _drills = Meter.CreateCounter<long>("kubebackup.drill.runs", "{drill}", "Restore drills, per target and result (verified true or false).");
        _scheduleSkipped = Meter.CreateCounter<long>("kubebackup.schedule.skipped", "{run}", "Scheduled runs skipped, by configuration and reason (overlap or paused).");
        Meter.CreateObservableGauge("kubebackup.target.last_success", ObserveLastSuccess, "s",
            "Unix time of the last successful backup of a target (published by update-status).");
        Meter.CreateObservableGauge("kubebackup.drill.last_verified", ObserveLastVerified, "s",
            "Unix time of the last restore drill whose probe passed, per target.");
    }

    /// <summary>The meter the instruments live on.</summary>
    public Meter Meter { get; }

    /// <summary>The activity source for sessions, targets, steps and hooks.</summary>
    public static ActivitySource ActivitySource { get; } = new(Name);

    internal void SessionFinished(SessionResult session)
    {
        var tags = new TagList
        {
            { "kind", KindTag(session.Kind) },
            { "configuration", session.ConfigurationName },
            { "phase", PhaseTag(session.Phase) },
        };
        _sessions.Add(1, tags);
        _sessionDuration.Record(session.Duration.TotalSeconds, tags);
    }

    internal void TargetFinished(SessionKind kind, string configuration, TargetResult target) =>
        _targets.Add(1, new TagList { { "kind", KindTag(kind) }, { "configuration", configuration }, { "target", target.Name }, { "phase", PhaseTag(target.Phase) } });

    internal void TargetStatus(string configuration, TargetResult target, SessionPhase phase, DateTimeOffset now)
    {
        var tags = new TagList { { "configuration", configuration }, { "target", target.Name } };
        _bytesProcessed.Add(target.Statistics.BytesProcessed, tags);
        _bytesAdded.Add(target.Statistics.BytesAdded, tags);
        _filesProcessed.Add(target.Statistics.FilesProcessed, tags);
        if (phase == SessionPhase.Succeeded)
        {
            _lastSuccess[(configuration, target.Name)] = now.ToUnixTimeSeconds();
        }
    }

    internal void HookFailed(string configuration, string target, string hook, Hooks.HookPhase phase, Hooks.HookErrorMode onError) =>
        _hookFailures.Add(1, new TagList
        {
            { "configuration", configuration }, { "target", target }, { "hook", hook },
            { "phase", PhaseTag(phase) }, { "on_error", onError == Hooks.HookErrorMode.Fail ? "fail" : "continue" },
        });

    internal void SnapshotsRemoved(string configuration, string target, int count) =>
        _snapshotsRemoved.Add(count, new TagList { { "configuration", configuration }, { "target", target } });

    internal void DrillFinished(string configuration, string target, bool verified, DateTimeOffset now)
    {
        _drills.Add(1, new TagList { { "configuration", configuration }, { "target", target }, { "verified", verified ? "true" : "false" } });
        if (verified)
        {
            _lastVerified[(configuration, target)] = now.ToUnixTimeSeconds();
        }
    }

    internal void ScheduleSkipped(string configuration, string reason) =>
        _scheduleSkipped.Add(1, new TagList { { "configuration", configuration }, { "reason", reason } });

    private IEnumerable<Measurement<long>> ObserveLastSuccess() =>
        _lastSuccess.Select(p => new Measurement<long>(p.Value, new KeyValuePair<string, object?>("configuration", p.Key.Configuration), new KeyValuePair<string, object?>("target", p.Key.Target)));

    private IEnumerable<Measurement<long>> ObserveLastVerified() =>
        _lastVerified.Select(p => new Measurement<long>(p.Value, new KeyValuePair<string, object?>("configuration", p.Key.Configuration), new KeyValuePair<string, object?>("target", p.Key.Target)));

    internal static string KindTag(SessionKind kind) => kind == SessionKind.Backup ? "backup" : "restore";

    internal static string PhaseTag(SessionPhase phase) => phase switch
    {
        SessionPhase.Succeeded => "succeeded",
        SessionPhase.PartiallyFailed => "partially_failed",
        SessionPhase.Failed => "failed",
        SessionPhase.Skipped => "skipped",
        SessionPhase.Running => "running",
        _ => "pending",
    };

    private static string PhaseTag(Hooks.HookPhase phase) => phase switch
    {
        Hooks.HookPhase.PreBackup => "pre_backup",
        Hooks.HookPhase.PostBackup => "post_backup",
        Hooks.HookPhase.PreRestore => "pre_restore",
        _ => "post_restore",
    };

    /// <summary>Disposes the meter if this instance created it.</summary>
    public void Dispose()
    {
        if (_ownsMeter)
        {
            Meter.Dispose();
        }
    }
}
