using System.Globalization;
using KubeBackup.Sessions;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Sessions;

/// <summary>
/// A dump that was cut short, one whose command failed after its full output, an empty one and one whose shell
/// pipeline hid the failure: under the default policy each ends Failed with no snapshot at all; under a TagPartial
/// policy each ends PartiallyFailed with its snapshot tagged partial. Never Succeeded, never an untagged snapshot.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StreamCompletenessTests(PostgresServer server)
{
    public enum Case
    {
        KilledMidStream,
        NonZeroExitAfterFullOutput,
        Empty,
        PipelineHidesTruncation,
    }

    [Theory]
    [InlineData(Case.KilledMidStream, false)]
    [InlineData(Case.KilledMidStream, true)]
    [InlineData(Case.NonZeroExitAfterFullOutput, false)]
    [InlineData(Case.NonZeroExitAfterFullOutput, true)]
    [InlineData(Case.Empty, false)]
    [InlineData(Case.Empty, true)]
    [InlineData(Case.PipelineHidesTruncation, false)]
    [InlineData(Case.PipelineHidesTruncation, true)]
    public async Task Incomplete_dump_is_never_an_untagged_succeeded_snapshot(Case @case, bool tagPartial)
    {
        using var kit = await SessionKit.CreateAsync();
        await server.ExecuteAsync("DROP DATABASE IF EXISTS big");
        await server.ExecuteAsync("CREATE DATABASE big");
        await server.ExecuteAsync("CREATE TABLE t (id int, payload text); INSERT INTO t SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 60000) g", "big");
        string pidFile = kit.Dir.Combine("dump.pid");
        string port = server.Port.ToString(CultureInfo.InvariantCulture);
        string pgDump = $"{server.BinDirectory}/pg_dump -h 127.0.0.1 -p {port} -U postgres -d big";
        string[] command = @case switch
        {
            // exec keeps the PID the test reads, so the kill hits pg_dump itself while it is writing ($$$$ is the
            // shell's $$: task parameters write a literal $ as $$).
            Case.KilledMidStream => ["sh", "-c", $"echo $$$$ > {pidFile}; exec {pgDump}"],
            Case.NonZeroExitAfterFullOutput => ["sh", "-c", $"{pgDump}; exit 3"],
            Case.Empty => ["true"],
            // The pipeline's status is head's (0): only the missing end marker shows the dump stopped early.
            _ => ["sh", "-c", $"{pgDump} | head -c 200000"],
        };
        string yaml = $$"""
            name: incomplete
            repository: { location: "{REPO}", password: { file: "{PWFILE}" } }
            completeness:
              nonZeroExit: {{(tagPartial ? "TagPartial" : "Fail")}}
              shortStream: {{(tagPartial ? "TagPartial" : "Fail")}}
              emptyStream: {{(tagPartial ? "TagPartial" : "Fail")}}
            targets:
              - name: big-db
                task: dump
            tasks:
              dump:
                steps:
                  - function: stream-backup
                    params:
                      command: [{{string.Join(", ", command.Select(a => "'" + a.Replace("'", "''", StringComparison.Ordinal) + "'"))}}]
                      fileName: big.sql
                      endMarker: "PostgreSQL database dump complete"
                  - function: update-status
            """;
        var configuration = kit.Load(yaml);
        var killer = new KillAfter(pidFile, 256 * 1024);
        var session = await kit.Runner.RunBackupAsync(configuration, new BackupRequest { Progress = killer });

        var target = Assert.Single(session.Targets);
        var stream = Assert.Single(target.Streams);
        var snapshots = await kit.SnapshotsAsync();
        Assert.NotEqual(SessionPhase.Succeeded, session.Phase);
        Assert.All(snapshots, s => Assert.Contains("partial", s.Tags ?? []));
        var expected = @case switch
        {
            Case.KilledMidStream => new[] { CompletenessCondition.NonZeroExit, CompletenessCondition.ShortStream },
            Case.NonZeroExitAfterFullOutput => [CompletenessCondition.NonZeroExit],
            Case.Empty => [CompletenessCondition.EmptyStream],
            _ => [CompletenessCondition.ShortStream],
        };
        Assert.Equal(expected, stream.Conditions);
        if (@case == Case.KilledMidStream)
        {
            Assert.True(killer.Killed);
            Assert.Equal(137, stream.ExitCode);
        }

        if (tagPartial)
        {
            Assert.Equal(SessionPhase.PartiallyFailed, session.Phase);
            var snapshot = Assert.Single(snapshots);
            Assert.Equal(["partial"], snapshot.Tags);
            Assert.True(Assert.Single(target.Snapshots).Partial);
            Assert.Equal((ulong)stream.Bytes, snapshot.Summary!.TotalBytesProcessed);
            Assert.NotEmpty(target.Problems);
        }
        else
        {
            Assert.Equal(SessionPhase.Failed, session.Phase);
            Assert.Empty(snapshots);
            Assert.Empty(target.Snapshots);
            Assert.Contains("no snapshot was written", Assert.Single(target.Failures), StringComparison.Ordinal);
        }

        await server.ExecuteAsync("DROP DATABASE big");
    }

    /// <summary>Kills the dump's process with SIGKILL once this many bytes have passed into the repository.</summary>
    private sealed class KillAfter(string pidFile, long bytes) : IProgress<SessionProgress>
    {
        public bool Killed { get; private set; }

        public void Report(SessionProgress value)
        {
            if (!Killed && value.BytesProcessed >= bytes && File.Exists(pidFile))
            {
                Killed = true;
                using var process = System.Diagnostics.Process.GetProcessById(int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture));
                process.Kill();
            }
        }
    }
}
