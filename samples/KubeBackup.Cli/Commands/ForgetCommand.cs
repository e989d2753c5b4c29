using System.CommandLine;
using System.Globalization;
using KubeBackup.Restic;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Repository;
using KubeBackup.Restic.Snapshots;
using KubeBackup.Retention;

namespace KubeBackup.Cli.Commands;

/// <summary>restic's <c>forget</c>: remove snapshots by policy (or by ID), with restic's flags and JSON output.</summary>
internal static class ForgetCommand
{
    // Like Go's encoder, leave '+' and non-ASCII text readable (the default escapes them for HTML embedding).

    public static Command Create(GlobalOptions global)
    {
        var ids = new Argument<string[]>("ID") { Arity = ArgumentArity.ZeroOrMore, Description = "snapshot IDs to remove (instead of a policy)" };
        var last = Count("--keep-last", "-l", "keep the last n snapshots (use 'unlimited' to keep all snapshots)");
        var hourly = Count("--keep-hourly", "-H", "keep the last n hourly snapshots (use 'unlimited' to keep all hourly snapshots)");
        var daily = Count("--keep-daily", "-d", "keep the last n daily snapshots (use 'unlimited' to keep all daily snapshots)");
        var weekly = Count("--keep-weekly", "-w", "keep the last n weekly snapshots (use 'unlimited' to keep all weekly snapshots)");
        var monthly = Count("--keep-monthly", "-m", "keep the last n monthly snapshots (use 'unlimited' to keep all monthly snapshots)");
        var yearly = Count("--keep-yearly", "-y", "keep the last n yearly snapshots (use 'unlimited' to keep all yearly snapshots)");
        var within = Duration("--keep-within", "keep snapshots that are newer than duration (eg. 1y5m7d2h) relative to the latest snapshot");
        var withinHourly = Duration("--keep-within-hourly", "keep hourly snapshots that are newer than duration (eg. 1y5m7d2h) relative to the latest snapshot");
        var withinDaily = Duration("--keep-within-daily", "keep daily snapshots that are newer than duration (eg. 1y5m7d2h) relative to the latest snapshot");
        var withinWeekly = Duration("--keep-within-weekly", "keep weekly snapshots that are newer than duration (eg. 1y5m7d2h) relative to the latest snapshot");
        var withinMonthly = Duration("--keep-within-monthly", "keep monthly snapshots that are newer than duration (eg. 1y5m7d2h) relative to the latest snapshot");
        var withinYearly = Duration("--keep-within-yearly", "keep yearly snapshots that are newer than duration (eg. 1y5m7d2h) relative to the latest snapshot");
        var keepTag = new Option<string[]>("--keep-tag") { Description = "keep snapshots with this taglist (can be specified multiple times)" };
        var allowRemoveAll = new Option<bool>("--unsafe-allow-remove-all") { Description = "allow deleting all snapshots of a snapshot group" };
        // No -H here: in forget, restic gives -H to --keep-hourly.
        var host = new Option<string[]>("--host") { Description = "only consider snapshots for this host (can be specified multiple times)" };
        var tag = new Option<string[]>("--tag") { Description = "only consider snapshots including tag[,tag,...] (can be specified multiple times)" };
        var path = new Option<string[]>("--path") { Description = "only consider snapshots including this (absolute) path (can be specified multiple times)" };
        var groupBy = new Option<string>("--group-by", "-g")
        {
            Description = "group snapshots by host, paths and/or tags, separated by comma (disable grouping with '')",
            DefaultValueFactory = _ => "host,paths",
        };
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "do not delete anything, just print what would be done" };
        var prune = new Option<bool>("--prune") { Description = "automatically run the 'prune' command if snapshots have been removed" };
        var compatibility = new Option<string>("--compatibility")
        {
            Description = "whose decisions to reproduce: 'current' (restic 0.17+, default) or '0.14' (Debian bookworm's restic)",
            DefaultValueFactory = _ => "current",
        };

        var command = new Command("forget", "Remove snapshots from the repository")
        {
            ids, last, hourly, daily, weekly, monthly, yearly, within, withinHourly, withinDaily, withinWeekly, withinMonthly, withinYearly,
            keepTag, allowRemoveAll, host, tag, path, groupBy, dryRun, prune, compatibility,
        };
        var pruneFlags = new PruneFlags();
        foreach (var option in pruneFlags.All)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, ct) =>
        {
            var context = new CliContext(parse, global);
            var compat = parse.GetValue(compatibility) switch
            {
                "current" => ResticCompatibility.Current,
                "0.14" => ResticCompatibility.V0_14,
                var other => throw new CliException($"unknown compatibility '{other}': use 'current' or '0.14'"),
            };

            var policy = new RetentionPolicy
            {
                Last = ParseCount(parse, last, compat),
                Hourly = ParseCount(parse, hourly, compat),
                Daily = ParseCount(parse, daily, compat),
                Weekly = ParseCount(parse, weekly, compat),
                Monthly = ParseCount(parse, monthly, compat),
                Yearly = ParseCount(parse, yearly, compat),
                Within = ParseDuration(parse, within),
                WithinHourly = ParseDuration(parse, withinHourly),
                WithinDaily = ParseDuration(parse, withinDaily),
                WithinWeekly = ParseDuration(parse, withinWeekly),
                WithinMonthly = ParseDuration(parse, withinMonthly),
                WithinYearly = ParseDuration(parse, withinYearly),
                KeepTags = [.. (parse.GetValue(keepTag) ?? []).Select(RetentionTags.ParseList)],
            };
            try
            {
                policy.Validate(compat);
            }
            catch (ArgumentException ex)
            {
                throw new CliException(ex.Message);
            }

            RetentionGrouping grouping;
            try
            {
                grouping = RetentionGrouping.Parse(parse.GetValue(groupBy) ?? "");
            }
            catch (FormatException ex)
            {
                throw new CliException(ex.Message);
            }

            var filter = new SnapshotFilter();
            foreach (var h in parse.GetValue(host) ?? []) filter.Hosts.Add(h);
            foreach (var t in parse.GetValue(tag) ?? []) filter.Tags.Add(RetentionTags.ParseList(t));
            foreach (var p in parse.GetValue(path) ?? []) filter.Paths.Add(p);
            bool filtered = filter.Hosts.Count + filter.Tags.Count + filter.Paths.Count > 0;
            bool removeAll = parse.GetValue(allowRemoveAll);
            if (removeAll && !filtered && compat == ResticCompatibility.Current)
            {
                throw new CliException("--unsafe-allow-remove-all is not allowed unless a snapshot filter option is specified");
            }

            // Prune's flags are read (and refused if invalid) before anything is forgotten.
            var pruneOptions = pruneFlags.ToOptions(parse, dryRun: false);
            await using var repo = await context.OpenAsync(ct);
            bool dry = parse.GetValue(dryRun);
            if (parse.GetValue(prune))
            {
                pruneOptions.EnsureSupportedBy(repo);
            }

            // Forget and prune under one exclusive lock, as restic's 'forget --prune' does: the library's operations
            // run under a lock their repository object holds, so there is one lock file and one confirmation pause.
            await using var held = parse.GetValue(prune) && !dry
                ? await KubeBackup.Restic.Locking.RepositoryLock.AcquireAsync(repo, exclusive: true, cancellationToken: ct)
                : null;
            var explicitIds = parse.GetValue(ids) ?? [];
            if (explicitIds.Length > 0)
            {
                int code = await ForgetByIdAsync(context, repo, filter, explicitIds, dry, ct);
                return parse.GetValue(prune) && !dry ? await PruneAfterForgetAsync(context, repo, pruneOptions, ct) : code;
            }

            if (policy.IsEmpty && compat == ResticCompatibility.V0_14)
            {
                // restic 0.14 says so and removes nothing (and prints no JSON at all).
                context.Info("no policy was specified, no snapshots will be removed");
                return ExitCodes.Ok;
            }

            context.Info($"Applying Policy: {policy}");
            var result = await repo.ForgetAsync(policy, new ForgetOptions
            {
                Filter = filter,
                GroupBy = grouping,
                Compatibility = compat,
                AllowRemoveAll = removeAll,
                DryRun = dry,
            }, ct);

            var groups = result.Decisions!.Groups;
            if (context.Json)
            {
                if (groups.Count > 0)
                {
                    Console.Out.WriteLine(JsonOutput.Serialize(groups.Select(g => GroupJson(g, grouping)).ToList(), relaxedEscaping: true));
                }

                return ExitCodes.Ok;
            }

            if (!context.Quiet)
            {
                foreach (var g in groups)
                {
                    PrintGroup(g);
                }
            }

            PrintRemoved(context, result);
            if (parse.GetValue(prune) && !dry && result.Removed.Count > 0)
            {
                return await PruneAfterForgetAsync(context, repo, pruneOptions, ct);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<int> PruneAfterForgetAsync(CliContext context, ResticRepository repo, KubeBackup.Restic.Pruning.PruneOptions options, CancellationToken ct)
    {
        // Under the exclusive lock the command took for both.
        var pruned = await repo.PruneAsync(options, null, ct);
        context.Info($"prune: deleted {pruned.PacksDeleted} packs, repacked {pruned.PacksRepacked}, freed {Formatting.Bytes(pruned.BytesFreed)}");
        return ExitCodes.Ok;
    }

    private static async Task<int> ForgetByIdAsync(CliContext context, ResticRepository repo, SnapshotFilter filter, string[] ids, bool dryRun, CancellationToken ct)
    {
        var all = await repo.ListSnapshotsAsync(ct);
        var chosen = new List<ResticId>();
        foreach (var id in ids)
        {
            try
            {
                chosen.Add(filter.Select(all, id).Id);
            }
            catch (SnapshotNotFoundException ex)
            {
                // restic warns about IDs it cannot find and goes on with the others.
                Console.Error.WriteLine($"Ignoring \"{id}\": {ex.Message}");
            }
        }

        var result = await repo.ForgetSnapshotsAsync(chosen, dryRun, ct);
        PrintRemoved(context, result);
        return ExitCodes.Ok;
    }

    private static void PrintRemoved(CliContext context, ForgetResult result)
    {
        if (result.Removed.Count == 0 || context.Json)
        {
            return;
        }

        if (result.DryRun)
        {
            context.Info("Would have removed the following snapshots:\n{" + string.Join(' ', result.Removed.Select(s => s.Id.ToShortString())) + "}\n");
        }
        else
        {
            context.Info(string.Create(CultureInfo.InvariantCulture, $"removed {result.Removed.Count} snapshots"));
        }
    }

    private static void PrintGroup(RetentionGroup<Snapshot> group)
    {
        string key = group.Key.ToString();
        Console.Out.WriteLine(key.Length > 0 ? $"snapshots for ({key}):" : "snapshots:");
        var keep = group.Decisions.Where(d => d.Keep).ToList();
        var remove = group.Decisions.Where(d => !d.Keep).ToList();
        if (keep.Count > 0)
        {
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"keep {keep.Count} snapshots:"));
            PrintTable(keep, withReasons: true);
        }

        if (remove.Count > 0)
        {
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"remove {remove.Count} snapshots:"));
            PrintTable(remove, withReasons: false);
        }
    }

    private static void PrintTable(List<RetentionDecision<Snapshot>> rows, bool withReasons)
    {
        Console.Out.WriteLine($"{"ID",-9} {"Time",-19}  {"Host",-10}  {"Tags",-10}  {(withReasons ? $"{"Reasons",-16}  " : "")}Paths");
        Console.Out.WriteLine(new string('-', withReasons ? 90 : 72));
        foreach (var d in rows)
        {
            var s = d.Item;
            var reasons = d.Reasons.Select(r => r.Text).ToList();
            var paths = s.Paths.Count > 0 ? s.Paths : [""];
            int lines = Math.Max(paths.Count, withReasons ? reasons.Count : 1);
            for (int i = 0; i < lines; i++)
            {
                string first = i == 0
                    ? $"{s.Id.ToShortString(),-9} {Formatting.Time(s.Time),-19}  {s.Hostname,-10}  {string.Join(',', s.Tags ?? []),-10}"
                    : $"{"",-9} {"",-19}  {"",-10}  {"",-10}";
                string reason = withReasons ? $"{(i < reasons.Count ? reasons[i] : ""),-16}  " : "";
                Console.Out.WriteLine($"{first}  {reason}{(i < paths.Count ? paths[i] : "")}");
            }
        }

        Console.Out.WriteLine(new string('-', withReasons ? 90 : 72));
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rows.Count} snapshots"));
        Console.Out.WriteLine();
    }

    /// <summary>One element of restic's <c>forget --json</c> array: the group key, the snapshots kept and removed,
    /// and a reason (matches and counters) for every kept snapshot.</summary>
    private static Dictionary<string, object?> GroupJson(RetentionGroup<Snapshot> group, RetentionGrouping grouping)
    {
        var keep = group.Decisions.Where(d => d.Keep).ToList();
        var remove = group.Decisions.Where(d => !d.Keep).ToList();
        return new Dictionary<string, object?>
        {
            // restic prints null for an empty or ungrouped tag or path list: Go's nil slice.
            ["tags"] = group.Key.Tags is { Count: > 0 } tags ? tags : null,
            ["host"] = group.Key.Host,
            ["paths"] = group.Key.Paths,
            ["keep"] = keep.Count > 0 ? keep.Select(d => SnapshotJson(d.Item, grouping)).ToList() : null,
            ["remove"] = remove.Count > 0 ? remove.Select(d => SnapshotJson(d.Item, grouping)).ToList() : null,
            ["reasons"] = keep.Count > 0 ? keep.Select(d => ReasonJson(d, grouping)).ToList() : null,
        };
    }

    private static Dictionary<string, object?> SnapshotJson(Snapshot s, RetentionGrouping grouping)
    {
        var d = SnapshotsCommand.ToJson(s);
        // restic sorts a snapshot's paths (and, when grouping by tags, its tags) in place while grouping, so its output
        // shows them sorted.
        d["paths"] = s.Paths.Order(StringComparer.Ordinal).ToList();
        if (grouping.Tags && s.Tags is { Count: > 0 } tags)
        {
            d["tags"] = tags.Order(StringComparer.Ordinal).ToList();
        }

        return d;
    }

    private static Dictionary<string, object?> ReasonJson(RetentionDecision<Snapshot> decision, RetentionGrouping grouping)
    {
        var c = decision.Counters;
        var counters = new Dictionary<string, int>();
        foreach (var (name, value) in new[] { ("last", c.Last), ("hourly", c.Hourly), ("daily", c.Daily), ("weekly", c.Weekly), ("monthly", c.Monthly), ("yearly", c.Yearly) })
        {
            if (value != 0)
            {
                counters[name] = value;
            }
        }

        return new Dictionary<string, object?>
        {
            ["snapshot"] = SnapshotJson(decision.Item, grouping),
            ["matches"] = decision.Reasons.Select(r => r.Text).ToList(),
            ["counters"] = counters,
        };
    }

    private static Option<string?> Count(string name, string alias, string description) => new(name, alias) { Description = description };

    private static Option<string?> Duration(string name, string description) => new(name) { Description = description };

    private static int ParseCount(ParseResult parse, Option<string?> option, ResticCompatibility compat)
    {
        var text = parse.GetValue(option);
        if (text is null)
        {
            return 0;
        }

        if (text == "unlimited" && compat == ResticCompatibility.Current)
        {
            return RetentionPolicy.Unlimited;
        }

        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value))
        {
            throw new CliException($"invalid argument \"{text}\" for \"{option.Name}\": not a number");
        }

        // Current restic takes "unlimited" instead of negative numbers; 0.14 took any number (negatives did nothing).
        if (value < 0 && compat == ResticCompatibility.Current)
        {
            throw new CliException($"invalid argument \"{text}\" for \"{option.Name}\": negative values not allowed, use 'unlimited' instead");
        }

        return value;
    }

    private static RetentionDuration ParseDuration(ParseResult parse, Option<string?> option)
    {
        var text = parse.GetValue(option);
        if (text is null)
        {
            return default;
        }

        try
        {
            return RetentionDuration.Parse(text);
        }
        catch (FormatException ex)
        {
            throw new CliException($"invalid argument \"{text}\" for \"{option.Name}\": {ex.Message}");
        }
    }
}
