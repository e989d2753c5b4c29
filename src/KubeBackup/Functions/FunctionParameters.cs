using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using KubeBackup.Configuration;

namespace KubeBackup.Functions;

/// <summary>
/// A step's parameters with typed getters. Every getter records what it read; a missing required parameter, a value
/// of the wrong type and a parameter no getter asked for are all collected and reported at once.
/// </summary>
public sealed class FunctionParameters
{
    private readonly IReadOnlyDictionary<string, JsonNode?> _values;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);
    private readonly List<string> _problems = [];

    /// <summary>Wraps resolved parameter values of a step.</summary>
    /// <param name="where">How problems name the step, for example <c>task backup, step 2 (stream-backup)</c>.</param>
    /// <param name="values">The values.</param>
    public FunctionParameters(string where, IReadOnlyDictionary<string, JsonNode?> values)
    {
        ArgumentNullException.ThrowIfNull(where);
        ArgumentNullException.ThrowIfNull(values);
        Where = where;
        _values = values;
    }

    /// <summary>How problems name the step.</summary>
    public string Where { get; }

    /// <summary>Whether a parameter is given.</summary>
    public bool Has(string name)
    {
        _read.Add(name);
        return _values.TryGetValue(name, out var v) && v is not null;
    }

    /// <summary>A required string.</summary>
    public string GetString(string name)
    {
        var s = GetOptionalString(name);
        if (s is null)
        {
            Problem($"parameter '{name}' is required");
            return "";
        }

        return s;
    }

    /// <summary>An optional string; numbers and booleans are read as their text.</summary>
    public string? GetOptionalString(string name, string? defaultValue = null)
    {
        var node = Get(name);
        if (node is null)
        {
            return defaultValue;
        }

        if (node is JsonValue value)
        {
            return value.GetValueKind() switch
            {
                JsonValueKind.String => value.GetValue<string>(),
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.ToJsonString(),
                _ => defaultValue,
            };
        }

        Problem($"parameter '{name}' must be a single value");
        return defaultValue;
    }

    /// <summary>A list of strings (a command's argv, paths, tags). A single string is not split: commands are argv.</summary>
    public IReadOnlyList<string> GetStringList(string name, bool required = false)
    {
        var node = Get(name);
        if (node is null)
        {
            if (required)
            {
                Problem($"parameter '{name}' is required");
            }

            return [];
        }

        if (node is not JsonArray array)
        {
            Problem($"parameter '{name}' must be a list (a command is argv, for example [pg_dumpall, -U, postgres]; write [sh, -c, '…'] to use a shell)");
            return [];
        }

        var result = new List<string>(array.Count);
        foreach (var item in array)
        {
            if (item is JsonValue v && v.GetValueKind() is JsonValueKind.String or JsonValueKind.Number)
            {
                result.Add(v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString());
            }
            else
            {
                Problem($"parameter '{name}' must be a list of strings");
                return [];
            }
        }

        if (required && result.Count == 0)
        {
            Problem($"parameter '{name}' must not be empty");
        }

        return result;
    }

    /// <summary>A map of strings (environment variables, headers).</summary>
    public IReadOnlyDictionary<string, string> GetStringMap(string name)
    {
        var node = Get(name);
        if (node is null)
        {
            return new Dictionary<string, string>();
        }

        if (node is not JsonObject obj)
        {
            Problem($"parameter '{name}' must be a mapping");
            return new Dictionary<string, string>();
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in obj)
        {
            if (v is JsonValue value && value.GetValueKind() is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
            {
                result[k] = value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString();
            }
            else
            {
                Problem($"parameter '{name}.{k}' must be a single value");
            }
        }

        return result;
    }

    /// <summary>A boolean (<c>true</c>/<c>false</c>, also as text).</summary>
    public bool GetBoolean(string name, bool defaultValue)
    {
        var s = GetOptionalString(name);
        if (s is null)
        {
            return defaultValue;
        }

        switch (s.ToLowerInvariant())
        {
            case "true" or "yes" or "on":
                return true;
            case "false" or "no" or "off":
                return false;
            default:
                Problem($"parameter '{name}' must be true or false, not '{s}'");
                return defaultValue;
        }
    }

    /// <summary>An integer.</summary>
    public long GetInt64(string name, long defaultValue, long min = long.MinValue, long max = long.MaxValue)
    {
        var s = GetOptionalString(name);
        if (s is null)
        {
            return defaultValue;
        }

        if (!long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) || value < min || value > max)
        {
            Problem($"parameter '{name}' must be a whole number from {min} to {max}, not '{s}'");
            return defaultValue;
        }

        return value;
    }

    /// <summary>A duration (<c>30s</c>, <c>5m</c>, <c>1h30m</c>).</summary>
    public TimeSpan? GetDuration(string name, TimeSpan? defaultValue = null)
    {
        var s = GetOptionalString(name);
        if (s is null)
        {
            return defaultValue;
        }

        try
        {
            return Duration.Parse(s);
        }
        catch (FormatException ex)
        {
            Problem($"parameter '{name}': {ex.Message}");
            return defaultValue;
        }
    }

    /// <summary>An enumeration value by name (case-insensitive).</summary>
    public TEnum GetEnum<TEnum>(string name, TEnum defaultValue)
        where TEnum : struct, Enum
    {
        var s = GetOptionalString(name);
        if (s is null)
        {
            return defaultValue;
        }

        if (Enum.TryParse<TEnum>(s, ignoreCase: true, out var value) && Enum.IsDefined(value) && !char.IsAsciiDigit(s[0]))
        {
            return value;
        }

        Problem($"parameter '{name}' must be one of {string.Join(", ", Enum.GetNames<TEnum>())}, not '{s}'");
        return defaultValue;
    }

    /// <summary>Records a problem found while binding (for checks across parameters).</summary>
    public void Problem(string message) => _problems.Add($"{Where}: {message}");

    /// <summary>Throws when a getter found a problem or a parameter was never read.</summary>
    /// <exception cref="ConfigurationException">The problems.</exception>
    public void ThrowIfInvalid()
    {
        foreach (var key in _values.Keys.Where(k => !_read.Contains(k)).Order(StringComparer.Ordinal))
        {
            _problems.Add($"{Where}: unknown parameter '{key}' (known: {string.Join(", ", _read.Order(StringComparer.Ordinal))})");
        }

        if (_problems.Count > 0)
        {
            throw new ConfigurationException(_problems);
        }
    }

    private JsonNode? Get(string name)
    {
        _read.Add(name);
        return _values.TryGetValue(name, out var node) ? node : null;
    }
}
