using System.Text;
using System.Text.Json.Nodes;
using KubeBackup.Configuration;

namespace KubeBackup.Tasks;

/// <summary>The variables every task and hook can refer to, besides the configuration's and the target's own.</summary>
public static class TaskVariables
{
    /// <summary>The configuration's name.</summary>
    public const string ConfigurationName = "CONFIGURATION_NAME";

    /// <summary>The target's name.</summary>
    public const string TargetName = "TARGET_NAME";

    /// <summary>The host name the target's snapshots carry.</summary>
    public const string TargetHost = "TARGET_HOST";

    /// <summary>The repository location as written in the configuration (no credentials).</summary>
    public const string RepositoryLocation = "REPOSITORY_LOCATION";

    /// <summary>The location's scheme: <c>local</c>, <c>s3</c>, <c>azure</c>, <c>gs</c>, <c>rest</c>….</summary>
    public const string RepositoryProvider = "REPOSITORY_PROVIDER";

    /// <summary>The session's ID.</summary>
    public const string SessionId = "SESSION_ID";

    /// <summary><c>backup</c> or <c>restore</c>.</summary>
    public const string SessionKind = "SESSION_KIND";

    /// <summary>The names above.</summary>
    public static IReadOnlyList<string> BuiltIn { get; } =
        [ConfigurationName, TargetName, TargetHost, RepositoryLocation, RepositoryProvider, SessionId, SessionKind];

    /// <summary>The variables of a target in a session: built-ins, then the configuration's, then the target's.</summary>
    internal static Dictionary<string, string> For(BackupConfiguration configuration, BackupTarget target, string sessionId, string kind)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [ConfigurationName] = configuration.Name,
            [TargetName] = target.Name,
            [TargetHost] = target.SnapshotHost,
            [RepositoryLocation] = configuration.Repository.Location,
            [RepositoryProvider] = ProviderOf(configuration.Repository.Location),
            [SessionId] = sessionId,
            [SessionKind] = kind,
        };
        foreach (var (k, v) in configuration.Variables)
        {
            result[k] = v;
        }

        foreach (var (k, v) in target.Variables)
        {
            result[k] = v;
        }

        return result;
    }

    internal static string ProviderOf(string location)
    {
        int colon = location.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && !location.StartsWith('/') && !location.StartsWith('.') ? location[..colon] : "local";
    }
}

/// <summary>
/// Resolves <c>${NAME}</c> references. An unknown name is an error, never an empty string: a bucket or path that
/// silently became empty is how backups end up in the wrong place. <c>$$</c> writes a literal <c>$</c>.
/// </summary>
internal static class VariableResolver
{
    public static string Resolve(string text, IReadOnlyDictionary<string, string> variables, string where)
    {
        if (!text.Contains('$', StringComparison.Ordinal))
        {
            return text;
        }

        var sb = new StringBuilder(text.Length);
        foreach (var (literal, name) in Parse(text, where))
        {
            if (name is null)
            {
                sb.Append(literal);
            }
            else if (variables.TryGetValue(name, out var value))
            {
                sb.Append(value);
            }
            else
            {
                throw new ConfigurationException($"{where}: unknown variable ${{{name}}} (known: {string.Join(", ", variables.Keys.Order(StringComparer.Ordinal))}).");
            }
        }

        return sb.ToString();
    }

    /// <summary>The variable names a text refers to.</summary>
    public static IEnumerable<string> References(string text, string where) =>
        text.Contains('$', StringComparison.Ordinal) ? Parse(text, where).Where(p => p.Name is not null).Select(p => p.Name!) : [];

    public static JsonNode? Resolve(JsonNode? node, IReadOnlyDictionary<string, string> variables, string where) => node switch
    {
        null => null,
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(p.Key, Resolve(p.Value, variables, $"{where}.{p.Key}")))),
        JsonArray array => new JsonArray([.. array.Select((n, i) => Resolve(n, variables, $"{where}[{i}]"))]),
        JsonValue value when value.TryGetValue<string>(out var s) => JsonValue.Create(Resolve(s, variables, where)),
        _ => node.DeepClone(),
    };

    public static IEnumerable<string> References(JsonNode? node, string where) => node switch
    {
        JsonObject obj => obj.SelectMany(p => References(p.Value, where)),
        JsonArray array => array.SelectMany(n => References(n, where)),
        JsonValue value when value.TryGetValue<string>(out var s) => References(s, where),
        _ => [],
    };

    private static List<(string? Literal, string? Name)> Parse(string text, string where)
    {
        var parts = new List<(string?, string?)>();
        int i = 0;
        var literal = new StringBuilder();
        while (i < text.Length)
        {
            char c = text[i];
            if (c != '$')
            {
                literal.Append(c);
                i++;
                continue;
            }

            if (i + 1 < text.Length && text[i + 1] == '$')
            {
                literal.Append('$');
                i += 2;
                continue;
            }

            if (i + 1 < text.Length && text[i + 1] == '{')
            {
                int end = text.IndexOf('}', i + 2);
                if (end < 0)
                {
                    throw new ConfigurationException($"{where}: '${{' without a closing '}}' in \"{text}\".");
                }

                string name = text[(i + 2)..end];
                if (!IsName(name))
                {
                    throw new ConfigurationException($"{where}: '${{{name}}}' is not a variable name (letters, digits and _, not starting with a digit).");
                }

                if (literal.Length > 0)
                {
                    parts.Add((literal.ToString(), null));
                    literal.Clear();
                }

                parts.Add((null, name));
                i = end + 1;
                continue;
            }

            // A lone '$' (for example in a shell snippet "$1") stays as it is.
            literal.Append(c);
            i++;
        }

        if (literal.Length > 0)
        {
            parts.Add((literal.ToString(), null));
        }

        return parts;
    }

    private static bool IsName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_');
}
