using System.ComponentModel;
using KubeBackup.Hooks;
using KubeBackup.Restic.Archiver;
using KubeBackup.Sessions;
using Microsoft.Extensions.Logging;

namespace KubeBackup.Functions;

/// <summary>Parameters of <c>stream-backup</c>.</summary>
internal sealed record StreamBackupParameters(IReadOnlyList<string> Command, string FileName, string? EndMarker, IReadOnlyList<string> Tags,
    IReadOnlyDictionary<string, string> Environment, string? WorkingDirectory);

/// <summary>
/// <c>stream-backup</c>: runs a command (argv, no shell unless the command is one) and pipes its standard output
/// straight into a snapshot, never through a file. Parameters: <c>command</c> (list, required), <c>fileName</c> (the
/// path in the snapshot; default <c>TARGET_NAME.stream</c>), <c>endMarker</c> (text the last 4 KiB must contain, for
/// example pg_dump's closing comment), <c>tags</c>, <c>environment</c>, <c>workingDirectory</c>. The bytes are counted
/// and hashed (SHA-256) on the way; the exit code, a signal, a missing end marker or an empty stream are judged by the
/// configuration's completeness policy before the snapshot is written (see <see cref="CommandOutputStream"/>).
/// </summary>
internal sealed class StreamBackupFunction : BackupFunction<StreamBackupParameters>
{
    protected override StreamBackupParameters BindParameters(FunctionParameters p) => new(
        p.GetStringList("command", required: true),
        p.GetOptionalString("fileName") ?? "",
        p.GetOptionalString("endMarker"),
        p.GetStringList("tags"),
        p.GetStringMap("environment"),
        p.GetOptionalString("workingDirectory"));

    protected override async Task RunAsync(FunctionContext context, StreamBackupParameters parameters, CancellationToken cancellationToken)
    {
        var repository = await context.GetRepositoryAsync(cancellationToken).ConfigureAwait(false);
        string fileName = parameters.FileName.Length > 0 ? parameters.FileName : context.Target.Name + ".stream";
        var options = new StreamBackupOptions { FileName = fileName, Hostname = context.Target.SnapshotHost, Time = context.TimeProvider.GetLocalNow() };
        foreach (var tag in context.Target.Tags.Concat(parameters.Tags))
        {
            options.Tags.Add(tag);
        }

        System.Diagnostics.Process process;
        try
        {
            process = ChildProcess.Start(parameters.Command, parameters.Environment, parameters.WorkingDirectory);
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException($"cannot start {parameters.Command[0]}: {ex.Message}", ex);
        }

        using (process)
        {
            process.StandardInput.Close();
            var errors = new OutputTail();
            var errorPump = errors.PumpAsync(process.StandardError);
            using var source = new CommandOutputStream(process, context.Completeness, parameters.EndMarker, options.Tags, errors.ToString,
                bytes => context.ReportProgress(bytes, 0));
            string snapshotPath = "/" + fileName.TrimStart('/');
            try
            {
                var result = await repository.BackupStreamAsync(source, options, null, cancellationToken).ConfigureAwait(false);
                await errorPump.ConfigureAwait(false);
                var verdict = source.Verdict!;
                var snapshot = result.Snapshot;
                if (verdict.Action == CompletenessAction.TagPartial && snapshot.Tags?.Contains(context.Completeness.PartialTag) != true)
                {
                    // The tag is added before the engine writes the snapshot; this is the safety net should the engine
                    // ever read its tags earlier.
                    snapshot = await SnapshotOperations.AddTagAsync(repository, snapshot, context.Completeness.PartialTag, cancellationToken).ConfigureAwait(false);
                }

                context.RecordBackup(result, snapshot);
                context.RecordStream(new StreamRecord(context.StepName, snapshotPath, source.BytesRead, source.Sha256!, verdict.ExitCode, verdict.Conditions, verdict.ErrorTail));
                if (verdict.Action == CompletenessAction.Warn)
                {
                    context.AddWarning($"{fileName}: {verdict.Describe()}");
                }
                else if (verdict.Action == CompletenessAction.TagPartial)
                {
                    context.AddProblem($"{fileName}: {verdict.Describe()}; snapshot {snapshot.Id.ToShortString()} is tagged '{context.Completeness.PartialTag}'");
                }
            }
            catch (StreamRejectedException ex)
            {
                await errorPump.ConfigureAwait(false);
                var v = ex.Verdict;
                context.RecordStream(new StreamRecord(context.StepName, snapshotPath, v.Bytes, source.Sha256 ?? "", v.ExitCode, v.Conditions, v.ErrorTail));
                throw new InvalidOperationException($"{fileName}: {v.Describe()}; no snapshot was written", ex);
            }
            catch (TruncatedStreamException ex)
            {
                // Reading the pipe failed: the engine wrote no snapshot, so tagging is not possible either.
                ChildProcess.KillTree(process);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                await errorPump.ConfigureAwait(false);
                context.RecordStream(new StreamRecord(context.StepName, snapshotPath, source.BytesRead, "", process.ExitCode,
                    [Sessions.CompletenessCondition.ShortStream], errors.ToString()));
                throw new InvalidOperationException($"{fileName}: the stream could not be read to its end ({ex.Message})", ex);
            }
            finally
            {
                if (!process.HasExited)
                {
                    context.Logger.LogWarning("Stopping {Command} of target {Target}: the backup ended before it did.", parameters.Command[0], context.Target.Name);
                    ChildProcess.KillTree(process);
                    await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
    }
}
