using System.CommandLine;
using System.Globalization;
using KubeBackup.Restic.Pruning;

namespace KubeBackup.Cli.Commands;

internal static class PruneCommand
{
    public static Command Create(GlobalOptions global)
    {
        var maxUnused = new Option<string>("--max-unused") { Description = "tolerate given limit of unused data: a percentage like '5%' or 'unlimited' (default: 5%)", DefaultValueFactory = _ => "5%" };
        var maxRepack = new Option<string?>("--max-repack-size") { Description = "maximum size to repack (allowed suffixes: k/K, m/M, g/G, t/T)" };
        var repackUncompressed = new Option<bool>("--repack-uncompressed") { Description = "repack all uncompressed data (format 2 repositories upgraded from format 1)" };
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "do not modify the repository, just print what would be done" };
        var command = new Command("prune", "Remove unneeded data from the repository") { maxUnused, maxRepack, repackUncompressed, dryRun };
        command.SetAction(async (parse, ct) =>
        {
            var context = new CliContext(parse, global);
            var options = new PruneOptions
            {
                MaxUnusedPercent = ParseMaxUnused(parse.GetValue(maxUnused)!),
                MaxRepackBytes = parse.GetValue(maxRepack) is { } size ? ParseSize(size) : null,
                RepackUncompressed = parse.GetValue(repackUncompressed),
                DryRun = parse.GetValue(dryRun),
            };
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

    internal static double? ParseMaxUnused(string value)
    {
        if (value == "unlimited")
        {
            return null;
        }

        var v = value.TrimEnd('%');
        return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var percent) && percent >= 0
            ? percent
            : throw new CliException($"Invalid --max-unused '{value}': use a percentage like '5%' or 'unlimited'.");
    }

    internal static long ParseSize(string value)
    {
        long factor = char.ToLowerInvariant(value[^1]) switch { 'k' => 1L << 10, 'm' => 1L << 20, 'g' => 1L << 30, 't' => 1L << 40, _ => 1 };
        var digits = factor == 1 ? value : value[..^1];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n * factor
            : throw new CliException($"Invalid size '{value}'.");
    }
}
