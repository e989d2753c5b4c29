using System.Text.Json;
using KubeBackup.Restic;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Snapshots;
using KubeBackup.Retention;
using KubeBackup.Tests.Support;
using Xunit.Abstractions;

namespace KubeBackup.Tests.Retention;

/// <summary>
/// One real restic repository holding every history of <see cref="SnapshotHistories"/>: initialised by us with a
/// cheap KDF (so each restic run is quick), one real <c>restic backup</c> for a tree, and the history snapshots
/// written by our library with that tree (restic's forget reads only snapshot documents; and restic 0.14's
/// <c>--time</c> cannot record a UTC offset, so this is the only way to get varied offsets).
/// </summary>
public sealed class ResticHistoryRepository : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("retention");

    public string RepositoryPath => _dir.Combine("repo");

    public ResticCli Restic { get; private set; } = null!;

    public IReadOnlyList<Snapshot> Snapshots { get; private set; } = [];

    public Dictionary<ResticId, Snapshot> ById { get; } = new();

    public async Task InitializeAsync()
    {
        await using (var repo = await TestRepository.InitAsync(RepositoryPath))
        {
            Restic = new ResticCli(RepositoryPath, TestRepository.Password);
            // restic parses a stored offset as the local zone when they coincide; with TZ=UTC that zone has no DST, so
            // its calendar arithmetic is the fixed-offset arithmetic we do.
            Restic.Environment["TZ"] = "UTC";
            var source = _dir.Combine("src");
            Directory.CreateDirectory(source);
            await File.WriteAllTextAsync(Path.Combine(source, "file.txt"), "retention");
            await Restic.RunCheckedAsync("backup", "--host", "seed", source);
            var seed = Assert.Single(await repo.ListSnapshotsAsync());

            foreach (var (_, history) in SnapshotHistories.All())
            {
                foreach (var p in history)
                {
                    await repo.SaveSnapshotAsync(new Snapshot
                    {
                        Time = p.Time,
                        Tree = seed.Tree,
                        Paths = [.. p.Paths],
                        Hostname = p.Host,
                        Username = "kb",
                        Tags = p.Tags.Length > 0 ? [.. p.Tags] : null,
                    }, CancellationToken.None);
                }
            }

            Snapshots = await repo.ListSnapshotsAsync();
        }

        foreach (var s in Snapshots)
        {
            ById[s.Id] = s;
        }
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// Same decisions as restic: for many policies, the installed restic (Debian's 0.14) decides with
/// <c>forget --dry-run --json</c>, and our evaluator in <see cref="ResticCompatibility.V0_14"/> mode must decide the
/// same for every group: the same groups, the same snapshots kept and removed in the same order, the same reasons and
/// counters.
/// </summary>
/// <remarks>
/// restic 0.14 reads snapshots with two parallel workers, so the order of snapshots with the same instant (which its
/// stable sort keeps) differs from run to run, and with it which of them a bucket keeps. The comparison therefore
/// asks whether some order of each group of equal instants makes our decisions identical to restic's; the order of
/// the kept ones among themselves and of the removed ones among themselves is fixed by restic's lists, so only their
/// interleaving is searched.
/// </remarks>
public sealed class ResticForgetComparisonTests : IClassFixture<ResticHistoryRepository>
{
    private readonly ResticHistoryRepository _repo;
    private readonly ITestOutputHelper _output;

    public ResticForgetComparisonTests(ResticHistoryRepository repo, ITestOutputHelper output)
    {
        _repo = repo;
        _output = output;
    }

    /// <summary>The 40 policies of restic's TestApplyPolicy, in its order, as restic 0.14 takes them (−1 counts
    /// included: 0.14 accepts them and ignores the rule, which our 0.14 mode must reproduce too).</summary>
    public static readonly string[] GoldenPolicies =
    [
        "",
        "--keep-last=10", "--keep-last=15", "--keep-last=99", "--keep-last=200",
        "--keep-hourly=20",
        "--keep-daily=3", "--keep-daily=10", "--keep-daily=30",
        "--keep-last=5 --keep-daily=5", "--keep-last=2 --keep-daily=10",
        "--keep-weekly=2", "--keep-weekly=4", "--keep-daily=3 --keep-weekly=4",
        "--keep-monthly=6", "--keep-daily=2 --keep-weekly=2 --keep-monthly=6",
        "--keep-yearly=10", "--keep-daily=7 --keep-weekly=2 --keep-monthly=3 --keep-yearly=10",
        "--keep-tag=foo", "--keep-tag=foo,bar", "--keep-tag=foo --keep-tag=bar",
        "--keep-within=1d", "--keep-within=2d", "--keep-within=7d", "--keep-within=1m", "--keep-within=1m14d",
        "--keep-within=1y1d1m", "--keep-within=13d23h", "--keep-within=2m2h", "--keep-within=1y2m3d3h",
        "--keep-within-hourly=1y2m3d3h", "--keep-within-daily=1y2m3d3h", "--keep-within-weekly=1y2m3d3h",
        "--keep-within-monthly=1y2m3d3h", "--keep-within-yearly=1y2m3d3h",
        "--keep-within=1h --keep-within-hourly=1d --keep-within-daily=7d --keep-within-weekly=1m --keep-within-monthly=1y --keep-within-yearly=9999y",
        "--keep-last=-1", "--keep-last=-1 --keep-hourly=-1", "--keep-hourly=-1",
        "--keep-daily=3 --keep-weekly=2 --keep-monthly=-1 --keep-yearly=-1",
    ];

    /// <summary>Grouping variants, filters, and rules the golden list does not reach.</summary>
    public static readonly string[] MorePolicies =
    [
        "--group-by=host --keep-daily=3 --keep-weekly=2 --keep-tag=foo",
        "--group-by=paths --keep-daily=3 --keep-weekly=2 --keep-tag=foo",
        "--group-by=tags --keep-daily=3 --keep-weekly=2 --keep-tag=foo",
        "--group-by= --keep-daily=3 --keep-weekly=2 --keep-tag=foo",
        "--group-by=host,tags --keep-last=3 --keep-monthly=2",
        "--group-by=paths,tags --keep-hourly=5 --keep-within=2d",
        "--group-by=host,paths,tags --keep-weekly=3 --keep-yearly=2",
        "--group-by= --keep-last=20 --keep-within=1m",
        "--host=dense --keep-daily=5",
        "--host=web-1 --host=db --keep-weekly=3",
        "--tag=foo --keep-last=3",
        "--tag=foo,bar --keep-monthly=2",
        "--tag= --keep-daily=2",
        "--path=/data --keep-hourly=10",
        "--path=/etc --path=/data --keep-last=2",
        "--tag=daily --tag=manual --keep-within=2d",
        "--keep-tag= --keep-last=1",
        "--keep-within=1m1d", "--keep-within=25h", "--keep-within=1y", "--keep-within=3m",
        "--keep-hourly=50 --keep-within-daily=1m",
        "--keep-weekly=60",
        "--keep-monthly=1 --keep-yearly=1",
        "--keep-within-weekly=2y --keep-last=1",
        "--keep-within=-1d --keep-last=2",
        "--keep-daily=-3 --keep-last=2",
    ];

    public static TheoryData<string> Golden => [.. GoldenPolicies];

    public static TheoryData<string> More => [.. MorePolicies];

    [Theory]
    [MemberData(nameof(Golden))]
    public Task Restic_0_14_and_our_0_14_mode_decide_the_same_for_restics_own_policies(string flags) => CompareAsync(flags);

    [Theory]
    [MemberData(nameof(More))]
    public Task Restic_0_14_and_our_0_14_mode_decide_the_same_with_grouping_filters_and_edge_rules(string flags) => CompareAsync(flags);

    private async Task CompareAsync(string flags)
    {
        var args = flags.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var result = await _repo.Restic.RunAsync(["--no-lock", "forget", "--dry-run", "--json", .. args], stdin: null, workingDirectory: null);
        result.EnsureSuccess("restic forget " + flags);

        var (policy, options, filter) = ParseFlags(args);
        if (policy.IsEmpty)
        {
            // restic 0.14 applies no empty policy at all: nothing removed, no JSON.
            Assert.Equal("", result.StandardOutput.Trim());
            var all = SnapshotRetention.Evaluate(_repo.Snapshots, policy, options);
            Assert.Empty(all.Remove);
            return;
        }

        var selected = _repo.Snapshots.Where(filter.Matches).OrderBy(s => s.Id).ToList();
        var ours = SnapshotRetention.Evaluate(selected, policy, options);
        var theirs = JsonDocument.Parse(result.StandardOutput).RootElement.EnumerateArray().Select(ResticGroup.Parse).ToList();

        // The same groups, with the same members.
        Assert.Equal(ours.Groups.Count, theirs.Count);
        int searched = 0;
        foreach (var group in theirs)
        {
            var mine = ours.Groups.SingleOrDefault(g => SameKey(g.Key, group));
            Assert.True(mine is not null, $"restic has a group ({group.Host}, {Fmt(group.Paths)}, {Fmt(group.Tags)}) that we do not");
            Assert.Equal(group.Keep.Concat(group.Remove).Order(), mine.Decisions.Select(d => d.Item.Id).Order());
            if (!MatchesSomeTieOrder(group, policy, options, out bool neededSearch, out string why))
            {
                Assert.Fail($"group ({group.Host}, {Fmt(group.Paths)}, {Fmt(group.Tags)}) with policy '{flags}': {why}");
            }

            searched += neededSearch ? 1 : 0;
        }

        _output.WriteLine($"{flags}: {theirs.Count} groups identical ({searched} needed restic's order of equal instants), " +
            $"{theirs.Sum(g => g.Keep.Count)} kept, {theirs.Sum(g => g.Remove.Count)} removed");
    }

    private static string Fmt(IReadOnlyList<string>? list) => list is null ? "null" : "[" + string.Join(' ', list) + "]";

    private static bool SameKey(RetentionGroupKey key, ResticGroup g) =>
        key.Host == g.Host
        && (key.Paths ?? []).SequenceEqual(g.Paths ?? [])
        && (key.Tags ?? []).SequenceEqual(g.Tags ?? []);

    /// <summary>Finds an order of restic's group (its lists merged by time; within equal instants, some interleaving of
    /// the kept and the removed) for which our evaluator decides exactly as restic did.</summary>
    private bool MatchesSomeTieOrder(ResticGroup group, RetentionPolicy policy, RetentionOptions options, out bool neededSearch, out string why)
    {
        var keepPos = group.Keep.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i);
        var members = group.Keep.Concat(group.Remove).Select(id => _repo.ById[id]).ToList();

        // Classes of equal instants, newest first; within a class, restic's kept then removed order.
        var classes = members
            .GroupBy(s => (s.Time.UnixSeconds, s.Time.Nanoseconds))
            .OrderByDescending(c => c.Key)
            .Select(c => (Keep: c.Where(s => keepPos.ContainsKey(s.Id)).OrderBy(s => keepPos[s.Id]).ToList(),
                          Remove: c.Where(s => !keepPos.ContainsKey(s.Id)).OrderBy(s => group.Remove.IndexOf(s.Id)).ToList()))
            .ToList();
        var choice = classes.Select(c => Interleavings(c.Keep, c.Remove).ToList()).ToList();
        var ungrouped = new RetentionOptions { GroupBy = RetentionGrouping.None, Compatibility = options.Compatibility, TimeProvider = options.TimeProvider };
        var picked = new int[classes.Count];
        string lastWhy = "";

        List<Snapshot> Order() => [.. choice.SelectMany((c, i) => c[picked[i]])];

        // Depth-first over the classes that have more than one interleaving; a choice is kept only while every
        // decision up to the end of its class matches, and undone if a later class cannot be matched.
        bool Search(int classIndex, int checkedUpTo)
        {
            int end = checkedUpTo;
            while (classIndex < classes.Count && choice[classIndex].Count == 1)
            {
                end += choice[classIndex].Single().Count;
                classIndex++;
            }

            if (classIndex == classes.Count)
            {
                return Matches(Order(), end, out lastWhy);
            }

            int size = classes[classIndex].Keep.Count + classes[classIndex].Remove.Count;
            for (int option = 0; option < choice[classIndex].Count; option++)
            {
                picked[classIndex] = option;
                if (Matches(Order(), end + size, out lastWhy) && Search(classIndex + 1, end + size))
                {
                    return true;
                }
            }

            picked[classIndex] = 0;
            return false;
        }

        bool Matches(List<Snapshot> order, int upTo, out string reason)
        {
            var decisions = SnapshotRetention.Evaluate(order, policy, ungrouped).Groups.Single().Decisions;
            for (int i = 0; i < Math.Min(upTo, decisions.Count); i++)
            {
                var d = decisions[i];
                if (d.Item.Id != order[i].Id)
                {
                    reason = $"our sort moved {d.Item.Id.ToShortString()}";
                    return false;
                }

                bool theyKeep = keepPos.TryGetValue(d.Item.Id, out int kp);
                if (d.Keep != theyKeep)
                {
                    reason = $"{d.Item.Id.ToShortString()} at {d.Item.Time}: restic {(theyKeep ? "keeps" : "removes")} it, we {(d.Keep ? "keep" : "remove")} it ({string.Join(", ", d.Reasons)})";
                    return false;
                }

                if (theyKeep)
                {
                    var (matches, counters) = group.Reasons[kp];
                    var ourCounters = new Dictionary<string, int>
                    {
                        ["last"] = d.Counters.Last, ["hourly"] = d.Counters.Hourly, ["daily"] = d.Counters.Daily,
                        ["weekly"] = d.Counters.Weekly, ["monthly"] = d.Counters.Monthly, ["yearly"] = d.Counters.Yearly,
                    }.Where(kv => kv.Value != 0).ToDictionary();
                    if (!matches.SequenceEqual(d.Reasons.Select(r => r.Text)) || !counters.OrderBy(kv => kv.Key).SequenceEqual(ourCounters.OrderBy(kv => kv.Key)))
                    {
                        reason = $"{d.Item.Id.ToShortString()} at {d.Item.Time}: restic says [{string.Join(", ", matches)}] {string.Join(' ', counters)}, we say [{string.Join(", ", d.Reasons)}] {d.Counters}";
                        return false;
                    }

                }
            }

            reason = "";
            return true;
        }

        bool ok = Search(0, 0);
        neededSearch = ok && picked.Any(p => p != 0);
        why = lastWhy;
        return ok;
    }

    /// <summary>Every merge of two ordered lists that keeps the order within each, the kept-first one first.</summary>
    private static IEnumerable<List<Snapshot>> Interleavings(List<Snapshot> a, List<Snapshot> b)
    {
        if (a.Count == 0 || b.Count == 0)
        {
            yield return [.. a, .. b];
            yield break;
        }

        foreach (var rest in Interleavings(a[1..], b))
        {
            yield return [a[0], .. rest];
        }

        foreach (var rest in Interleavings(a, b[1..]))
        {
            yield return [b[0], .. rest];
        }
    }

    /// <summary>Builds our policy, options and filter from the restic flags (all in <c>--name=value</c> form).</summary>
    internal static (RetentionPolicy Policy, RetentionOptions Options, SnapshotFilter Filter) ParseFlags(string[] args)
    {
        var policy = new RetentionPolicy();
        var grouping = RetentionGrouping.Default;
        var filter = new SnapshotFilter();
        var keepTags = new List<IReadOnlyList<string>>();
        foreach (var arg in args)
        {
            int eq = arg.IndexOf('=', StringComparison.Ordinal);
            string name = arg[..eq], value = arg[(eq + 1)..];
            policy = name switch
            {
                "--keep-last" => policy with { Last = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
                "--keep-hourly" => policy with { Hourly = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
                "--keep-daily" => policy with { Daily = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
                "--keep-weekly" => policy with { Weekly = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
                "--keep-monthly" => policy with { Monthly = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
                "--keep-yearly" => policy with { Yearly = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
                "--keep-within" => policy with { Within = RetentionDuration.Parse(value) },
                "--keep-within-hourly" => policy with { WithinHourly = RetentionDuration.Parse(value) },
                "--keep-within-daily" => policy with { WithinDaily = RetentionDuration.Parse(value) },
                "--keep-within-weekly" => policy with { WithinWeekly = RetentionDuration.Parse(value) },
                "--keep-within-monthly" => policy with { WithinMonthly = RetentionDuration.Parse(value) },
                "--keep-within-yearly" => policy with { WithinYearly = RetentionDuration.Parse(value) },
                _ => policy,
            };
            switch (name)
            {
                case "--keep-tag": keepTags.Add(RetentionTags.ParseList(value)); break;
                case "--group-by": grouping = RetentionGrouping.Parse(value); break;
                case "--host": filter.Hosts.Add(value); break;
                case "--tag": filter.Tags.Add(RetentionTags.ParseList(value)); break;
                case "--path": filter.Paths.Add(value); break;
            }
        }

        policy = policy with { KeepTags = keepTags };
        return (policy, new RetentionOptions { GroupBy = grouping, Compatibility = ResticCompatibility.V0_14 }, filter);
    }

    /// <summary>One element of restic 0.14's <c>forget --json</c> output.</summary>
    private sealed record ResticGroup(string Host, List<string>? Paths, List<string>? Tags, List<ResticId> Keep, List<ResticId> Remove,
        List<(List<string> Matches, Dictionary<string, int> Counters)> Reasons)
    {
        public static ResticGroup Parse(JsonElement e)
        {
            static List<string>? Strings(JsonElement x) => x.ValueKind == JsonValueKind.Null ? null : [.. x.EnumerateArray().Select(s => s.GetString()!)];
            static List<ResticId> Ids(JsonElement x) =>
                x.ValueKind == JsonValueKind.Null ? [] : [.. x.EnumerateArray().Select(s => ResticId.Parse(s.GetProperty("id").GetString()!))];
            var reasons = e.GetProperty("reasons").ValueKind == JsonValueKind.Null ? [] : e.GetProperty("reasons").EnumerateArray()
                .Select(r => (Strings(r.GetProperty("matches")) ?? [],
                    r.GetProperty("counters").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32())))
                .ToList();
            return new ResticGroup(e.GetProperty("host").GetString()!, Strings(e.GetProperty("paths")), Strings(e.GetProperty("tags")),
                Ids(e.GetProperty("keep")), Ids(e.GetProperty("remove")), reasons);
        }
    }
}
