namespace KubeBackup.Retention;

/// <summary>restic's tag lists: <c>a,b</c> means "has both a and b", and the empty tag matches an untagged item.</summary>
public static class RetentionTags
{
    /// <summary>Splits a tag list as restic does: at commas, white space around each tag trimmed, empty entries kept
    /// (so <c>""</c> is the list holding the empty tag, which matches untagged items).</summary>
    public static IReadOnlyList<string> ParseList(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Split(',').Select(t => t.Trim()).ToArray();
    }

    /// <summary>Whether an item with <paramref name="tags"/> has every tag of <paramref name="list"/>, in restic's sense:
    /// the tags are checked in order, and reaching the empty tag while the item has no tags at all is a match; an empty
    /// list matches everything.</summary>
    public static bool HasAll(IReadOnlyCollection<string>? tags, IReadOnlyList<string> list)
    {
        ArgumentNullException.ThrowIfNull(list);
        int count = tags?.Count ?? 0;
        foreach (var tag in list)
        {
            // restic returns early here, so ["", "x"] matches an untagged item although it lacks "x".
            if (tag.Length == 0 && count == 0)
            {
                return true;
            }

            if (count == 0 || !tags!.Contains(tag))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether the item matches at least one of the lists (or the lists are empty), as restic's
    /// <c>--tag a,b --tag c</c> filter selects.</summary>
    public static bool HasAny(IReadOnlyCollection<string>? tags, IEnumerable<IReadOnlyList<string>> lists)
    {
        ArgumentNullException.ThrowIfNull(lists);
        bool any = false;
        foreach (var list in lists)
        {
            any = true;
            if (HasAll(tags, list))
            {
                return true;
            }
        }

        return !any;
    }

    /// <summary>A tag list as restic prints it in reasons and messages: <c>[a, b]</c>.</summary>
    public static string Format(IReadOnlyList<string> list)
    {
        ArgumentNullException.ThrowIfNull(list);
        return "[" + string.Join(", ", list) + "]";
    }
}
