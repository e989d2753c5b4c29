namespace KubeBackup.Restic.Filtering;

/// <summary>
/// A restic include/exclude pattern. Patterns are matched against slash-separated paths one component at a time, with
/// shell globs inside a component (<c>*</c>, <c>?</c>, <c>[a-z]</c>, <c>\</c> escapes) and <c>**</c> for any number of
/// components. A pattern starting with <c>/</c> is anchored at the root; any other pattern matches at any depth. A
/// pattern matches a path when it matches a leading part of it, so excluding a folder excludes what is inside it.
/// A leading <c>!</c> negates: a later negated pattern takes back a match of an earlier one.
/// </summary>
public sealed class PathPattern
{
    private readonly string[] _parts;

    /// <summary>Parses a pattern.</summary>
    public PathPattern(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        Text = pattern;
        var p = pattern;
        if (p.StartsWith('!'))
        {
            IsNegated = true;
            p = p[1..];
        }

        IsAnchored = p.StartsWith('/');
        _parts = p.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != ".").ToArray();
        IsEmpty = _parts.Length == 0;
    }

    /// <summary>The pattern as given.</summary>
    public string Text { get; }

    /// <summary>Whether the pattern starts with <c>!</c>.</summary>
    public bool IsNegated { get; }

    /// <summary>Whether the pattern starts with <c>/</c>.</summary>
    public bool IsAnchored { get; }

    private bool IsEmpty { get; }

    /// <inheritdoc />
    public override string ToString() => Text;

    /// <summary>Splits a path into its components.</summary>
    public static string[] SplitPath(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Whether the pattern matches the path or one of its parents (ignoring negation).</summary>
    public bool Matches(ReadOnlySpan<string> components)
    {
        if (IsEmpty)
        {
            return false;
        }

        if (IsAnchored)
        {
            return MatchPrefix(_parts, components);
        }

        // An unanchored pattern may start at any component.
        for (int start = 0; start < components.Length; start++)
        {
            if (MatchPrefix(_parts, components[start..]))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the pattern could match the path or something below it: used to decide whether to descend into
    /// a folder when only included paths are wanted.</summary>
    public bool MayMatchBelow(ReadOnlySpan<string> components)
    {
        if (IsEmpty)
        {
            return false;
        }

        if (!IsAnchored || _parts.Contains("**"))
        {
            return true;
        }

        // Every component given so far must fit the pattern's leading parts.
        int n = Math.Min(components.Length, _parts.Length);
        for (int i = 0; i < n; i++)
        {
            if (!GlobMatch(_parts[i], components[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static bool MatchPrefix(ReadOnlySpan<string> pattern, ReadOnlySpan<string> path)
    {
        if (pattern.IsEmpty)
        {
            // All pattern parts matched: the rest of the path lies below a match.
            return true;
        }

        if (pattern[0] == "**")
        {
            // ** takes zero or more components.
            for (int skip = 0; skip <= path.Length; skip++)
            {
                if (MatchPrefix(pattern[1..], path[skip..]))
                {
                    return true;
                }
            }

            return false;
        }

        return !path.IsEmpty && GlobMatch(pattern[0], path[0]) && MatchPrefix(pattern[1..], path[1..]);
    }

    /// <summary>Shell glob match of one component, as Go's <c>filepath.Match</c>.</summary>
    public static bool GlobMatch(ReadOnlySpan<char> pattern, ReadOnlySpan<char> name)
    {
        int p = 0, n = 0, starP = -1, starN = 0;
        while (n < name.Length)
        {
            if (p < pattern.Length)
            {
                char c = pattern[p];
                if (c == '*')
                {
                    starP = p++;
                    starN = n;
                    continue;
                }

                if (c == '?')
                {
                    p++;
                    n++;
                    continue;
                }

                if (c == '[')
                {
                    int end = ClassEnd(pattern, p);
                    if (end > 0 && ClassMatches(pattern[(p + 1)..end], name[n]))
                    {
                        p = end + 1;
                        n++;
                        continue;
                    }

                    if (end < 0 && name[n] == '[')
                    {
                        p++;
                        n++;
                        continue;
                    }
                }
                else
                {
                    if (c == '\\' && p + 1 < pattern.Length)
                    {
                        c = pattern[++p];
                    }

                    if (c == name[n])
                    {
                        p++;
                        n++;
                        continue;
                    }
                }
            }

            if (starP >= 0)
            {
                p = starP + 1;
                n = ++starN;
                continue;
            }

            return false;
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    private static int ClassEnd(ReadOnlySpan<char> pattern, int open)
    {
        int i = open + 1;
        if (i < pattern.Length && pattern[i] == '^')
        {
            i++;
        }

        if (i < pattern.Length && pattern[i] == ']')
        {
            i++;
        }

        for (; i < pattern.Length; i++)
        {
            if (pattern[i] == '\\')
            {
                i++;
            }
            else if (pattern[i] == ']')
            {
                return i;
            }
        }

        return -1;
    }

    private static bool ClassMatches(ReadOnlySpan<char> cls, char c)
    {
        bool negate = cls.Length > 0 && cls[0] == '^';
        if (negate)
        {
            cls = cls[1..];
        }

        bool match = false;
        for (int i = 0; i < cls.Length; i++)
        {
            char lo = cls[i];
            if (lo == '\\' && i + 1 < cls.Length)
            {
                lo = cls[++i];
            }

            char hi = lo;
            if (i + 2 < cls.Length && cls[i + 1] == '-')
            {
                hi = cls[i + 2];
                if (hi == '\\' && i + 3 < cls.Length)
                {
                    hi = cls[i + 3];
                    i++;
                }

                i += 2;
            }

            if (c >= lo && c <= hi)
            {
                match = true;
            }
        }

        return match != negate;
    }
}

/// <summary>An ordered list of patterns; the last pattern that matches decides (negated patterns un-match).</summary>
public sealed class PathPatternList
{
    private readonly PathPattern[] _patterns;

    /// <summary>Parses the patterns.</summary>
    public PathPatternList(IEnumerable<string>? patterns)
    {
        _patterns = (patterns ?? []).Where(p => !string.IsNullOrWhiteSpace(p)).Select(p => new PathPattern(p.Trim())).ToArray();
    }

    /// <summary>Whether there are no patterns.</summary>
    public bool IsEmpty => _patterns.Length == 0;

    /// <summary>Whether the path (slash-separated, as in the snapshot) is matched.</summary>
    public bool Matches(string path) => Matches(PathPattern.SplitPath(path));

    /// <summary>Whether the path components are matched.</summary>
    public bool Matches(ReadOnlySpan<string> components)
    {
        bool matched = false;
        foreach (var p in _patterns)
        {
            if (p.IsNegated ? matched : !matched)
            {
                if (p.Matches(components))
                {
                    matched = !p.IsNegated;
                }
            }
        }

        return matched;
    }

    /// <summary>Whether some pattern could match the path or something below it.</summary>
    public bool MayMatchBelow(ReadOnlySpan<string> components)
    {
        foreach (var p in _patterns)
        {
            if (!p.IsNegated && p.MayMatchBelow(components))
            {
                return true;
            }
        }

        return false;
    }
}
