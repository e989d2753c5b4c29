using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using KubeBackup.Diagnostics;
using KubeBackup.Sessions;
using KubeBackup.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace KubeBackup.Tests.Diagnostics;

/// <summary>The instruments as a MeterListener sees them, after sessions with known outcomes.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task Sessions_targets_bytes_files_last_success_hook_failures_and_retention_are_measured()
    {
        using var kit = await SessionKit.CreateAsync();
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 2, 3, 4, 5, 6, TimeSpan.Zero));
        kit.UseClock(time);
        var src = kit.Dir.Combine("src");
        Directory.CreateDirectory(src);
        for (int i = 0; i < 3; i++)
        {
            File.WriteAllBytes(Path.Combine(src, $"f{i}.bin"), new byte[1000 * (i + 1)]);
        }

        using var recorder = new Recorder(kit.Metrics.Meter);
        var failing = kit.Load("""
            name: flaky
            repository: { location: "{REPO}", password: { file: "{PWFILE}" } }
            hooks:
              preBackup:
                - { name: warm-up, command: [sh, -c, "exit 2"], onError: Continue }
            targets:
              - { name: files, paths: ["{DIR}/src"] }
            """);
        var good = kit.Load("""
            name: steady
            repository: { location: "{REPO}", password: { file: "{PWFILE}" } }
            retention: { keepLast: 1 }
            targets:
              - { name: files2, paths: ["{DIR}/src"], host: steady-files }
            """);

        Assert.Equal(SessionPhase.PartiallyFailed, (await kit.Runner.RunBackupAsync(failing)).Phase);
        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(SessionPhase.Succeeded, (await kit.Runner.RunBackupAsync(good)).Phase);
        time.Advance(TimeSpan.FromHours(1));
        var last = await kit.Runner.RunBackupAsync(good);
        Assert.Equal(SessionPhase.Succeeded, last.Phase);
        recorder.Listener.RecordObservableInstruments();

        Assert.Equal(1, recorder.Sum("kubebackup.sessions", ("configuration", "flaky"), ("phase", "partially_failed"), ("kind", "backup")));
        Assert.Equal(2, recorder.Sum("kubebackup.sessions", ("configuration", "steady"), ("phase", "succeeded")));
        Assert.Equal(3, recorder.Count("kubebackup.session.duration"));
        Assert.Equal(1, recorder.Sum("kubebackup.targets", ("target", "files"), ("phase", "partially_failed")));
        Assert.Equal(1, recorder.Sum("kubebackup.hook.failures", ("hook", "warm-up"), ("phase", "pre_backup"), ("on_error", "continue")));
        // The default task ends with update-status: every run publishes the bytes and files it read.
        Assert.Equal(6000, recorder.Sum("kubebackup.target.bytes_processed", ("target", "files")));
        Assert.Equal(12000, recorder.Sum("kubebackup.target.bytes_processed", ("target", "files2")));
        Assert.Equal(3, recorder.Sum("kubebackup.target.files_processed", ("target", "files")));
        Assert.Equal(1, recorder.Sum("kubebackup.retention.snapshots_removed", ("target", "files2")));
        // Only a succeeded target sets its last-success time: the fake clock's at the last run.
        Assert.Equal(time.GetUtcNow().ToUnixTimeSeconds(), recorder.Last("kubebackup.target.last_success", ("target", "files2")));
        Assert.Null(recorder.LastOrNull("kubebackup.target.last_success", ("target", "files")));
        Assert.Equal(0, recorder.Sum("kubebackup.retention.snapshots_removed", ("target", "files")));
    }

    /// <summary>Collects measurements of one meter instance (other tests' meters of the same name are ignored).</summary>
    internal sealed class Recorder : IDisposable
    {
        private readonly ConcurrentQueue<(string Name, double Value, Dictionary<string, object?> Tags)> _measurements = new();

        public Recorder(Meter meter)
        {
            Listener = new MeterListener
            {
                InstrumentPublished = (instrument, listener) =>
                {
                    if (ReferenceEquals(instrument.Meter, meter))
                    {
                        listener.EnableMeasurementEvents(instrument);
                    }
                },
            };
            Listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
            Listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
            Listener.Start();
        }

        public MeterListener Listener { get; }

        public double Sum(string name, params (string Key, string Value)[] tags) => Matching(name, tags).Sum(m => m.Value);

        public int Count(string name, params (string Key, string Value)[] tags) => Matching(name, tags).Count();

        public double Last(string name, params (string Key, string Value)[] tags) => LastOrNull(name, tags) ?? throw new InvalidOperationException($"no {name}");

        public double? LastOrNull(string name, params (string Key, string Value)[] tags) => Matching(name, tags).Select(m => (double?)m.Value).LastOrDefault();

        public void Dispose() => Listener.Dispose();

        private IEnumerable<(string Name, double Value, Dictionary<string, object?> Tags)> Matching(string name, (string Key, string Value)[] tags) =>
            _measurements.Where(m => m.Name == name && tags.All(t => m.Tags.TryGetValue(t.Key, out var v) && (string?)v == t.Value));

        private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var dict = new Dictionary<string, object?>();
            foreach (var t in tags)
            {
                dict[t.Key] = t.Value;
            }

            _measurements.Enqueue((instrument.Name, value, dict));
        }
    }
}
