using KubeBackup.Restic.Model;

namespace KubeBackup.Retention;

/// <summary>
/// Applies a <see cref="RetentionPolicy"/> to dated items with restic's <c>forget</c> semantics: items are grouped,
/// each group is sorted newest first, and every item is kept or removed with the reasons restic would give.
/// </summary>
/// <remarks>
/// <para>Per group, in order from the newest item: the tag lists, then <c>Within</c>, then the count rules (last,
/// hourly, daily, weekly, monthly, yearly), then the <c>Within*</c> bucket rules are asked. A count rule keeps an item
/// when its bucket (hour, day, ISO week, month or year of the item's wall clock in its own UTC offset; for "last", the
/// item itself) differs from the bucket of the previous item that rule kept, and the rule has count left. "Within"
/// durations count back from the newest item that is not in the future, using Go's calendar arithmetic.</para>
/// <para>Items with the same instant keep their input order (restic's sort is stable too, though the order in which
/// restic reads snapshots varies from run to run).</para>
/// </remarks>
public static class RetentionEvaluator
{
    private static readonly string[] CountReasons =
        ["last snapshot", "hourly snapshot", "daily snapshot", "weekly snapshot", "monthly snapshot", "yearly snapshot"];

    private static readonly RetentionRule[] CountRules =
        [RetentionRule.Last, RetentionRule.Hourly, RetentionRule.Daily, RetentionRule.Weekly, RetentionRule.Monthly, RetentionRule.Yearly];

    private static readonly string[] WithinReasons = ["hourly within", "daily within", "weekly within", "monthly within", "yearly within"];

    private static readonly RetentionRule[] WithinRules =
        [RetentionRule.WithinHourly, RetentionRule.WithinDaily, RetentionRule.WithinWeekly, RetentionRule.WithinMonthly, RetentionRule.WithinYearly];

    /// <summary>Applies a policy to any items, described by <paramref name="describe"/>.</summary>
    /// <param name="items">The items (already filtered). Items with equal times are decided in this order.</param>
    /// <param name="describe">What the rules see of an item.</param>
    /// <param name="policy">The policy.</param>
    /// <param name="options">Grouping, compatibility, clock; defaults if null.</param>
    /// <returns>The groups in key order, each with its decisions newest first.</returns>
    /// <exception cref="ArgumentException">The policy has values current restic refuses (see <see cref="RetentionPolicy.Validate"/>).</exception>
    /// <exception cref="RetentionException">Current semantics only: the policy is empty and <see cref="RetentionOptions.AllowRemoveAll"/>
    /// is not set, or the policy would keep nothing of some group. Nothing is decided then.</exception>
    public static RetentionResult<T> Evaluate<T>(IEnumerable<T> items, Func<T, RetentionSubject> describe, RetentionPolicy policy, RetentionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(describe);
        ArgumentNullException.ThrowIfNull(policy);
        options ??= new RetentionOptions();
        policy.Validate(options.Compatibility);
        bool current = options.Compatibility != ResticCompatibility.V0_14;
        if (current && policy.IsEmpty && !options.AllowRemoveAll)
        {
            throw new RetentionException("no policy was specified, no snapshots will be removed");
        }

        var now = GoTime.FromDateTimeOffset(options.TimeProvider.GetUtcNow());
        var groups = new Dictionary<RetentionGroupKey, List<(T Item, RetentionSubject Subject)>>();
        foreach (var item in items)
        {
            var subject = describe(item) ?? throw new ArgumentException("The description of an item is null.", nameof(describe));
            var key = KeyOf(subject, options.GroupBy);
            if (!groups.TryGetValue(key, out var list))
            {
                groups[key] = list = [];
            }

            list.Add((item, subject));
        }

        var result = new List<RetentionGroup<T>>(groups.Count);
        foreach (var (key, list) in groups.OrderBy(g => g.Key, GroupKeyOrder.Instance))
        {
            var decisions = ApplyToGroup(list, policy, current, now);
            if (current && !policy.IsEmpty && !decisions.Any(d => d.Keep))
            {
                throw new RetentionException($"refusing to delete last snapshot of snapshot group \"{key}\"");
            }

            result.Add(new RetentionGroup<T>(key, decisions));
        }

        return new RetentionResult<T>(policy, result);
    }

    private static List<RetentionDecision<T>> ApplyToGroup<T>(List<(T Item, RetentionSubject Subject)> input, RetentionPolicy policy, bool current, GoTime now)
    {
        // Newest first; OrderByDescending is stable, like Go's sort.Stable, so equal instants keep their input order.
        var list = input.OrderByDescending(x => x.Subject.Time).ToList();
        var decisions = new List<RetentionDecision<T>>(list.Count);

        if (!current && policy.IsEmpty)
        {
            // restic 0.14 short-circuits an empty policy: everything stays.
            var reasons = new[] { new RetentionReason(RetentionRule.PolicyEmpty, false, "policy is empty") };
            decisions.AddRange(list.Select(x => new RetentionDecision<T>(x.Item, x.Subject, reasons, default)));
            return decisions;
        }

        // The newest time that is not in the future; Go's zero time (year 1, UTC) when every item is in the future.
        GoTime latest = default;
        foreach (var (_, subject) in list)
        {
            if (subject.Time > latest && subject.Time < now)
            {
                latest = subject.Time;
            }
        }

        int[] counts = [policy.Last, policy.Hourly, policy.Daily, policy.Weekly, policy.Monthly, policy.Yearly];
        long[] lastBucket = [-1, -1, -1, -1, -1, -1];
        RetentionDuration[] withinDurations = [policy.WithinHourly, policy.WithinDaily, policy.WithinWeekly, policy.WithinMonthly, policy.WithinYearly];
        GoTime?[] withinThresholds = [.. withinDurations.Select(d => d.IsZero ? (GoTime?)null : d.SubtractFrom(latest))];
        long[] withinLastBucket = [-1, -1, -1, -1, -1];
        GoTime? withinThreshold = policy.Within.IsZero ? null : policy.Within.SubtractFrom(latest);
        string withinText = "within " + policy.Within;
        var tagTexts = policy.KeepTags.Select(l => "has tags " + RetentionTags.Format(l)).ToArray();

        for (int nr = 0; nr < list.Count; nr++)
        {
            var subject = list[nr].Subject;
            bool oldest = current && nr == list.Count - 1;
            var reasons = new List<RetentionReason>();

            // Tag lists are not counted: every item carrying one is kept.
            for (int i = 0; i < policy.KeepTags.Count; i++)
            {
                if (RetentionTags.HasAll(subject.Tags, policy.KeepTags[i]))
                {
                    reasons.Add(new RetentionReason(RetentionRule.Tags, false, tagTexts[i]));
                }
            }

            if (withinThreshold is { } threshold && subject.Time > threshold)
            {
                reasons.Add(new RetentionReason(RetentionRule.Within, false, withinText));
            }

            var wall = GoCalendar.Wall(subject.Time);
            for (int i = 0; i < counts.Length; i++)
            {
                // restic 0.14 only knows positive counts; current restic also takes −1 as "no limit".
                bool active = counts[i] > 0 || (current && counts[i] == RetentionPolicy.Unlimited);
                if (!active)
                {
                    continue;
                }

                long bucket = Bucket(i, wall, nr);
                if (bucket != lastBucket[i] || oldest)
                {
                    // Current restic also keeps the group's oldest item while the rule has room left, so that the
                    // kept history reaches back as far as possible; it says so in the reason.
                    bool onlyAsOldest = bucket == lastBucket[i];
                    reasons.Add(new RetentionReason(CountRules[i], onlyAsOldest, (onlyAsOldest ? "oldest " : "") + CountReasons[i]));
                    lastBucket[i] = bucket;
                    if (counts[i] > 0)
                    {
                        counts[i]--;
                    }
                }
            }

            for (int i = 0; i < withinDurations.Length; i++)
            {
                if (withinThresholds[i] is not { } t || !(subject.Time > t))
                {
                    continue;
                }

                long bucket = Bucket(i + 1, wall, nr);
                if (bucket != withinLastBucket[i] || oldest)
                {
                    bool onlyAsOldest = bucket == withinLastBucket[i];
                    reasons.Add(new RetentionReason(WithinRules[i], onlyAsOldest,
                        (onlyAsOldest ? "oldest " : "") + WithinReasons[i] + " " + withinDurations[i]));
                    withinLastBucket[i] = bucket;
                }
            }

            var counters = new RetentionCounters(counts[0], counts[1], counts[2], counts[3], counts[4], counts[5]);
            decisions.Add(new RetentionDecision<T>(list[nr].Item, subject, reasons, counters));
        }

        return decisions;
    }

    // The bucket an item falls in for count rule i (0 = last, 1 = hourly, … 5 = yearly), as restic numbers them:
    // YYYYMMDDHH, YYYYMMDD, ISO YYYYWW, YYYYMM, YYYY; "last" puts every item in a bucket of its own.
    private static long Bucket(int rule, GoCalendar.WallClock w, int nr) => rule switch
    {
        0 => nr,
        1 => w.Year * 1_000_000 + w.Month * 10_000 + w.Day * 100 + w.Hour,
        2 => w.Year * 10_000 + w.Month * 100 + w.Day,
        3 => IsoWeekBucket(w),
        4 => w.Year * 100 + w.Month,
        _ => w.Year,
    };

    private static long IsoWeekBucket(GoCalendar.WallClock w)
    {
        var (year, week) = GoCalendar.IsoWeek(w);
        return year * 100 + week;
    }

    private static RetentionGroupKey KeyOf(RetentionSubject subject, RetentionGrouping groupBy) => new(
        groupBy.Host ? subject.Host ?? "" : "",
        groupBy.Paths ? Sorted(subject.Paths) : null,
        groupBy.Tags ? Sorted(subject.Tags) : null);

    private static string[] Sorted(IReadOnlyList<string>? values)
    {
        var copy = values?.ToArray() ?? [];
        Array.Sort(copy, Utf8Order.Instance);
        return copy;
    }

    /// <summary>Orders strings as Go's <c>sort.Strings</c> does: by UTF-8 bytes, which is code point order (UTF-16
    /// ordinal order differs for characters above U+E000 versus surrogate pairs).</summary>
    internal sealed class Utf8Order : IComparer<string>
    {
        public static readonly Utf8Order Instance = new();

        public int Compare(string? x, string? y)
        {
            if (x is null || y is null)
            {
                return x is null ? (y is null ? 0 : -1) : 1;
            }

            var a = x.EnumerateRunes();
            var b = y.EnumerateRunes();
            while (true)
            {
                bool hasA = a.MoveNext(), hasB = b.MoveNext();
                if (!hasA || !hasB)
                {
                    return hasA ? 1 : hasB ? -1 : 0;
                }

                int c = a.Current.Value.CompareTo(b.Current.Value);
                if (c != 0)
                {
                    return c;
                }
            }
        }
    }

    // Groups come out sorted by host, then paths, then tags (restic's map order is random; any fixed order will do).
    private sealed class GroupKeyOrder : IComparer<RetentionGroupKey>
    {
        public static readonly GroupKeyOrder Instance = new();

        public int Compare(RetentionGroupKey? x, RetentionGroupKey? y)
        {
            int c = Utf8Order.Instance.Compare(x!.Host, y!.Host);
            return c != 0 ? c : (c = CompareLists(x.Paths, y.Paths)) != 0 ? c : CompareLists(x.Tags, y.Tags);
        }

        private static int CompareLists(IReadOnlyList<string>? a, IReadOnlyList<string>? b)
        {
            if (a is null || b is null)
            {
                return a is null ? (b is null ? 0 : -1) : 1;
            }

            for (int i = 0; i < Math.Min(a.Count, b.Count); i++)
            {
                int c = Utf8Order.Instance.Compare(a[i], b[i]);
                if (c != 0)
                {
                    return c;
                }
            }

            return a.Count.CompareTo(b.Count);
        }
    }
}
