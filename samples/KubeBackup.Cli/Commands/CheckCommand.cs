using System.CommandLine;
using System.Globalization;
using KubeBackup.Restic.Checker;

namespace KubeBackup.Cli.Commands;

/// <summary><c>check</c>: restic's flags and messages, plus what restic does not say — which snapshots and paths the
/// errors damage. Exit code 1 when errors are found, as restic's "Fatal: repository contains errors".</summary>
internal static class CheckCommand
{
    public static Command Create(GlobalOptions global)
    {
        var readData = new Option<bool>("--read-data") { Description = "read all data blobs" };
        var readDataSubset = new Option<string?>("--read-data-subset")
        {
            Description = "read a subset of data packs, specified as 'n/t' for specific part, or either 'x%' or 'x.y%' or a size in bytes with suffixes k/K, m/M, g/G, t/T for a random subset",
        };
        var noLock = new Option<bool>("--no-lock") { Description = "do not lock the repository (for read-only storage)" };
        var command = new Command("check", "Check the repository for errors") { readData, readDataSubset, noLock };
        command.SetAction(async (parse, ct) =>
        {
            var context = new CliContext(parse, global);
            var options = new CheckOptions { ReadData = parse.GetValue(readData), NoLock = parse.GetValue(noLock) };
            if (parse.GetValue(readDataSubset) is { } subset)
            {
                if (options.ReadData)
                {
                    throw new CliException("check flags --read-data and --read-data-subset cannot be used together");
                }

                try
                {
                    options.ReadDataSubset = ReadDataSubset.Parse(subset);
                }
                catch (FormatException ex)
                {
                    throw new CliException($"check flag --read-data-subset has invalid value: {ex.Message}");
                }
            }

            await using var repo = await context.OpenAsync(ct);
            context.Info(options.NoLock ? "no lock taken" : "create shared lock for repository");
            var result = await ProgressDisplay.RunAsync<CheckResult, CheckProgress>(context, "check",
                progress => repo.CheckAsync(options, progress, ct),
                (task, p) =>
                {
                    task.MaxValue = Math.Max(1, p.Total);
                    task.Value = Math.Min(p.Done, task.MaxValue);
                    task.Description = p.Phase switch
                    {
                        CheckPhase.LoadIndex => $"index files {p.Done}/{p.Total}",
                        CheckPhase.Packs => $"packs {p.Done}/{p.Total}",
                        CheckPhase.Snapshots => $"trees {p.Done}/{p.Total}",
                        CheckPhase.ReadData => $"read {p.Done}/{p.Total} packs, {Formatting.Bytes(p.BytesRead)}",
                        _ => $"affected snapshots {p.Done}/{p.Total}",
                    };
                });

            if (context.Json)
            {
                Console.Out.WriteLine(JsonOutput.Serialize(ToJson(result)));
            }
            else
            {
                PrintText(context, options, result);
            }

            if (!result.IsClean)
            {
                if (!context.Json)
                {
                    Console.Error.WriteLine("Fatal: repository contains errors");
                }

                return ExitCodes.Fatal;
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static readonly CheckErrorKind[] IndexKinds = [CheckErrorKind.IndexUnreadable, CheckErrorKind.IndexVersionMismatch];
    private static readonly CheckErrorKind[] PackKinds = [CheckErrorKind.PackMissing, CheckErrorKind.PackSizeMismatch, CheckErrorKind.PackIndexGaps];
    private static readonly CheckErrorKind[] DataKinds =
        [CheckErrorKind.PackReadFailed, CheckErrorKind.PackIdMismatch, CheckErrorKind.PackHeaderInvalid, CheckErrorKind.PackHeaderMismatch, CheckErrorKind.BlobDamaged];

    /// <summary>restic's layout: each stage's heading, then its findings; hints on stdout, errors on stderr.</summary>
    private static void PrintText(CliContext context, CheckOptions options, CheckResult result)
    {
        var stdout = Console.Out;
        var stderr = Console.Error;
        void Info(string line) => context.Info(line);

        Info("load indexes");
        var rebuild = result.Hints.Where(h => h.Kind is CheckHintKind.PackInSeveralIndexes or CheckHintKind.OldIndexFormat).ToList();
        foreach (var h in rebuild)
        {
            stdout.WriteLine(h.Message);
        }

        if (rebuild.Count > 0)
        {
            stdout.WriteLine("This is non-critical, you can run `restic rebuild-index' to correct this");
        }

        var mixed = result.Hints.Where(h => h.Kind == CheckHintKind.MixedPack).ToList();
        foreach (var h in mixed)
        {
            stdout.WriteLine(h.Message);
        }

        if (mixed.Count > 0)
        {
            stdout.WriteLine("Mixed packs with tree and data blobs are non-critical, you can run `restic prune` to correct this.");
        }

        foreach (var e in result.Errors.Where(e => IndexKinds.Contains(e.Kind)))
        {
            stderr.WriteLine($"error: {e.Message}");
        }

        Info("check all packs");
        foreach (var e in result.Errors.Where(e => PackKinds.Contains(e.Kind)))
        {
            stderr.WriteLine(e.Message);
        }

        foreach (var h in result.Hints.Where(h => h.Kind == CheckHintKind.PackNotIndexed))
        {
            Info(h.Message);
        }

        if (result.UnreferencedPacks > 0)
        {
            Info(string.Create(CultureInfo.InvariantCulture,
                $"{result.UnreferencedPacks} additional files were found in the repo, which likely contain duplicate data.\nThis is non-critical, you can run `restic prune` to correct this."));
        }

        Info("check snapshots, trees and blobs");
        foreach (var e in result.Errors.Where(e => e.Kind == CheckErrorKind.SnapshotUnreadable))
        {
            stderr.WriteLine($"error: {e.Message}");
        }

        // restic groups tree errors under the tree they belong to.
        foreach (var group in result.Errors.Where(e => !IndexKinds.Contains(e.Kind) && !PackKinds.Contains(e.Kind) && !DataKinds.Contains(e.Kind)
                                                        && e.Kind != CheckErrorKind.SnapshotUnreadable)
                     .GroupBy(e => e.TreeId))
        {
            stderr.WriteLine($"error for tree {group.Key?.ToShortString()}:");
            foreach (var e in group)
            {
                string message = e.Message;
                string prefix = $"tree {group.Key?.ToShortString()}: ";
                stderr.WriteLine("  " + (message.StartsWith(prefix, StringComparison.Ordinal) ? message[prefix.Length..] : message));
            }
        }

        foreach (var h in result.Hints.Where(h => h.Kind is CheckHintKind.DuplicateBlobs or CheckHintKind.UnusedBlobs))
        {
            Info(h.Message);
        }

        if (options.ReadData)
        {
            Info("read all data");
        }
        else if (options.ReadDataSubset is { } subset)
        {
            Info(subset.Kind switch
            {
                ReadDataSubsetKind.Group => string.Create(CultureInfo.InvariantCulture,
                    $"read group #{subset.Group} of {result.PacksRead} data packs (out of total {result.Packs} packs in {subset.Groups} groups)"),
                ReadDataSubsetKind.Percentage => string.Create(CultureInfo.InvariantCulture, $"read {subset.Percentage:0.0}% of data packs"),
                _ => string.Create(CultureInfo.InvariantCulture, $"read {subset.Bytes} bytes of data packs"),
            });
        }

        foreach (var e in result.Errors.Where(e => DataKinds.Contains(e.Kind)))
        {
            stderr.WriteLine(e.Message);
        }

        if (result.AffectedSnapshots.Count > 0)
        {
            stderr.WriteLine();
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"damaged snapshots ({result.AffectedSnapshots.Count}), with the paths that lose data:"));
            foreach (var snapshot in result.AffectedSnapshots)
            {
                var paths = result.AffectedPaths.Where(p => p.SnapshotId == snapshot).ToList();
                stderr.WriteLine(paths.Count == 0 ? $"  snapshot {snapshot.ToShortString()} (its snapshot file)" : $"  snapshot {snapshot.ToShortString()}:");
                foreach (var p in paths)
                {
                    stderr.WriteLine($"    {p.Path}");
                }
            }

            if (result.AffectedPathsTruncated)
            {
                stderr.WriteLine("  (more paths are affected than listed)");
            }
        }

        if (result.IsClean)
        {
            Info("no errors were found");
        }
    }

    private static Dictionary<string, object?> ToJson(CheckResult result) => new()
    {
        ["message_type"] = "check_summary",
        ["clean"] = result.IsClean,
        ["num_errors"] = result.Errors.Count,
        ["errors"] = result.Errors.Select(e => new Dictionary<string, object?>
        {
            ["kind"] = e.Kind.ToString(),
            ["message"] = e.Message,
            ["file"] = e.FileName,
            ["pack"] = e.PackId?.ToString(),
            ["index_files"] = e.IndexFiles.Select(i => i.ToString()).ToList(),
            ["snapshot"] = e.SnapshotId?.ToString(),
            ["tree"] = e.TreeId?.ToString(),
            ["node"] = e.NodeName,
            ["blobs"] = e.BlobIds.Select(b => b.ToString()).ToList(),
            ["affected"] = e.AffectedPaths.Select(PathJson).ToList(),
        }).ToList(),
        ["hints"] = result.Hints.Select(h => new Dictionary<string, object?>
        {
            ["kind"] = h.Kind.ToString(),
            ["message"] = h.Message,
            ["pack"] = h.PackId?.ToString(),
            ["index_files"] = h.IndexFiles.Select(i => i.ToString()).ToList(),
            ["blobs"] = h.BlobIds.Select(b => b.ToString()).ToList(),
            ["count"] = h.Count,
        }).ToList(),
        ["affected_snapshots"] = result.AffectedSnapshots.Select(s => s.ToString()).ToList(),
        ["affected_paths"] = result.AffectedPaths.Select(PathJson).ToList(),
        ["affected_paths_truncated"] = result.AffectedPathsTruncated,
        ["index_files"] = result.IndexFiles,
        ["packs"] = result.Packs,
        ["blobs"] = result.Blobs,
        ["snapshots"] = result.Snapshots,
        ["trees"] = result.Trees,
        ["unreferenced_packs"] = result.UnreferencedPacks,
        ["unused_blobs"] = result.UnusedBlobs,
        ["packs_read"] = result.PacksRead,
        ["bytes_read"] = result.BytesRead,
        ["duration_seconds"] = result.Duration.TotalSeconds,
    };

    private static Dictionary<string, string> PathJson(AffectedPath p) => new() { ["snapshot"] = p.SnapshotId.ToString(), ["path"] = p.Path };
}
