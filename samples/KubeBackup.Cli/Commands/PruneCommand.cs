using System.CommandLine;

namespace KubeBackup.Cli.Commands;

internal static class PruneCommand
{
    public static Command Create(GlobalOptions global)
    {
        var flags = new PruneFlags();
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "do not modify the repository, just print what would be done" };
        var command = new Command("prune", "Remove unneeded data from the repository");
        foreach (var option in flags.All.Append(dryRun))
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, ct) =>
        {
            var context = new CliContext(parse, global);
            var options = flags.ToOptions(parse, parse.GetValue(dryRun));
            await using var repo = await context.OpenAsync(ct);
            var result = await repo.PruneAsync(options, null, ct);
            if (context.Json)
            {
                Console.Out.WriteLine(JsonOutput.Serialize(new Dictionary<string, object?>
                {
                    ["message_type"] = "summary",
                    ["used_blobs"] = result.UsedBlobs,
                    ["used_bytes"] = result.UsedBytes,
                    ["unused_bytes_before"] = result.UnusedBytesBefore,
                    ["unused_bytes_after"] = result.UnusedBytesAfter,
                    ["packs_deleted"] = result.PacksDeleted,
                    ["unreferenced_packs_deleted"] = result.UnreferencedPacksDeleted,
                    ["packs_repacked"] = result.PacksRepacked,
                    ["packs_written"] = result.PacksWritten,
                    ["packs_kept"] = result.PacksKept,
                    ["index_files_replaced"] = result.IndexFilesReplaced,
                    ["bytes_freed"] = result.BytesFreed,
                    ["dry_run"] = result.DryRun,
                    ["total_duration"] = result.Duration.TotalSeconds,
                }));
            }
            else
            {
                context.Info($"used:          {result.UsedBlobs} blobs / {Formatting.Bytes(result.UsedBytes)}");
                context.Info($"unused before: {Formatting.Bytes(result.UnusedBytesBefore)}");
                context.Info($"{(result.DryRun ? "would delete" : "deleted")}:  {result.PacksDeleted} unused packs, {result.UnreferencedPacksDeleted} unreferenced packs");
                context.Info($"{(result.DryRun ? "would repack" : "repacked")}:  {result.PacksRepacked} packs into {result.PacksWritten} new packs");
                context.Info($"kept:          {result.PacksKept} packs; unused after: {Formatting.Bytes(result.UnusedBytesAfter)}");
                context.Info($"{(result.DryRun ? "would free" : "freed")}:    {Formatting.Bytes(result.BytesFreed)}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
