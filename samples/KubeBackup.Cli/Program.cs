using System.CommandLine;
using KubeBackup;
using KubeBackup.Cli;
using KubeBackup.Cli.Commands;

// kubebackup speaks restic's vocabulary (commands, flags, environment variables, exit codes) so that restic users and
// their scripts can switch without relearning anything.
var global = new GlobalOptions();
var root = new RootCommand("kubebackup: encrypted, deduplicated backups in restic's repository format");
foreach (var option in global.All)
{
    root.Options.Add(option);
}

root.Subcommands.Add(InitCommand.Create(global));
root.Subcommands.Add(BackupCommand.Create(global));
root.Subcommands.Add(RestoreCommand.Create(global));
root.Subcommands.Add(SnapshotsCommand.Create(global));
root.Subcommands.Add(LsCommand.Create(global));
root.Subcommands.Add(DumpCommand.Create(global));
root.Subcommands.Add(PruneCommand.Create(global));
root.Subcommands.Add(KeyCommand.Create(global));
root.Subcommands.Add(UnlockCommand.Create(global));
root.Subcommands.Add(CopyCommand.Create(global));
root.Subcommands.Add(ConfigurationCommands.CreateRun(global));
root.Subcommands.Add(ConfigurationCommands.CreateSchedule(global));
root.Subcommands.Add(ForgetCommand.Create(global));
root.Subcommands.Add(CheckCommand.Create(global));

try
{
    var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
    return await root.Parse(args).InvokeAsync(config);
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("interrupted");
    return ExitCodes.Interrupted;
}
catch (WrongPasswordException)
{
    Console.Error.WriteLine("Fatal: wrong password or no key found");
    return ExitCodes.Fatal;
}
catch (Exception ex) when (ex is KubeBackupException or CliException or IOException or ArgumentException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"Fatal: {ex.Message}");
    return ExitCodes.Fatal;
}
