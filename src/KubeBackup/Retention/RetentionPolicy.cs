using System.Globalization;

namespace KubeBackup.Retention;

/// <summary>
/// Which items to keep, in restic's terms (<c>forget --keep-*</c>). An item is kept when any rule keeps it:
/// <list type="bullet">
/// <item>the count rules keep the newest item of each of the last N hours, days, ISO weeks, months or years that have
/// items (or simply the last N items), judged on the wall clock in each item's own UTC offset;</item>
/// <item><see cref="Within"/> keeps everything newer than the newest item minus a calendar duration, and the
/// <c>Within*</c> bucket rules keep one item per hour/day/week/month/year within such a duration;</item>
/// <item><see cref="KeepTags"/> keeps items that carry all tags of any one list.</item>
/// </list>
/// A zero count or zero duration switches its rule off. The policy is applied to each group separately
/// (see <see cref="RetentionGrouping"/>).
/// </summary>
/// <remarks>A record so that <c>with</c> derives variants; its equality compares <see cref="KeepTags"/> by reference.</remarks>
public sealed record RetentionPolicy
{
    /// <summary>The count that means "no limit" (restic's <c>unlimited</c>, or −1; restic 0.16 and later).</summary>
    public const int Unlimited = -1;

    /// <summary>Keep the last N items (<c>--keep-last</c>).</summary>
    public int Last { get; init; }

    /// <summary>Keep the newest item of each of the last N hours (<c>--keep-hourly</c>).</summary>
    public int Hourly { get; init; }

    /// <summary>Keep the newest item of each of the last N days (<c>--keep-daily</c>).</summary>
    public int Daily { get; init; }

    /// <summary>Keep the newest item of each of the last N ISO weeks (<c>--keep-weekly</c>).</summary>
    public int Weekly { get; init; }

    /// <summary>Keep the newest item of each of the last N months (<c>--keep-monthly</c>).</summary>
    public int Monthly { get; init; }

    /// <summary>Keep the newest item of each of the last N years (<c>--keep-yearly</c>).</summary>
    public int Yearly { get; init; }

    /// <summary>Keep every item newer than the newest one minus this (<c>--keep-within</c>).</summary>
    public RetentionDuration Within { get; init; }

    /// <summary>Keep one item per hour within this duration of the newest (<c>--keep-within-hourly</c>).</summary>
    public RetentionDuration WithinHourly { get; init; }

    /// <summary>Keep one item per day within this duration of the newest (<c>--keep-within-daily</c>).</summary>
    public RetentionDuration WithinDaily { get; init; }

    /// <summary>Keep one item per ISO week within this duration of the newest (<c>--keep-within-weekly</c>).</summary>
    public RetentionDuration WithinWeekly { get; init; }

    /// <summary>Keep one item per month within this duration of the newest (<c>--keep-within-monthly</c>).</summary>
    public RetentionDuration WithinMonthly { get; init; }

    /// <summary>Keep one item per year within this duration of the newest (<c>--keep-within-yearly</c>).</summary>
    public RetentionDuration WithinYearly { get; init; }

    /// <summary>Keep items that have every tag of at least one of these lists (<c>--keep-tag a,b --keep-tag c</c>);
    /// a list holding the empty tag matches untagged items (see <see cref="RetentionTags.HasAll"/>).</summary>
    public IReadOnlyList<IReadOnlyList<string>> KeepTags { get; init; } = [];

    /// <summary>Whether no rule is set (every count and duration zero, no tag list).</summary>
    public bool IsEmpty =>
        KeepTags.Count == 0 && Last == 0 && Hourly == 0 && Daily == 0 && Weekly == 0 && Monthly == 0 && Yearly == 0
        && Within.IsZero && WithinHourly.IsZero && WithinDaily.IsZero && WithinWeekly.IsZero && WithinMonthly.IsZero
        && WithinYearly.IsZero;

    /// <summary>Checks the values current restic accepts: counts of at least −1 (<see cref="Unlimited"/>), and no
    /// negative duration parts. restic 0.14 accepted anything, so <see cref="ResticCompatibility.V0_14"/> checks
    /// nothing.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate(ResticCompatibility compatibility = ResticCompatibility.Current)
    {
        ArgumentNullException.ThrowIfNull(KeepTags);
        if (compatibility == ResticCompatibility.V0_14)
        {
            return;
        }

        foreach (var (name, count) in Counts())
        {
            if (count < Unlimited)
            {
                throw new ArgumentException($"The {name} count is {count}: negative values other than -1 (unlimited) are not allowed.");
            }
        }

        foreach (var (name, duration) in Durations())
        {
            if (duration.IsNegative)
            {
                throw new ArgumentException($"The {name} duration {duration} is negative: durations containing negative values are not allowed.");
            }
        }
    }

    /// <summary>restic's description of the policy, e.g. <c>keep 7 daily, 4 weekly snapshots and all snapshots within
    /// 2d of the newest</c>; an empty policy reads <c>remove</c>, as in current restic.</summary>
    public override string ToString()
    {
        var counts = new List<string>();
        foreach (var (name, count) in Counts())
        {
            if (count > 0)
            {
                counts.Add(string.Create(CultureInfo.InvariantCulture, $"{count} {name}"));
            }
            else if (count == Unlimited)
            {
                counts.Add($"all {name}");
            }
        }

        var withins = Durations().Skip(1).Where(d => !d.Duration.IsZero).Select(d => $"{d.Name} snapshots within {d.Duration}").ToList();
        string s = counts.Count > 0 ? string.Join(", ", counts) + " snapshots" : "";
        if (withins.Count > 0)
        {
            s += (s.Length > 0 ? ", " : "") + string.Join(", ", withins);
        }

        if (KeepTags.Count > 0)
        {
            s += (s.Length > 0 ? " and " : "") + "all snapshots with tags [" + string.Join(' ', KeepTags.Select(RetentionTags.Format)) + "]";
        }

        if (!Within.IsZero)
        {
            s += (s.Length > 0 ? " and " : "") + $"all snapshots within {Within} of the newest";
        }

        return s.Length == 0 ? "remove" : "keep " + s;
    }

    private (string Name, int Count)[] Counts() =>
        [("latest", Last), ("hourly", Hourly), ("daily", Daily), ("weekly", Weekly), ("monthly", Monthly), ("yearly", Yearly)];

    private (string Name, RetentionDuration Duration)[] Durations() =>
        [("within", Within), ("hourly", WithinHourly), ("daily", WithinDaily), ("weekly", WithinWeekly), ("monthly", WithinMonthly), ("yearly", WithinYearly)];
}
