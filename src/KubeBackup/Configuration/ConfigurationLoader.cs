using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using KubeBackup.Tasks;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace KubeBackup.Configuration;

/// <summary>
/// Reads a <see cref="BackupConfiguration"/> from YAML or JSON and validates it. Both go through one model: YAML is
/// turned into a JSON document first, so the two formats accept exactly the same fields. Unknown fields are errors (a
/// misspelt <c>keepLast</c> must not silently keep everything).
/// </summary>
public static class ConfigurationLoader
{
    /// <summary>Loads a file: <c>.json</c> as JSON, anything else as YAML.</summary>
    /// <exception cref="ConfigurationException">The file cannot be read, parsed or validated.</exception>
    public static BackupConfiguration LoadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"{path}: {ex.Message}", ex);
        }

        return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? Load(ParseJson(text, path), path) : Load(ParseYaml(text, path), path);
    }

    /// <summary>Loads YAML text.</summary>
    /// <exception cref="ConfigurationException">The text cannot be parsed or validated.</exception>
    public static BackupConfiguration LoadYaml(string yaml)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        return Load(ParseYaml(yaml, "configuration"), "configuration");
    }

    /// <summary>Loads JSON text.</summary>
    /// <exception cref="ConfigurationException">The text cannot be parsed or validated.</exception>
    public static BackupConfiguration LoadJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Load(ParseJson(json, "configuration"), "configuration");
    }

    /// <summary>Writes a configuration as JSON (references to secrets only; values given in code are left out).</summary>
    public static string ToJson(BackupConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return JsonSerializer.Serialize(configuration, ConfigurationJsonContext.Default.BackupConfiguration);
    }

    private static BackupConfiguration Load(JsonNode? node, string source)
    {
        if (node is not JsonObject)
        {
            throw new ConfigurationException($"{source}: a configuration is a mapping (name, repository, targets, …).");
        }

        BackupConfiguration? configuration;
        try
        {
            configuration = node.Deserialize(ConfigurationJsonContext.Default.BackupConfiguration);
        }
        catch (JsonException ex)
        {
            // System.Text.Json names the field as a JSON path ($.targets[0].paths), which reads the same for YAML.
            throw new ConfigurationException($"{source}: {Describe(ex)}", ex);
        }
        catch (FormatException ex)
        {
            throw new ConfigurationException($"{source}: {ex.Message}", ex);
        }

        if (configuration is null)
        {
            throw new ConfigurationException($"{source}: the configuration is empty.");
        }

        configuration.Validate();
        return configuration;
    }

    private static string Describe(JsonException ex)
    {
        string message = ex.InnerException is FormatException or InvalidOperationException ? ex.InnerException.Message : ex.Message;
        // The serializer's own message already ends with "Path: $... | LineNumber...": keep it short and stable.
        int cut = message.IndexOf(" Path: ", StringComparison.Ordinal);
        if (cut > 0)
        {
            message = message[..cut];
        }

        return ex.Path is { Length: > 0 } path ? $"at {path}: {message}" : message;
    }

    private static JsonNode? ParseJson(string text, string source)
    {
        try
        {
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new ConfigurationException($"{source}: not valid JSON: {ex.Message}", ex);
        }
    }

    internal static JsonNode? ParseYaml(string text, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new ConfigurationException($"{source}: not valid YAML at line {ex.Start.Line}, column {ex.Start.Column}: {ex.Message}", ex);
        }

        if (stream.Documents.Count != 1)
        {
            throw new ConfigurationException($"{source}: expected one YAML document, found {stream.Documents.Count}.");
        }

        return ToJson(stream.Documents[0].RootNode, source);
    }

    // Scalars become JSON strings (or null); the model's converters read numbers, booleans, durations and enums from
    // strings. Guessing types here would turn a port "5432" or a tag "1e3" into numbers that a string field refuses.
    private static JsonNode? ToJson(YamlNode node, string source)
    {
        switch (node)
        {
            case YamlScalarNode scalar:
                if (scalar.Style == ScalarStyle.Plain && (scalar.Value is null or "" or "~" or "null" or "Null" or "NULL"))
                {
                    return null;
                }

                return JsonValue.Create(scalar.Value ?? "");
            case YamlSequenceNode sequence:
                var array = new JsonArray();
                foreach (var child in sequence.Children)
                {
                    array.Add(ToJson(child, source));
                }

                return array;
            case YamlMappingNode mapping:
                var obj = new JsonObject();
                foreach (var (key, value) in mapping.Children)
                {
                    if (key is not YamlScalarNode { Value: { } name })
                    {
                        throw new ConfigurationException($"{source}: line {key.Start.Line}: mapping keys must be plain names.");
                    }

                    if (obj.ContainsKey(name))
                    {
                        throw new ConfigurationException($"{source}: line {key.Start.Line}: '{name}' is given twice.");
                    }

                    obj[name] = ToJson(value, source);
                }

                return obj;
            default:
                throw new ConfigurationException($"{source}: line {node.Start.Line}: unsupported YAML node.");
        }
    }
}

/// <summary>Reads durations as Go and Kubernetes write them (<c>90s</c>, <c>1h30m</c>, <c>250ms</c>, <c>2d</c>) or as
/// .NET does (<c>01:30:00</c>), and writes the Go form.</summary>
internal sealed class DurationJsonConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            return TimeSpan.FromSeconds(reader.GetDouble());
        }

        string text = reader.GetString() ?? throw new JsonException("A duration is expected.");
        return Duration.Parse(text);
    }

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) => writer.WriteStringValue(Duration.Format(value));
}

/// <summary>Reads booleans from JSON booleans or from the strings YAML gives (<c>true</c>, <c>false</c>, <c>yes</c>, <c>no</c>).</summary>
internal sealed class LenientBooleanJsonConverter : JsonConverter<bool>
{
    public override bool Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        JsonTokenType.String => reader.GetString()?.ToLowerInvariant() switch
        {
            "true" or "yes" or "on" => true,
            "false" or "no" or "off" => false,
            var s => throw new JsonException($"'{s}' is not true or false."),
        },
        _ => throw new JsonException("true or false is expected."),
    };

    public override void Write(Utf8JsonWriter writer, bool value, JsonSerializerOptions options) => writer.WriteBooleanValue(value);
}

/// <summary>Durations in Go's notation.</summary>
internal static class Duration
{
    public static TimeSpan Parse(string text)
    {
        text = text.Trim();
        if (text.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span))
        {
            return span;
        }

        if (text == "0")
        {
            return TimeSpan.Zero;
        }

        long ticks = 0;
        int i = 0;
        if (text.Length == 0)
        {
            throw new FormatException("An empty duration is not valid.");
        }

        while (i < text.Length)
        {
            int start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }

            if (start == i || !double.TryParse(text.AsSpan(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out double number))
            {
                throw new FormatException($"'{text}' is not a duration such as 30s, 5m or 1h30m.");
            }

            int unitStart = i;
            while (i < text.Length && char.IsAsciiLetter(text[i]))
            {
                i++;
            }

            double unit = text[unitStart..i] switch
            {
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                "h" => TimeSpan.TicksPerHour,
                "d" => TimeSpan.TicksPerDay,
                _ => throw new FormatException($"'{text}' is not a duration such as 30s, 5m or 1h30m (units ms, s, m, h, d)."),
            };
            ticks += (long)(number * unit);
        }

        return TimeSpan.FromTicks(ticks);
    }

    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }

        var parts = new System.Text.StringBuilder();
        if (value.Days > 0)
        {
            parts.Append(CultureInfo.InvariantCulture, $"{value.Days}d");
        }

        if (value.Hours > 0)
        {
            parts.Append(CultureInfo.InvariantCulture, $"{value.Hours}h");
        }

        if (value.Minutes > 0)
        {
            parts.Append(CultureInfo.InvariantCulture, $"{value.Minutes}m");
        }

        if (value.Seconds > 0)
        {
            parts.Append(CultureInfo.InvariantCulture, $"{value.Seconds}s");
        }

        if (value.Milliseconds > 0)
        {
            parts.Append(CultureInfo.InvariantCulture, $"{value.Milliseconds}ms");
        }

        return parts.ToString();
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    PropertyNameCaseInsensitive = true,
    UseStringEnumConverter = true,
    NumberHandling = JsonNumberHandling.AllowReadingFromString,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    WriteIndented = true,
    Converters = [typeof(DurationJsonConverter), typeof(LenientBooleanJsonConverter)])]
[JsonSerializable(typeof(BackupConfiguration))]
[JsonSerializable(typeof(TaskDefinition))]
internal sealed partial class ConfigurationJsonContext : JsonSerializerContext
{
}
