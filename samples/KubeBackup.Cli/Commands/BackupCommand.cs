using System.CommandLine;
using KubeBackup.Restic.Archiver;

namespace KubeBackup.Cli.Commands;

internal static class BackupCommand
{
    public static Command Create(GlobalOptions global)
    {
        var paths = new Argument<string[]>("PATH") { Arity = ArgumentArity.ZeroOrMore, Description = "files and folders to back up" };
        var exclude = new Option<string[]>("--exclude", "-e") { Description = "exclude a pattern (can be given several times)" };
        var excludeFile = new Option<string[]>("--exclude-file") { Description = "read exclude patterns from a file (can be given several times)" };
        var tag = new Option<string[]>("--tag") { Description = "add tags for the new snapshot in the format tag[,tag,...] (can be given several times)" };
        var host = new Option<string?>("--host", "-H") { Description = "set the hostname for the snapshot manually" };
        var stdin = new Option<bool>("--stdin") { Description = "read backup from stdin" };
        var stdinFilename = new Option<string>("--stdin-filename") { Description = "filename to use when reading from stdin", DefaultValueFactory = _ => "stdin" };
        var parent = new Option<string?>("--parent") { Description = "use this parent snapshot (default: last snapshot of the same host and paths)" };
        var force = new Option<bool>("--force", "-f") { Description = "force re-reading the target files" };
        var ignoreInode = new Option<bool>("--ignore-inode") { Description = "ignore inode number changes when checking for modified files" };
        var ignoreCtime = new Option<bool>("--ignore-ctime") { Description = "ignore ctime changes when checking for modified files" };
        var withAtime = new Option<bool>("--with-atime") { Description = "store the atime for all files and directories" };
        var time = new Option<string?>("--time") { Description = "time of the backup (ex. '2012-11-01 22:08:41') (default: now)" };
        var readConcurrency = new Option<int?>("--read-concurrency") { Description = "read n files concurrently (default: 2 per core; more overlaps more reads of a slow or cold disk)" };
        readConcurrency.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1)
            {
                result.AddError("--read-concurrency must be at least 1.");
            }
        });
        var command = new Command("backup", "Create a new backup of files and/or directories")
        {
            paths, exclude, excludeFile, tag, host, stdin, stdinFilename, parent, force, ignoreInode, ignoreCtime, withAtime, time, readConcurrency,
        };
        command.SetAction(async (parse, ct) =>
        {
            var context = new CliContext(parse, global);
            var tags = (parse.GetValue(tag) ?? []).SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries)).ToList();
            DateTimeOffset? when = parse.GetValue(time) is { } t ? DateTimeOffset.Parse(t, System.Globalization.CultureInfo.InvariantCulture) : null;
            await using var repo = await context.OpenAsync(ct);
            Restic.ResticId? parentId = null;
            if (parse.GetValue(parent) is { } p)
            {
                parentId = (await repo.FindSnapshotAsync(p, cancellationToken: ct)).Id;
            }

            BackupResult result;
            if (parse.GetValue(stdin))
            {
                var options = new StreamBackupOptions { FileName = parse.GetValue(stdinFilename)!, Hostname = parse.GetValue(host), Time = when, Parent = parentId };
                foreach (var tg in tags)
                {
                    options.Tags.Add(tg);
                }

                await using var input = Console.OpenStandardInput();
                result = await ProgressDisplay.RunAsync<BackupResult, BackupProgress>(context, "backup (stdin)",
                    progress => repo.BackupStreamAsync(input, options, progress, ct),
                    (task, pr) => { task.MaxValue = Math.Max(1, pr.BytesRead); task.Value = pr.BytesRead; task.Description = $"{Formatting.Bytes(pr.BytesRead)} read"; });
            }
            else
            {
                var targets = parse.GetValue(paths) ?? [];
                if (targets.Length == 0)
                {
                    throw new CliException("Nothing to back up, please specify target files/dirs.");
                }

                var options = new BackupOptions
                {
                    Hostname = parse.GetValue(host),
                    Parent = parentId,
                    Force = parse.GetValue(force),
                    IgnoreInode = parse.GetValue(ignoreInode),
                    IgnoreChangeTime = parse.GetValue(ignoreCtime),
                    WithAccessTime = parse.GetValue(withAtime),
                    Time = when,
                    ReadConcurrency = parse.GetValue(readConcurrency),
                };
                foreach (var x in targets) options.Paths.Add(x);
                foreach (var x in tags) options.Tags.Add(x);
                foreach (var x in parse.GetValue(exclude) ?? []) options.Excludes.Add(x);
                foreach (var file in parse.GetValue(excludeFile) ?? [])
                {
                    foreach (var line in File.ReadAllLines(file).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
                    {
                        options.Excludes.Add(line);
                    }
                }

                result = await ProgressDisplay.RunAsync<BackupResult, BackupProgress>(context, "backup",
                    progress => repo.BackupAsync(options, progress, ct),
                    (task, pr) =>
                    {
                        task.MaxValue = Math.Max(1, pr.TotalBytes);
                        task.Value = Math.Min(pr.BytesRead, task.MaxValue);
                        task.Description = $"{pr.FilesDone}/{pr.TotalFiles} files, {Formatting.Bytes(pr.BytesRead)}/{Formatting.Bytes(pr.TotalBytes)}" +
                                           (pr.Errors > 0 ? $", {pr.Errors} errors" : "");
                    });
            }

            foreach (var error in result.Errors)
            {
                Console.Error.WriteLine($"error: {error.Path}: {error.Message}");
            }

            if (context.Json)
            {
                var s = result.Summary;
                Console.Out.WriteLine(JsonOutput.Serialize(new Dictionary<string, object?>
                {
                    ["message_type"] = "summary",
                    ["files_new"] = s.FilesNew,
                    ["files_changed"] = s.FilesChanged,
                    ["files_unmodified"] = s.FilesUnmodified,
                    ["dirs_new"] = s.DirsNew,
                    ["dirs_changed"] = s.DirsChanged,
                    ["dirs_unmodified"] = s.DirsUnmodified,
                    ["data_blobs"] = s.DataBlobs,
                    ["tree_blobs"] = s.TreeBlobs,
                    ["data_added"] = s.DataAdded,
                    ["data_added_packed"] = s.DataAddedPacked,
                    ["total_files_processed"] = s.TotalFilesProcessed,
                    ["total_bytes_processed"] = s.TotalBytesProcessed,
                    ["total_duration"] = result.Duration.TotalSeconds,
                    ["snapshot_id"] = result.Snapshot.Id.ToString(),
                    ["errors"] = result.Errors.Count,
                }));
            }
            else
            {
                context.Info(Formatting.Summary(result));
            }

            if (!result.IsComplete)
            {
                Console.Error.WriteLine("Warning: at least one source file could not be read");
                return ExitCodes.Incomplete;
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
