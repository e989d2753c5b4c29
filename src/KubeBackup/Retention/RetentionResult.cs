namespace KubeBackup.Retention;

/// <summary>The rule behind a keep reason.</summary>
public enum RetentionRule
{
    /// <summary>The policy is empty, so everything is kept (restic 0.14 only).</summary>
    PolicyEmpty,
    /// <summary>The item has all tags of a <see cref="RetentionPolicy.KeepTags"/> list.</summary>
    Tags,
    /// <summary><see cref="RetentionPolicy.Within"/>.</summary>
    Within,
    /// <summary><see cref="RetentionPolicy.Last"/>.</summary>
    Last,
    /// <summary><see cref="RetentionPolicy.Hourly"/>.</summary>
    Hourly,
    /// <summary><see cref="RetentionPolicy.Daily"/>.</summary>
    Daily,
    /// <summary><see cref="RetentionPolicy.Weekly"/>.</summary>
    Weekly,
    /// <summary><see cref="RetentionPolicy.Monthly"/>.</summary>
    Monthly,
    /// <summary><see cref="RetentionPolicy.Yearly"/>.</summary>
    Yearly,
    /// <summary><see cref="RetentionPolicy.WithinHourly"/>.</summary>
    WithinHourly,
    /// <summary><see cref="RetentionPolicy.WithinDaily"/>.</summary>
    WithinDaily,
    /// <summary><see cref="RetentionPolicy.WithinWeekly"/>.</summary>
    WithinWeekly,
    /// <summary><see cref="RetentionPolicy.WithinMonthly"/>.</summary>
    WithinMonthly,
    /// <summary><see cref="RetentionPolicy.WithinYearly"/>.</summary>
    WithinYearly,
}

/// <summary>One reason an item is kept.</summary>
/// <param name="Rule">The rule that matched.</param>
/// <param name="IsOldest">The item is kept only because it is the group's oldest and the rule still had room (current
/// restic; the text then starts with "oldest").</param>
/// <param name="Text">restic's wording, e.g. <c>daily snapshot</c>, <c>oldest monthly snapshot</c>,
/// <c>within 1y2m</c>, <c>weekly within 3m</c>, <c>has tags [a, b]</c>.</param>
public readonly record struct RetentionReason(RetentionRule Rule, bool IsOldest, string Text)
{
    /// <summary>restic's wording.</summary>
    public override string ToString() => Text;
}

/// <summary>What is left of each count after an item was evaluated (restic's <c>counters</c>; −1 stays −1 for
/// unlimited rules).</summary>
/// <param name="Last">Left of <see cref="RetentionPolicy.Last"/>.</param>
/// <param name="Hourly">Left of <see cref="RetentionPolicy.Hourly"/>.</param>
/// <param name="Daily">Left of <see cref="RetentionPolicy.Daily"/>.</param>
/// <param name="Weekly">Left of <see cref="RetentionPolicy.Weekly"/>.</param>
/// <param name="Monthly">Left of <see cref="RetentionPolicy.Monthly"/>.</param>
/// <param name="Yearly">Left of <see cref="RetentionPolicy.Yearly"/>.</param>
public readonly record struct RetentionCounters(int Last, int Hourly, int Daily, int Weekly, int Monthly, int Yearly);

/// <summary>The decision for one item.</summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class RetentionDecision<T>
{
    internal RetentionDecision(T item, RetentionSubject subject, IReadOnlyList<RetentionReason> reasons, RetentionCounters counters)
    {
        Item = item;
        Subject = subject;
        Reasons = reasons;
        Counters = counters;
    }

    /// <summary>The item.</summary>
    public T Item { get; }

    /// <summary>What the rules saw of it.</summary>
    public RetentionSubject Subject { get; }

    /// <summary>Whether the item is kept (it has at least one reason).</summary>
    public bool Keep => Reasons.Count > 0;

    /// <summary>Why it is kept, in restic's order of rules; empty if it is removed.</summary>
    public IReadOnlyList<RetentionReason> Reasons { get; }

    /// <summary>The counts left after this item.</summary>
    public RetentionCounters Counters { get; }
}

/// <summary>The key of a group: the values of the grouping properties (null for properties not grouped by).</summary>
/// <param name="Host">The host, or empty when not grouping by host (as restic).</param>
/// <param name="Paths">The sorted paths, or null when not grouping by paths.</param>
/// <param name="Tags">The sorted tags, or null when not grouping by tags.</param>
public sealed record RetentionGroupKey(string Host, IReadOnlyList<string>? Paths, IReadOnlyList<string>? Tags)
{
    /// <summary>restic's description: <c>host h, path [/a /b], tags [x]</c> (empty parts left out).</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (Host.Length > 0)
        {
            parts.Add($"host {Host}");
        }

        if (Paths is { Count: > 0 })
        {
            parts.Add($"path [{string.Join(' ', Paths)}]");
        }

        if (Tags is { Count: > 0 })
        {
            parts.Add($"tags [{string.Join(' ', Tags)}]");
        }

        return string.Join(", ", parts);
    }

    /// <summary>Same host, and the same paths and tags element by element.</summary>
    public bool Equals(RetentionGroupKey? other) =>
        other is not null && Host == other.Host && SameList(Paths, other.Paths) && SameList(Tags, other.Tags);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Host);
        foreach (var list in new[] { Paths, Tags })
        {
            hash.Add(list is null ? -1 : list.Count);
            foreach (var s in list ?? [])
            {
                hash.Add(s);
            }
        }

        return hash.ToHashCode();
    }

    private static bool SameList(IReadOnlyList<string>? a, IReadOnlyList<string>? b) =>
        a is null ? b is null : b is not null && a.SequenceEqual(b, StringComparer.Ordinal);
}

/// <summary>The decisions for one group, newest item first.</summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class RetentionGroup<T>
{
    internal RetentionGroup(RetentionGroupKey key, IReadOnlyList<RetentionDecision<T>> decisions)
    {
        Key = key;
        Decisions = decisions;
        Keep = [.. decisions.Where(d => d.Keep).Select(d => d.Item)];
        Remove = [.. decisions.Where(d => !d.Keep).Select(d => d.Item)];
    }

    /// <summary>The group's key.</summary>
    public RetentionGroupKey Key { get; }

    /// <summary>Every item of the group with its decision, newest first (equal times in input order).</summary>
    public IReadOnlyList<RetentionDecision<T>> Decisions { get; }

    /// <summary>The items kept, newest first.</summary>
    public IReadOnlyList<T> Keep { get; }

    /// <summary>The items to remove, newest first.</summary>
    public IReadOnlyList<T> Remove { get; }
}

/// <summary>The outcome of applying a policy: the groups in a stable order (by key), each with its decisions.</summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class RetentionResult<T>
{
    internal RetentionResult(RetentionPolicy policy, IReadOnlyList<RetentionGroup<T>> groups)
    {
        Policy = policy;
        Groups = groups;
    }

    /// <summary>The policy that was applied.</summary>
    public RetentionPolicy Policy { get; }

    /// <summary>The groups, ordered by key.</summary>
    public IReadOnlyList<RetentionGroup<T>> Groups { get; }

    /// <summary>Every item kept, group by group.</summary>
    public IEnumerable<T> Keep => Groups.SelectMany(g => g.Keep);

    /// <summary>Every item to remove, group by group.</summary>
    public IEnumerable<T> Remove => Groups.SelectMany(g => g.Remove);
}
