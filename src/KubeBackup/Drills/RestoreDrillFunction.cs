using System.ComponentModel;
using KubeBackup.Functions;
using KubeBackup.Hooks;
using KubeBackup.Restic.Restorer;

namespace KubeBackup.Drills;

/// <summary>Parameters of <c>restore-drill</c>.</summary>
internal sealed record RestoreDrillParameters(IReadOnlyList<string> Command, string? Probe, string? Snapshot, string? Scratch, bool Keep, TimeSpan Timeout,
    bool AllowPartial);

/// <summary>
/// <c>restore-drill</c>: proves a backup restores. Restores the target's latest complete snapshot into a scratch folder,
/// runs a probe on it (a <c>command</c>, started in the folder with <c>RESTORE_DIR</c> set, passing on exit code 0; or a
/// registered .NET <c>probe</c> by name), records <c>RestoreVerified</c> with the time and the verdict, counts it in
/// <c>kubebackup.drill.runs</c>, and deletes the scratch folder unless <c>keep</c>. A failing probe fails the target.
/// Parameters: <c>command</c> or <c>probe</c>, <c>snapshot</c>, <c>scratch</c> (a folder to restore under; default a new
/// temporary one), <c>keep</c>, <c>timeout</c> (of the probe; default 10m), <c>allowPartial</c>.
/// </summary>
internal sealed class RestoreDrillFunction(RestoreProbeRegistry probes) : BackupFunction<RestoreDrillParameters>
{
    public override FunctionStage Stage => FunctionStage.Maintenance;

    protected override RestoreDrillParameters BindParameters(FunctionParameters p)
    {
        var result = new RestoreDrillParameters(p.GetStringList("command"), p.GetOptionalString("probe"), p.GetOptionalString("snapshot"),
            p.GetOptionalString("scratch"), p.GetBoolean("keep", false), p.GetDuration("timeout", TimeSpan.FromMinutes(10))!.Value, p.GetBoolean("allowPartial", false));
        if ((result.Command.Count > 0) == (result.Probe is not null))
        {
            p.Problem("give exactly one of 'command' (a probe command) and 'probe' (a registered probe's name)");
        }
        else if (result.Probe is { } name && !probes.TryGet(name, out _))
        {
            p.Problem($"no probe named '{name}' is registered (registered: {string.Join(", ", probes.Names)})");
        }

        return result;
    }

    protected override async Task RunAsync(FunctionContext context, RestoreDrillParameters parameters, CancellationToken cancellationToken)
    {
        var time = context.TimeProvider;
        long start = time.GetTimestamp();
        var repository = await context.GetRepositoryAsync(cancellationToken).ConfigureAwait(false);
        var snapshot = await SnapshotOperations.FindAsync(repository, parameters.Snapshot ?? "latest", context.Target.SnapshotHost, null,
            parameters.AllowPartial, context.Completeness.PartialTag, cancellationToken).ConfigureAwait(false);
        string root = parameters.Scratch ?? Path.GetTempPath();
        string scratch = Path.Combine(root, $"kubebackup-drill-{context.Target.Name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(scratch);
        try
        {
            var restored = await repository.RestoreAsync(snapshot, new RestoreOptions { Target = scratch }, null, cancellationToken).ConfigureAwait(false);
            bool passed;
            string detail;
            int? exitCode = null;
            if (!restored.IsComplete)
            {
                passed = false;
                detail = $"{restored.Errors.Count} items could not be restored (first: {restored.Errors[0].Path}: {restored.Errors[0].Message})";
            }
            else if (parameters.Probe is { } name)
            {
                probes.TryGet(name, out var probe);
                var verdict = await probe.ProbeAsync(new RestoreProbeContext(scratch, snapshot, context.Target.Name), cancellationToken).ConfigureAwait(false);
                (passed, detail) = (verdict.Passed, verdict.Detail);
            }
            else
            {
                (passed, exitCode, detail) = await RunProbeCommandAsync(parameters, scratch, time, cancellationToken).ConfigureAwait(false);
            }

            var verification = new RestoreVerification(time.GetUtcNow(), passed, snapshot.Id, time.GetElapsedTime(start), restored.Files, restored.Bytes, exitCode, detail);
            context.RecordRestoreVerified(verification);
            context.Metrics.DrillFinished(context.Configuration.Name, context.Target.Name, passed, verification.Time);
            if (!passed)
            {
                throw new InvalidOperationException($"the restore drill of snapshot {snapshot.Id.ToShortString()} failed its probe: {detail}");
            }
        }
        finally
        {
            if (!parameters.Keep)
            {
                try
                {
                    Directory.Delete(scratch, recursive: true);
                }
                catch (IOException)
                {
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        }
    }

    private static async Task<(bool, int?, string)> RunProbeCommandAsync(RestoreDrillParameters parameters, string scratch, TimeProvider time, CancellationToken cancellationToken)
    {
        System.Diagnostics.Process process;
        try
        {
            process = ChildProcess.Start(parameters.Command, new Dictionary<string, string> { ["RESTORE_DIR"] = scratch }, scratch);
        }
        catch (Win32Exception ex)
        {
            return (false, null, $"cannot start {parameters.Command[0]}: {ex.Message}");
        }

        using (process)
        {
            process.StandardInput.Close();
            var tail = new OutputTail();
            var pumps = Task.WhenAll(tail.PumpAsync(process.StandardOutput), tail.PumpAsync(process.StandardError));
            using var timeout = new CancellationTokenSource(parameters.Timeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
            try
            {
                await process.WaitForExitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                ChildProcess.KillTree(process);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                await pumps.ConfigureAwait(false);
                return (false, null, $"the probe did not finish within {parameters.Timeout}: {tail}");
            }

            await pumps.ConfigureAwait(false);
            string output = tail.ToString();
            return (process.ExitCode == 0, process.ExitCode, output.Length > 0 ? output : $"exit code {process.ExitCode}");
        }
    }
}
