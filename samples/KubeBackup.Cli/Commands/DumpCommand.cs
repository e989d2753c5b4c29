using System.CommandLine;

namespace KubeBackup.Cli.Commands;

internal static class DumpCommand
{
    public static Command Create(GlobalOptions global)
    {
        var selection = new SnapshotSelection();
        var snapshot = new Argument<string>("SNAPSHOT") { Description = "snapshot ID or 'latest'" };
        var file = new Argument<string>("FILE") { Description = "path of a file (or folder, written as tar) in the snapshot" };
        var command = new Command("dump", "Print a backed-up file to stdout") { snapshot, file };
        selection.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var context = new CliContext(parse, global);
            await using var repo = await context.OpenAsync(ct);
            var snap = await repo.FindSnapshotAsync(parse.GetValue(snapshot)!, selection.Build(parse), ct);
            await using var stdout = Console.OpenStandardOutput();
            await repo.DumpAsync(snap, parse.GetValue(file)!, stdout, ct);
            await stdout.FlushAsync(ct);
            return ExitCodes.Ok;
        });
        return command;
    }
}
