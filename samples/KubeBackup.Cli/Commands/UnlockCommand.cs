using System.CommandLine;
using KubeBackup.Restic.Locking;

namespace KubeBackup.Cli.Commands;

internal static class UnlockCommand
{
    public static Command Create(GlobalOptions global)
    {
        var removeAll = new Option<bool>("--remove-all") { Description = "remove all locks, even non-stale ones" };
        var command = new Command("unlock", "Remove locks other processes created") { removeAll };
        command.SetAction(async (parse, ct) =>
        {
            var context = new CliContext(parse, global);
            await using var repo = await context.OpenAsync(ct);
            int removed = await RepositoryLock.RemoveStaleLocksAsync(repo, parse.GetValue(removeAll), ct);
            context.Info(removed == 0 ? "no stale locks found" : $"successfully removed {removed} lock(s)");
            return ExitCodes.Ok;
        });
        return command;
    }
}
