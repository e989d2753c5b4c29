using KubeBackup.Drills;
using KubeBackup.Sessions;
using KubeBackup.Tests.Diagnostics;
using KubeBackup.Tests.Sessions;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Drills;

/// <summary>Restore drills: back up, restore the latest snapshot into a scratch folder, probe it, record the verdict.</summary>
public sealed class RestoreDrillTests
{
    private const string Yaml = """
        name: drill
        repository: { location: "{REPO}", password: { file: "{PWFILE}" } }
        targets:
          - name: app
            paths: ["{DIR}/src"]
            task: backup-and-drill
        tasks:
          backup-and-drill:
            steps:
              - function: file-backup
              - function: restore-drill
                params:
                  scratch: "{DIR}/scratch"
                  @PROBE@
              - function: update-status
        """;

    [Theory]
    [InlineData("command: [sh, -c, 'grep -q \"port = 8080\" \"$RESTORE_DIR{DIR}/src/app.conf\" && echo config intact']", true)]
    [InlineData("probe: same-content", true)]
    [InlineData("command: [sh, -c, 'echo checksum mismatch in app.conf; exit 4']", false)]
    [InlineData("probe: always-wrong", false)]
    public async Task Drill_restores_the_latest_snapshot_probes_it_and_records_RestoreVerified(string probe, bool passes)
    {
        using var kit = await SessionKit.CreateAsync();
        Directory.CreateDirectory(kit.Dir.Combine("src"));
        File.WriteAllText(kit.Dir.Combine("src", "app.conf"), "port = 8080\n");
        string source = kit.Dir.Combine("src");
        kit.Probes.Register("same-content", (ctx, _) =>
        {
            string restored = File.ReadAllText(Path.Combine(ctx.RestoredPath, source.TrimStart('/'), "app.conf"));
            return Task.FromResult(new ProbeResult(restored == "port = 8080\n", $"{ctx.TargetName}: {restored.Length} bytes"));
        });
        kit.Probes.Register("always-wrong", (_, _) => Task.FromResult(new ProbeResult(false, "row count 0, expected 20000")));
        using var recorder = new MetricsTests.Recorder(kit.Metrics.Meter);

        var session = await kit.Runner.RunBackupAsync(kit.Load(Yaml.Replace("@PROBE@", probe, StringComparison.Ordinal)));

        var target = Assert.Single(session.Targets);
        var verdict = target.RestoreVerified;
        Assert.NotNull(verdict);
        Assert.Equal(passes, verdict.Verified);
        Assert.Equal(target.Snapshots[0].Id, verdict.Snapshot);
        Assert.Equal(1, verdict.Files);
        Assert.Equal(1, recorder.Sum("kubebackup.drill.runs", ("target", "app"), ("verified", passes ? "true" : "false")));
        // The scratch copy is gone afterwards.
        Assert.Empty(Directory.GetFileSystemEntries(kit.Dir.Combine("scratch")));
        if (passes)
        {
            Assert.True(session.Phase == SessionPhase.Succeeded, PostgresEndToEndTests.Explain(session));
            Assert.Contains(probe.StartsWith("command", StringComparison.Ordinal) ? "config intact" : "app: 12 bytes", verdict.Detail, StringComparison.Ordinal);
            recorder.Listener.RecordObservableInstruments();
            Assert.True(recorder.Count("kubebackup.drill.last_verified", ("target", "app")) > 0);
        }
        else
        {
            Assert.Equal(SessionPhase.Failed, session.Phase);
            Assert.Contains("failed its probe", Assert.Single(target.Failures), StringComparison.Ordinal);
            Assert.Contains(probe.StartsWith("command", StringComparison.Ordinal) ? "checksum mismatch" : "row count 0", verdict.Detail, StringComparison.Ordinal);
            if (probe.StartsWith("command", StringComparison.Ordinal))
            {
                Assert.Equal(4, verdict.ExitCode);
            }
        }
    }
}
