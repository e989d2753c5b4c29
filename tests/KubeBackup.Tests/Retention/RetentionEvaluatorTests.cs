using KubeBackup.Restic.Model;
using KubeBackup.Retention;

namespace KubeBackup.Tests.Retention;

/// <summary>The evaluator's rules one at a time, on generic items (the CSI driver's VolumeSnapshots use the same API).</summary>
public class RetentionEvaluatorTests
{
    /// <summary>Something that is not a restic snapshot: a volume snapshot with a creation time and labels.</summary>
    private sealed record VolumeSnapshot(string Name, DateTimeOffset Created, string Namespace, string Claim, string[] Labels);

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static RetentionSubject Describe(VolumeSnapshot v) => new(v.Created, v.Namespace, [v.Claim], v.Labels);

    private static VolumeSnapshot Vs(string name, string created, string ns = "prod", string claim = "data", params string[] labels) =>
        new(name, DateTimeOffset.Parse(created, System.Globalization.CultureInfo.InvariantCulture), ns, claim, labels);

    private static RetentionResult<VolumeSnapshot> Evaluate(IEnumerable<VolumeSnapshot> items, RetentionPolicy policy, RetentionOptions? options = null) =>
        RetentionEvaluator.Evaluate(items, Describe, policy, options);

    private static string[] Kept(RetentionResult<VolumeSnapshot> r) => [.. r.Keep.Select(v => v.Name)];

    [Fact]
    public void Works_on_any_dated_item_grouped_by_its_host_and_paths()
    {
        var items = new[]
        {
            Vs("a1", "2025-06-01T10:00:00Z"), Vs("a2", "2025-06-01T11:00:00Z"), Vs("a3", "2025-06-02T09:00:00Z"),
            Vs("b1", "2025-06-01T10:00:00Z", ns: "staging"), Vs("c1", "2025-05-01T10:00:00Z", claim: "logs"),
        };
        var result = Evaluate(items, new RetentionPolicy { Daily = 1 });

        Assert.Equal(["a3", "c1", "b1"], Kept(result));
        Assert.Equal(["a2", "a1"], result.Remove.Select(v => v.Name));
        Assert.Equal(3, result.Groups.Count);
        var prod = result.Groups[0];
        Assert.Equal("host prod, path [data]", prod.Key.ToString());
        Assert.Equal(["daily snapshot"], prod.Decisions[0].Reasons.Select(r => r.Text));
        Assert.Equal(RetentionRule.Daily, prod.Decisions[0].Reasons[0].Rule);
        Assert.False(prod.Decisions[1].Keep);
    }

    [Fact]
    public void Calendar_buckets_use_each_items_own_wall_clock_not_UTC()
    {
        // Both are on Jan 1 in UTC, but the first was taken on Jan 2 where it was taken.
        var items = new[] { Vs("east", "2025-01-02T00:30:00+02:00"), Vs("utc", "2025-01-01T21:00:00Z") };
        var result = Evaluate(items, new RetentionPolicy { Daily = 5 }, new RetentionOptions { Compatibility = ResticCompatibility.V0_14 });
        Assert.Equal(["east", "utc"], Kept(result));
    }

    [Fact]
    public void Current_semantics_keep_the_oldest_item_while_a_rule_has_room_and_0_14_does_not()
    {
        var items = new[] { Vs("new", "2025-06-01T18:00:00Z"), Vs("mid", "2025-06-01T12:00:00Z"), Vs("old", "2025-06-01T06:00:00Z") };
        var policy = new RetentionPolicy { Daily = 5 };

        var current = Evaluate(items, policy).Groups.Single();
        Assert.Equal(["new", "old"], current.Keep.Select(v => v.Name));
        var oldest = current.Decisions[2].Reasons.Single();
        Assert.True(oldest.IsOldest);
        Assert.Equal("oldest daily snapshot", oldest.Text);
        Assert.Equal(3, current.Decisions[2].Counters.Daily);

        var v014 = Evaluate(items, policy, new RetentionOptions { Compatibility = ResticCompatibility.V0_14 }).Groups.Single();
        Assert.Equal(["new"], v014.Keep.Select(v => v.Name));
    }

    [Fact]
    public void Unlimited_counts_keep_every_bucket_in_current_semantics_and_nothing_in_0_14()
    {
        var items = Enumerable.Range(1, 10).SelectMany(d => new[]
        {
            Vs($"d{d}-late", $"2025-06-{d:00}T20:00:00Z"), Vs($"d{d}-early", $"2025-06-{d:00}T08:00:00Z"),
        }).ToList();
        var policy = new RetentionPolicy { Daily = RetentionPolicy.Unlimited, Last = 1 };

        var current = Evaluate(items, policy).Groups.Single();
        Assert.Equal(11, current.Keep.Count); // ten days, plus the oldest item
        Assert.All(current.Decisions, d => Assert.Equal(RetentionPolicy.Unlimited, d.Counters.Daily));

        // 0.14 took -1 without complaint and ignored the rule: only --keep-last 1 acts.
        var v014 = Evaluate(items, policy, new RetentionOptions { Compatibility = ResticCompatibility.V0_14 });
        Assert.Equal(["d10-late"], Kept(v014));
    }

    [Fact]
    public void An_empty_policy_is_refused_removes_all_when_allowed_and_keeps_all_in_0_14()
    {
        var items = new[] { Vs("a", "2025-06-01T10:00:00Z"), Vs("b", "2025-06-02T10:00:00Z") };
        var empty = new RetentionPolicy();
        Assert.True(empty.IsEmpty);

        var ex = Assert.Throws<RetentionException>(() => Evaluate(items, empty));
        Assert.Equal("no policy was specified, no snapshots will be removed", ex.Message);
        Assert.Empty(Evaluate(items, empty, new RetentionOptions { AllowRemoveAll = true }).Keep);

        var v014 = Evaluate(items, empty, new RetentionOptions { Compatibility = ResticCompatibility.V0_14 });
        Assert.Equal(["b", "a"], Kept(v014));
        Assert.All(v014.Groups.Single().Decisions, d => Assert.Equal(RetentionRule.PolicyEmpty, d.Reasons.Single().Rule));
    }

    [Fact]
    public void A_policy_that_would_empty_a_group_is_refused_in_current_semantics_only()
    {
        var items = new[] { Vs("tagged", "2025-06-01T10:00:00Z", labels: "keep"), Vs("plain", "2025-06-02T10:00:00Z", ns: "other") };
        var policy = new RetentionPolicy { KeepTags = [["keep"]] };

        var ex = Assert.Throws<RetentionException>(() => Evaluate(items, policy));
        Assert.Equal("refusing to delete last snapshot of snapshot group \"host other, path [data]\"", ex.Message);

        var v014 = Evaluate(items, policy, new RetentionOptions { Compatibility = ResticCompatibility.V0_14 });
        Assert.Equal(["tagged"], Kept(v014));
        Assert.Equal(["plain"], v014.Remove.Select(v => v.Name));
    }

    [Fact]
    public void Within_counts_back_from_the_newest_item_that_is_not_in_the_future()
    {
        var clock = new FixedClock(new DateTimeOffset(2025, 6, 10, 12, 0, 0, TimeSpan.Zero));
        var items = new[]
        {
            Vs("future", "2025-07-01T00:00:00Z"), Vs("latest", "2025-06-09T12:00:00Z"),
            Vs("day-before", "2025-06-08T12:00:00.0000001Z"), Vs("on-threshold", "2025-06-08T12:00:00Z"), Vs("old", "2025-06-01T00:00:00Z"),
        };
        var result = Evaluate(items, new RetentionPolicy { Within = RetentionDuration.Parse("1d") }, new RetentionOptions { TimeProvider = clock });

        // The threshold is latest − 1d; the future item is after it too. Exactly on the threshold is not "within".
        Assert.Equal(["future", "latest", "day-before"], Kept(result));
        Assert.Equal("within 1d", result.Groups.Single().Decisions[0].Reasons.Single().Text);
    }

    [Fact]
    public void When_everything_is_in_the_future_within_rules_keep_everything()
    {
        var clock = new FixedClock(new DateTimeOffset(2025, 6, 10, 12, 0, 0, TimeSpan.Zero));
        var items = new[] { Vs("a", "2030-01-01T00:00:00Z"), Vs("b", "2031-01-01T00:00:00Z") };
        var result = Evaluate(items, new RetentionPolicy { Within = RetentionDuration.Parse("1d"), WithinDaily = RetentionDuration.Parse("1d") },
            new RetentionOptions { TimeProvider = clock });
        Assert.Equal(["b", "a"], Kept(result));
    }

    [Fact]
    public void Items_with_the_same_instant_keep_their_input_order()
    {
        // Same instant, different offsets: the first in input order takes the (yearly) bucket.
        var a = Vs("a", "2025-06-01T12:00:00+02:00");
        var b = Vs("b", "2025-06-01T10:00:00Z");
        var options = new RetentionOptions { Compatibility = ResticCompatibility.V0_14 };
        Assert.Equal(["a"], Kept(Evaluate([a, b], new RetentionPolicy { Yearly = 3 }, options)));
        Assert.Equal(["b"], Kept(Evaluate([b, a], new RetentionPolicy { Yearly = 3 }, options)));
    }

    [Fact]
    public void Keep_tag_lists_follow_restics_matching_including_the_empty_tag()
    {
        var items = new[]
        {
            Vs("ab", "2025-06-05T00:00:00Z", labels: ["a", "b"]), Vs("a", "2025-06-04T00:00:00Z", labels: ["a"]),
            Vs("none", "2025-06-03T00:00:00Z"), Vs("c", "2025-06-02T00:00:00Z", labels: ["c"]),
        };
        var options = new RetentionOptions { Compatibility = ResticCompatibility.V0_14 };
        var result = Evaluate(items, new RetentionPolicy { KeepTags = [RetentionTags.ParseList("a,b"), RetentionTags.ParseList("")] }, options);
        Assert.Equal(["ab", "none"], Kept(result));
        Assert.Equal("has tags [a, b]", result.Groups.Single().Decisions[0].Reasons.Single().Text);
        Assert.Equal("has tags []", result.Groups.Single().Decisions[2].Reasons.Single().Text);

        // restic's quirk: the empty tag ends the check for an untagged item, whatever follows it.
        Assert.True(RetentionTags.HasAll([], ["", "x"]));
        Assert.False(RetentionTags.HasAll(["x"], ["", "x"]));
        Assert.True(RetentionTags.HasAll(["x"], []));
        Assert.Equal(["a", "b", ""], RetentionTags.ParseList(" a , b ,"));
    }

    [Fact]
    public void Group_keys_sort_paths_and_tags_and_ignore_what_is_not_grouped()
    {
        var items = new[]
        {
            new VolumeSnapshot("x", DateTimeOffset.Parse("2025-06-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture), "h", "p", ["b", "a"]),
            new VolumeSnapshot("y", DateTimeOffset.Parse("2025-06-02T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture), "h", "p", ["a", "b"]),
        };
        var result = RetentionEvaluator.Evaluate(items, v => new RetentionSubject(v.Created, v.Namespace, ["/z", "/a"], v.Labels),
            new RetentionPolicy { Last = 1 }, new RetentionOptions { GroupBy = RetentionGrouping.Parse("host,paths,tags") });
        var group = Assert.Single(result.Groups);
        Assert.Equal(["/a", "/z"], group.Key.Paths);
        Assert.Equal(["a", "b"], group.Key.Tags);
        Assert.Equal("host h, path [/a /z], tags [a b]", group.Key.ToString());

        var none = RetentionEvaluator.Evaluate(items, Describe, new RetentionPolicy { Last = 1 }, new RetentionOptions { GroupBy = RetentionGrouping.None });
        Assert.Equal(new RetentionGroupKey("", null, null), Assert.Single(none.Groups).Key);
    }

    [Theory]
    [InlineData("host,paths", true, true, false, "host,paths")]
    [InlineData("", false, false, false, "")]
    [InlineData("tag", false, false, true, "tags")]
    [InlineData("hosts,,path,tags", true, true, true, "host,paths,tags")]
    public void Grouping_parses_restics_option(string text, bool host, bool paths, bool tags, string printed)
    {
        var g = RetentionGrouping.Parse(text);
        Assert.Equal(new RetentionGrouping(host, paths, tags), g);
        Assert.Equal(printed, g.ToString());
    }

    [Fact]
    public void Unknown_grouping_is_an_error()
    {
        Assert.Equal("unknown grouping option: 'label'", Assert.Throws<FormatException>(() => RetentionGrouping.Parse("host,label")).Message);
    }

    [Fact]
    public void Policy_describes_itself_as_restic_does()
    {
        var policy = new RetentionPolicy
        {
            Daily = 7, Weekly = 4, Monthly = RetentionPolicy.Unlimited,
            WithinHourly = RetentionDuration.Parse("1d"), KeepTags = [["foo"], ["a", "b"]], Within = RetentionDuration.Parse("2d"),
        };
        Assert.Equal("keep 7 daily, 4 weekly, all monthly snapshots, hourly snapshots within 1d and all snapshots with tags [[foo] [a, b]] " +
            "and all snapshots within 2d of the newest", policy.ToString());
        Assert.Equal("remove", new RetentionPolicy().ToString());
    }

    [Fact]
    public void Validation_follows_current_restic_and_0_14_accepts_anything()
    {
        Assert.Throws<ArgumentException>(() => new RetentionPolicy { Daily = -2 }.Validate());
        Assert.Throws<ArgumentException>(() => new RetentionPolicy { Within = new RetentionDuration(0, 0, -1, 0) }.Validate());
        new RetentionPolicy { Daily = RetentionPolicy.Unlimited }.Validate();
        new RetentionPolicy { Daily = -2, Within = new RetentionDuration(0, 0, -1, 0) }.Validate(ResticCompatibility.V0_14);
        Assert.Throws<ArgumentException>(() => Evaluate([Vs("a", "2025-06-01T00:00:00Z")], new RetentionPolicy { Last = -5 }));
    }
}
