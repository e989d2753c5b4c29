using System.CommandLine;
using KubeBackup.Restic.Repository;
using KubeBackup.Storage;

namespace KubeBackup.Cli.Commands;

/// <summary>Options naming a second repository, as restic's <c>copy</c> and <c>init --copy-chunker-params</c> take them.</summary>
internal sealed class FromRepositoryOptions
{
    public Option<string?> Repository { get; } = new("--from-repo") { Description = "source repository (default: $RESTIC_FROM_REPOSITORY)" };
    public Option<string?> PasswordFile { get; } = new("--from-password-file") { Description = "file to read the source repository password from (default: $RESTIC_FROM_PASSWORD_FILE)" };

    public void AddTo(Command command)
    {
        command.Options.Add(Repository);
        command.Options.Add(PasswordFile);
    }

    public async Task<ResticRepository> OpenAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        var location = parse.GetValue(Repository) ?? Environment.GetEnvironmentVariable("RESTIC_FROM_REPOSITORY")
            ?? throw new CliException("Please specify the source repository (--from-repo or RESTIC_FROM_REPOSITORY).");
        var file = parse.GetValue(PasswordFile) ?? Environment.GetEnvironmentVariable("RESTIC_FROM_PASSWORD_FILE");
        var password = file is not null
            ? File.ReadAllText(file).TrimEnd('\n').TrimEnd('\r')
            : Environment.GetEnvironmentVariable("RESTIC_FROM_PASSWORD") ?? PasswordSource.Prompt("enter password for source repository: ", confirm: false);
        return await ResticRepository.OpenAsync(new BackendRegistry().Create(location), password, context.RepositoryOptions(), ct);
    }
}

internal static class CopyCommand
{
    public static Command Create(GlobalOptions global)
    {
        var from = new FromRepositoryOptions();
        var selection = new SnapshotSelection();
        var ids = new Argument<string[]>("ID") { Arity = ArgumentArity.ZeroOrMore, Description = "snapshots to copy (default: all)" };
        var command = new Command("copy", "Copy snapshots from one repository to another") { ids };
        from.AddTo(command);
        selection.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var context = new CliContext(parse, global);
            await using var source = await from.OpenAsync(parse, context, ct);
            await using var destination = await context.OpenAsync(ct);
            var filter = selection.Build(parse);
            var all = await source.ListSnapshotsAsync(ct);
            var wanted = parse.GetValue(ids) ?? [];
            var list = wanted.Length == 0 ? all.Where(filter.Matches).ToList() : wanted.Select(id => filter.Select(all, id)).Distinct().ToList();
            var result = await source.CopyToAsync(destination, list, ct);
            foreach (var (src, dst) in result.Copied)
            {
                context.Info($"snapshot {src.ToShortString()} copied as {dst.ToShortString()}");
            }

            foreach (var skipped in result.Skipped)
            {
                context.Info($"skipping snapshot {skipped.ToShortString()}, it was already copied");
            }

            context.Info($"copied {result.BlobsCopied} blobs, {Formatting.Bytes(result.BytesCopied)}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
