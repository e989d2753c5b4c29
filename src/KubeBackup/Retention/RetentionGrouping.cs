namespace KubeBackup.Retention;

/// <summary>Which properties split items into groups that a policy is applied to separately (restic's
/// <c>--group-by</c>). The default is host and paths.</summary>
/// <param name="Host">Items of different hosts are in different groups.</param>
/// <param name="Paths">Items with different (sorted) path sets are in different groups.</param>
/// <param name="Tags">Items with different (sorted) tag sets are in different groups.</param>
public readonly record struct RetentionGrouping(bool Host, bool Paths, bool Tags)
{
    /// <summary>restic's default, <c>host,paths</c>.</summary>
    public static RetentionGrouping Default { get; } = new(Host: true, Paths: true, Tags: false);

    /// <summary>No grouping: the policy sees all items at once (restic's <c>--group-by ''</c>).</summary>
    public static RetentionGrouping None { get; } = default;

    /// <summary>Parses restic's comma-separated form: <c>host</c>/<c>hosts</c>, <c>path</c>/<c>paths</c>,
    /// <c>tag</c>/<c>tags</c>; empty entries are ignored, so <c>""</c> means no grouping.</summary>
    /// <exception cref="FormatException">An unknown option.</exception>
    public static RetentionGrouping Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = None;
        foreach (var option in text.Split(','))
        {
            result = option switch
            {
                "host" or "hosts" => result with { Host = true },
                "path" or "paths" => result with { Paths = true },
                "tag" or "tags" => result with { Tags = true },
                "" => result,
                _ => throw new FormatException($"unknown grouping option: '{option}'"),
            };
        }

        return result;
    }

    /// <summary>The comma-separated form (<c>host,paths</c>; empty for no grouping).</summary>
    public override string ToString() =>
        string.Join(',', new[] { Host ? "host" : null, Paths ? "paths" : null, Tags ? "tags" : null }.OfType<string>());
}
