using KubeBackup.Restic.Archiver;
using KubeBackup.Sessions;

namespace KubeBackup.Functions;

/// <summary>Parameters of <c>file-backup</c>.</summary>
internal sealed record FileBackupParameters(IReadOnlyList<string> Paths, IReadOnlyList<string> Exclude, IReadOnlyList<string> Tags);

/// <summary>
/// <c>file-backup</c>: backs up files and folders (the target's <c>paths</c> unless the step gives <c>paths</c>), with
/// <c>exclude</c> patterns and extra <c>tags</c>. Unreadable files and a backup of nothing are judged by the
/// completeness policy: Fail removes the snapshot again, TagPartial tags it, Warn keeps it as it is.
/// </summary>
internal sealed class FileBackupFunction : BackupFunction<FileBackupParameters>
{
    protected override FileBackupParameters BindParameters(FunctionParameters p) => new(p.GetStringList("paths"), p.GetStringList("exclude"), p.GetStringList("tags"));

    protected override async Task RunAsync(FunctionContext context, FileBackupParameters parameters, CancellationToken cancellationToken)
    {
        var paths = parameters.Paths.Count > 0 ? parameters.Paths : context.Target.Paths;
        if (paths.Count == 0)
        {
            throw new InvalidOperationException("there is nothing to back up: neither the target nor the step names paths");
        }

        var repository = await context.GetRepositoryAsync(cancellationToken).ConfigureAwait(false);
        var options = new BackupOptions { Hostname = context.Target.SnapshotHost, Time = context.TimeProvider.GetLocalNow() };
        foreach (var path in paths)
        {
            options.Paths.Add(path);
        }

        foreach (var pattern in context.Target.Exclude.Concat(parameters.Exclude))
        {
            options.Excludes.Add(pattern);
        }

        foreach (var tag in context.Target.Tags.Concat(parameters.Tags))
        {
            options.Tags.Add(tag);
        }

        var progress = context.Progress is null ? null : new Progress<BackupProgress>(p => context.ReportProgress(p.BytesRead, p.FilesDone));
        var result = await repository.BackupAsync(options, progress, cancellationToken).ConfigureAwait(false);

        var conditions = new List<CompletenessCondition>();
        var reasons = new List<string>();
        if (!result.IsComplete)
        {
            conditions.Add(CompletenessCondition.UnreadableFiles);
            reasons.Add($"{result.Errors.Count} items could not be read (first: {result.Errors[0].Path}: {result.Errors[0].Message})");
        }

        if (result.Summary.TotalFilesProcessed == 0)
        {
            conditions.Add(CompletenessCondition.ZeroItems);
            reasons.Add("no file was backed up");
        }

        var snapshot = result.Snapshot;
        string why = string.Join("; ", reasons);
        switch (context.Completeness.Decide(conditions))
        {
            case CompletenessAction.Fail:
                // The engine wrote the snapshot before its errors could be judged; Fail means it must not stand.
                await SnapshotOperations.RemoveAsync(repository, [snapshot.Id], CancellationToken.None).ConfigureAwait(false);
                throw new InvalidOperationException($"{why}; snapshot {snapshot.Id.ToShortString()} was removed again");
            case CompletenessAction.TagPartial:
                snapshot = await SnapshotOperations.AddTagAsync(repository, snapshot, context.Completeness.PartialTag, cancellationToken).ConfigureAwait(false);
                context.RecordBackup(result, snapshot);
                context.AddProblem($"{why}; snapshot {snapshot.Id.ToShortString()} is tagged '{context.Completeness.PartialTag}'");
                break;
            case CompletenessAction.Warn:
                context.RecordBackup(result);
                context.AddWarning(why);
                break;
            default:
                context.RecordBackup(result);
                break;
        }
    }
}
