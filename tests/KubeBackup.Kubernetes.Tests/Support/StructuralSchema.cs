using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace KubeBackup.Kubernetes.Tests.Support;

/// <summary>
/// Checks an object against a CRD's structural OpenAPI v3 schema the way the API server's validation and pruning treat
/// it: types, required fields, enums, patterns, minimums, and unknown fields (which the server would silently prune, so
/// here they are errors: a typo in a sample must not pass). Scalars may be YAML strings; they are read by the schema's type.
/// </summary>
public static class StructuralSchema
{
    public static List<string> Validate(JsonNode? value, JsonNode schema, string path = "")
    {
        var errors = new List<string>();
        Check(value, schema, path.Length == 0 ? "$" : path, errors);
        return errors;
    }

    private static void Check(JsonNode? value, JsonNode schema, string path, List<string> errors)
    {
        if (value is null)
        {
            return;
        }

        string? type = (string?)schema["type"];
        switch (type)
        {
            case "object":
                if (value is not JsonObject obj)
                {
                    errors.Add($"{path}: expected an object");
                    return;
                }

                var props = schema["properties"] as JsonObject;
                bool preserve = (bool?)Bool(schema["x-kubernetes-preserve-unknown-fields"]) == true;
                var additional = schema["additionalProperties"];
                foreach (var required in schema["required"] as JsonArray ?? [])
                {
                    if (!obj.ContainsKey((string)required!))
                    {
                        errors.Add($"{path}: missing required field '{required}'");
                    }
                }

                foreach (var (k, v) in obj)
                {
                    if (props is not null && props.TryGetPropertyValue(k, out var sub) && sub is not null)
                    {
                        Check(v, sub, $"{path}.{k}", errors);
                    }
                    else if (additional is JsonObject addSchema)
                    {
                        Check(v, addSchema, $"{path}.{k}", errors);
                    }
                    else if (!preserve && props is not null)
                    {
                        errors.Add($"{path}: unknown field '{k}' (the API server would drop it)");
                    }
                }

                break;
            case "array":
                if (value is not JsonArray arr)
                {
                    errors.Add($"{path}: expected an array");
                    return;
                }

                if (schema["minItems"] is { } min && arr.Count < int.Parse(min.ToString(), CultureInfo.InvariantCulture))
                {
                    errors.Add($"{path}: fewer than {min} items");
                }

                for (int i = 0; i < arr.Count; i++)
                {
                    if (schema["items"] is { } items)
                    {
                        Check(arr[i], items, $"{path}[{i}]", errors);
                    }
                }

                break;
            case "string":
            {
                var s = Scalar(value);
                if (s is null)
                {
                    errors.Add($"{path}: expected a string");
                    return;
                }

                if (schema["enum"] is JsonArray e && !e.Any(x => x?.ToString() == s))
                {
                    errors.Add($"{path}: '{s}' is not one of {e.ToJsonString()}");
                }

                if ((string?)schema["pattern"] is { } pattern && !Regex.IsMatch(s, pattern))
                {
                    errors.Add($"{path}: '{s}' does not match {pattern}");
                }

                if ((string?)schema["format"] == "date-time" && !DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, out _))
                {
                    errors.Add($"{path}: '{s}' is not a date-time");
                }

                break;
            }

            case "integer":
            {
                var s = Scalar(value);
                if (!long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n))
                {
                    errors.Add($"{path}: '{s}' is not an integer");
                    return;
                }

                if (schema["minimum"] is { } minimum && n < long.Parse(minimum.ToString(), CultureInfo.InvariantCulture))
                {
                    errors.Add($"{path}: {n} is below {minimum}");
                }

                break;
            }

            case "boolean":
                if (Bool(value) is null)
                {
                    errors.Add($"{path}: expected a boolean");
                }

                break;
        }
    }

    private static string? Scalar(JsonNode value) => value is JsonValue v ? v.ToString() : null;

    private static bool? Bool(JsonNode? value) => value is JsonValue v ? v.ToString() switch { "true" or "True" => true, "false" or "False" => false, _ => null } : null;

    /// <summary>Every YAML document of a file as JSON (scalars as strings).</summary>
    public static List<JsonObject> LoadYaml(string path)
    {
        var deserializer = new DeserializerBuilder().Build();
        var result = new List<JsonObject>();
        using var reader = new StringReader(File.ReadAllText(path));
        var parser = new YamlDotNet.Core.Parser(reader);
        parser.Consume<YamlDotNet.Core.Events.StreamStart>();
        while (parser.Accept<YamlDotNet.Core.Events.DocumentStart>(out _))
        {
            var doc = deserializer.Deserialize<object>(parser);
            if (ToJson(doc) is JsonObject o)
            {
                result.Add(o);
            }
        }

        return result;
    }

    public static JsonNode? ToJson(object? yaml) => yaml switch
    {
        null => null,
        IDictionary<object, object> map => new JsonObject(map.Select(kv => KeyValuePair.Create(kv.Key.ToString()!, ToJson(kv.Value)))),
        IList<object> list => new JsonArray(list.Select(ToJson).ToArray()),
        _ => JsonValue.Create(yaml.ToString()),
    };

    /// <summary>The same tree with every scalar as its string form, to compare typed JSON with YAML.</summary>
    public static JsonNode? Normalize(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => new JsonObject(o.Where(kv => kv.Value is not null).Select(kv => KeyValuePair.Create(kv.Key, Normalize(kv.Value)))),
        JsonArray a => new JsonArray(a.Select(Normalize).ToArray()),
        JsonValue v => JsonValue.Create(v.ToString()),
        _ => null,
    };
}
