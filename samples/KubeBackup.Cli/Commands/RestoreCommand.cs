using System.CommandLine;
using KubeBackup.Restic.Restorer;

namespace KubeBackup.Cli.Commands;

internal static class RestoreCommand
{
    public static Command Create(GlobalOptions global)
    {
        var selection = new SnapshotSelection();
        var snapshot = new Argument<string>("SNAPSHOT") { Description = "snapshot ID or 'latest'" };
        var target = new Option<string>("--target", "-t") { Description = "directory to extract data to", Required = true };
        var include = new Option<string[]>("--include", "-i") { Description = "include a pattern, exclude everything else (can be given several times)" };
        var exclude = new Option<string[]>("--exclude", "-e") { Description = "exclude a pattern (can be given several times)" };
        var noSparse = new Option<bool>("--no-sparse") { Description = "write zero runs instead of leaving holes" };
        var pageCache = new Option<bool>("--page-cache") { Description = "write large files through the page cache (default: past it, where the file system allows)" };
        var command = new Command("restore", "Extract the data from a snapshot") { snapshot, target, include, exclude, noSparse, pageCache };
        selection.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var context = new CliContext(parse, global);
            await using var repo = await context.OpenAsync(ct);
            var snap = await repo.FindSnapshotAsync(parse.GetValue(snapshot)!, selection.Build(parse), ct);
            var options = new RestoreOptions { Target = parse.GetValue(target)!, Sparse = !parse.GetValue(noSparse), BypassPageCache = !parse.GetValue(pageCache) };
            foreach (var x in parse.GetValue(include) ?? []) options.Includes.Add(x);
            foreach (var x in parse.GetValue(exclude) ?? []) options.Excludes.Add(x);
            context.Info($"restoring snapshot {snap.Id.ToShortString()} of {string.Join(", ", snap.Paths)} at {Formatting.Time(snap.Time)} to {options.Target}");
            var result = await ProgressDisplay.RunAsync<RestoreResult, RestoreProgress>(context, "restore",
                progress => repo.RestoreAsync(snap, options, progress, ct),
                (task, p) =>
                {
                    task.MaxValue = Math.Max(1, p.BytesTotal);
                    task.Value = Math.Min(p.BytesDone, task.MaxValue);
                    task.Description = $"{p.FilesDone}/{p.FilesTotal} files, {Formatting.Bytes(p.BytesDone)}/{Formatting.Bytes(p.BytesTotal)}";
                });
            foreach (var error in result.Errors)
            {
                Console.Error.WriteLine($"error: {error.Path}: {error.Message}");
            }

            if (context.Json)
            {
                Console.Out.WriteLine(JsonOutput.Serialize(new Dictionary<string, object?>
                {
                    ["message_type"] = "summary",
                    ["files_restored"] = result.Files,
                    ["directories_restored"] = result.Directories,
                    ["bytes_restored"] = result.Bytes,
                    ["errors"] = result.Errors.Count,
                    ["total_duration"] = result.Duration.TotalSeconds,
                }));
            }
            else
            {
                context.Info($"restored {result.Files} files, {result.Directories} folders, {Formatting.Bytes(result.Bytes)} in {Formatting.Duration(result.Duration)}");
            }

            if (!result.IsComplete)
            {
                Console.Error.WriteLine($"There were {result.Errors.Count} errors");
                return ExitCodes.Fatal;
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
