using System.Text.Json.Nodes;

namespace KubeBackup.FakeKube;

/// <summary>Label and field selectors as the API server parses them.</summary>
public static class Selectors
{
    /// <summary>Whether an object's labels match a label selector (<c>a=b,c!=d,e in (f,g),h notin (i),j,!k</c>).</summary>
    public static bool MatchesLabels(JsonObject obj, string? selector)
    {
        if (string.IsNullOrWhiteSpace(selector))
        {
            return true;
        }

        var labels = obj["metadata"]?["labels"] as JsonObject;
        string? Label(string k) => labels is not null && labels.TryGetPropertyValue(k, out var v) ? (string?)v : null;
        foreach (var raw in SplitTerms(selector))
        {
            var term = raw.Trim();
            if (term.Length == 0)
            {
                continue;
            }

            bool ok;
            int inIdx = term.IndexOf(" in ", StringComparison.Ordinal);
            int notinIdx = term.IndexOf(" notin ", StringComparison.Ordinal);
            if (notinIdx > 0)
            {
                var key = term[..notinIdx].Trim();
                ok = !SetOf(term[(notinIdx + 7)..]).Contains(Label(key) ?? "\0");
            }
            else if (inIdx > 0)
            {
                var key = term[..inIdx].Trim();
                ok = Label(key) is { } v && SetOf(term[(inIdx + 4)..]).Contains(v);
            }
            else if (term.Contains("!=", StringComparison.Ordinal))
            {
                var (k, v) = Split(term, "!=");
                ok = Label(k) != v;
            }
            else if (term.Contains("==", StringComparison.Ordinal))
            {
                var (k, v) = Split(term, "==");
                ok = Label(k) == v;
            }
            else if (term.Contains('=', StringComparison.Ordinal))
            {
                var (k, v) = Split(term, "=");
                ok = Label(k) == v;
            }
            else if (term.StartsWith('!'))
            {
                ok = Label(term[1..].Trim()) is null;
            }
            else
            {
                ok = Label(term) is not null;
            }

            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether an object matches a field selector (<c>metadata.name=x,status.phase!=Running</c>).</summary>
    public static bool MatchesFields(JsonObject obj, string? selector)
    {
        if (string.IsNullOrWhiteSpace(selector))
        {
            return true;
        }

        foreach (var raw in selector.Split(','))
        {
            var term = raw.Trim();
            if (term.Length == 0)
            {
                continue;
            }

            bool negate = term.Contains("!=", StringComparison.Ordinal);
            var (path, expected) = negate ? Split(term, "!=") : term.Contains("==", StringComparison.Ordinal) ? Split(term, "==") : Split(term, "=");
            JsonNode? node = obj;
            foreach (var part in path.Split('.'))
            {
                node = node is JsonObject o && o.TryGetPropertyValue(part, out var c) ? c : null;
            }

            string actual = node is JsonValue jv ? jv.ToString() : "";
            if ((actual == expected) == negate)
            {
                return false;
            }
        }

        return true;
    }

    private static (string, string) Split(string term, string op)
    {
        int i = term.IndexOf(op, StringComparison.Ordinal);
        return (term[..i].Trim(), term[(i + op.Length)..].Trim());
    }

    private static HashSet<string> SetOf(string list) =>
        list.Trim().TrimStart('(').TrimEnd(')').Split(',').Select(s => s.Trim()).Where(s => s.Length > 0).ToHashSet();

    private static IEnumerable<string> SplitTerms(string selector)
    {
        int depth = 0, start = 0;
        for (int i = 0; i < selector.Length; i++)
        {
            if (selector[i] == '(') depth++;
            else if (selector[i] == ')') depth--;
            else if (selector[i] == ',' && depth == 0)
            {
                yield return selector[start..i];
                start = i + 1;
            }
        }

        yield return selector[start..];
    }
}
