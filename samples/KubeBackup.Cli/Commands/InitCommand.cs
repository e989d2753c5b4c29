using System.CommandLine;
using KubeBackup.Restic.Repository;

namespace KubeBackup.Cli.Commands;

internal static class InitCommand
{
    public static Command Create(GlobalOptions global)
    {
        var version = new Option<string>("--repository-version")
        {
            Description = "repository format version: 1, 2, 'latest' or 'stable' (default: stable = 2)",
            DefaultValueFactory = _ => "stable",
        };
        var copyChunkerParams = new Option<bool>("--copy-chunker-params") { Description = "copy chunker parameters from the secondary repository (useful with the copy command)" };
        var from = new FromRepositoryOptions();
        var command = new Command("init", "Initialize a new repository") { version, copyChunkerParams };
        from.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var context = new CliContext(parse, global);
            int v = parse.GetValue(version) switch
            {
                "1" => 1,
                "2" or "latest" or "stable" => 2,
                var other => throw new CliException($"Unsupported repository version '{other}'."),
            };
            var initOptions = new RepositoryInitOptions { Version = v };
            if (parse.GetValue(copyChunkerParams))
            {
                // Same polynomial, same cut points: copies between the two repositories deduplicate.
                await using var other = await from.OpenAsync(parse, context, ct);
                initOptions.ChunkerPolynomial = other.Config.ChunkerPolynomial;
            }

            var backend = context.CreateBackend();
            var password = context.GetPassword(confirm: true);
            await using var repo = await ResticRepository.InitAsync(backend, password, initOptions, context.RepositoryOptions(), ct);
            if (context.Json)
            {
                Console.Out.WriteLine($"{{\"message_type\":\"initialized\",\"id\":\"{repo.Config.Id}\",\"repository\":{JsonOutput.Serialize(backend.Location)}}}");
            }
            else
            {
                context.Info($"created restic repository {repo.Config.Id.ToShortString()} at {backend.Location}");
                context.Info("");
                context.Info("Please note that knowledge of your password is required to access");
                context.Info("the repository. Losing your password means that your data is");
                context.Info("irrecoverably lost.");
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
