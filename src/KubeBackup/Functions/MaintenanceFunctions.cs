using System.Text.Json;
using KubeBackup.Restic;
using KubeBackup.Sessions;
using KubeBackup.Tasks;

namespace KubeBackup.Functions;

/// <summary>Parameters of <c>retention-apply</c>.</summary>
internal sealed record RetentionApplyParameters(bool? Prune, bool? DryRun);

/// <summary>
/// <c>retention-apply</c>: applies the configuration's retention to the target's snapshots (its host), then prunes if
/// asked. Snapshots tagged partial are not counted by the policy (three partial dumps must not push the last complete
/// one out of <c>keepLast: 3</c>); instead, a partial snapshot older than the newest complete one is removed, since that
/// complete one supersedes it. Parameters: <c>prune</c>, <c>dryRun</c> (default: the retention's).
/// </summary>
internal sealed class RetentionApplyFunction(IRetentionRunner runner) : BackupFunction<RetentionApplyParameters>
{
    public override FunctionStage Stage => FunctionStage.Maintenance;

    protected override RetentionApplyParameters BindParameters(FunctionParameters p) =>
        new(p.Has("prune") ? p.GetBoolean("prune", false) : null, p.Has("dryRun") ? p.GetBoolean("dryRun", false) : null);

    protected override async Task RunAsync(FunctionContext context, RetentionApplyParameters parameters, CancellationToken cancellationToken)
    {
        var policy = context.Configuration.Retention;
        if (policy is null || policy.IsEmpty)
        {
            context.AddWarning("no retention policy is configured: every snapshot is kept");
            return;
        }

        bool dryRun = parameters.DryRun ?? policy.DryRun;
        var repository = await context.GetRepositoryAsync(cancellationToken).ConfigureAwait(false);
        string host = context.Target.SnapshotHost;
        string partial = context.Completeness.PartialTag;
        var result = await runner.ApplyAsync(repository, policy, new RetentionScope(host, [partial], dryRun), cancellationToken).ConfigureAwait(false);
        var removed = new List<ResticId>(result.Removed);

        var snapshots = await repository.ListSnapshotsAsync(cancellationToken).ConfigureAwait(false);
        var mine = snapshots.Where(s => s.Hostname == host && !removed.Contains(s.Id)).ToList();
        var newestComplete = mine.Where(s => s.Tags?.Contains(partial) != true).MaxBy(s => s.Time);
        if (newestComplete is not null)
        {
            var superseded = mine.Where(s => s.Tags?.Contains(partial) == true && s.Time.CompareTo(newestComplete.Time) < 0).Select(s => s.Id).ToList();
            if (!dryRun)
            {
                await SnapshotOperations.RemoveAsync(repository, superseded, cancellationToken).ConfigureAwait(false);
            }

            removed.AddRange(superseded);
        }

        if (dryRun)
        {
            context.AddWarning($"dry run: {removed.Count} snapshots would be removed");
            return;
        }

        context.RecordSnapshotsRemoved(removed);
        context.Metrics.SnapshotsRemoved(context.Configuration.Name, context.Target.Name, removed.Count);
        if ((parameters.Prune ?? policy.Prune) && removed.Count > 0)
        {
            await repository.PruneAsync(null, null, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>Parameters of <c>check</c>.</summary>
internal sealed record CheckParameters(bool ReadData, string? ReadDataSubset);

/// <summary><c>check</c>: verifies the repository (restic's <c>check</c>); errors fail the step. Parameters:
/// <c>readData</c>, <c>readDataSubset</c> (<c>n/m</c>, <c>x%</c> or a size).</summary>
internal sealed class CheckFunction(IRepositoryChecker checker) : BackupFunction<CheckParameters>
{
    public override FunctionStage Stage => FunctionStage.Maintenance;

    protected override CheckParameters BindParameters(FunctionParameters p)
    {
        var result = new CheckParameters(p.GetBoolean("readData", false), p.GetOptionalString("readDataSubset"));
        if (result.ReadData && result.ReadDataSubset is not null)
        {
            p.Problem("readData and readDataSubset cannot be used together");
        }

        return result;
    }

    protected override async Task RunAsync(FunctionContext context, CheckParameters parameters, CancellationToken cancellationToken)
    {
        var repository = await context.GetRepositoryAsync(cancellationToken).ConfigureAwait(false);
        var outcome = await checker.CheckAsync(repository, parameters.ReadData, parameters.ReadDataSubset, cancellationToken).ConfigureAwait(false);
        foreach (var hint in outcome.Hints)
        {
            context.AddWarning(hint);
        }

        if (!outcome.Ok)
        {
            throw new InvalidOperationException($"the repository has {outcome.Errors.Count} errors (first: {outcome.Errors.FirstOrDefault()})");
        }
    }
}

/// <summary>Parameters of <c>update-status</c>.</summary>
internal sealed record UpdateStatusParameters(string? StatusFile);

/// <summary>
/// <c>update-status</c>: publishes the target's outcome so far: the per-target metrics (bytes, files, last-success
/// timestamp) and, with <c>statusFile</c>, a JSON document with phase, snapshots, statistics, failures and hook outcomes
/// (written atomically, for a monitoring agent or an operator to read). Runs always, also after a failure.
/// </summary>
internal sealed class UpdateStatusFunction : BackupFunction<UpdateStatusParameters>
{
    public override FunctionStage Stage => FunctionStage.Status;

    public override ExecutionPolicy DefaultWhen => ExecutionPolicy.Always;

    protected override UpdateStatusParameters BindParameters(FunctionParameters p) => new(p.GetOptionalString("statusFile"));

    protected override async Task RunAsync(FunctionContext context, UpdateStatusParameters parameters, CancellationToken cancellationToken)
    {
        var now = context.TimeProvider.GetUtcNow();
        var phase = context.CurrentPhase;
        context.Metrics.TargetStatus(context.Configuration.Name, context.Result, phase, now);
        if (parameters.StatusFile is { Length: > 0 } file)
        {
            string temp = file + ".tmp";
            await using (var stream = File.Create(temp))
            {
                await using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
                StatusDocument.Write(writer, context, phase, now);
            }

            File.Move(temp, file, overwrite: true);
        }
    }
}

/// <summary>The status document <c>update-status</c> writes.</summary>
internal static class StatusDocument
{
    public static void Write(Utf8JsonWriter w, FunctionContext context, SessionPhase phase, DateTimeOffset now)
    {
        var r = context.Result;
        w.WriteStartObject();
        w.WriteString("configuration", context.Configuration.Name);
        w.WriteString("target", r.Name);
        w.WriteString("session", context.SessionId);
        w.WriteString("phase", phase.ToString());
        w.WriteString("updated", now);
        w.WriteStartArray("snapshots");
        foreach (var s in r.Snapshots)
        {
            w.WriteStartObject();
            w.WriteString("id", s.Id.ToString());
            w.WriteBoolean("partial", s.Partial);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartObject("statistics");
        w.WriteNumber("filesProcessed", r.Statistics.FilesProcessed);
        w.WriteNumber("bytesProcessed", r.Statistics.BytesProcessed);
        w.WriteNumber("bytesAdded", r.Statistics.BytesAdded);
        w.WriteEndObject();
        WriteStrings(w, "failures", r.Failures);
        WriteStrings(w, "problems", r.Problems);
        WriteStrings(w, "warnings", r.Warnings);
        w.WriteStartArray("hooks");
        foreach (var h in r.Hooks)
        {
            w.WriteStartObject();
            w.WriteString("name", h.Name);
            w.WriteString("step", h.Step.ToString());
            w.WriteBoolean("succeeded", h.Succeeded);
            if (h.ExitCode is { } code)
            {
                w.WriteNumber("exitCode", code);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
        {
            w.WriteStringValue(v);
        }

        w.WriteEndArray();
    }
}
