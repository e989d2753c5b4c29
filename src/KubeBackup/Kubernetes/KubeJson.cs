using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;

namespace KubeBackup.Kubernetes;

/// <summary>Custom objects come back from the client as <see cref="JsonElement"/>s; these helpers read them as nodes.</summary>
internal static class KubeJson
{
    public static JsonObject ToObject(object? value) => value switch
    {
        JsonObject o => o,
        JsonElement e => JsonNode.Parse(e.GetRawText()) as JsonObject ?? new JsonObject(),
        null => new JsonObject(),
        _ => JsonNode.Parse(KubernetesJson.Serialize(value)) as JsonObject ?? new JsonObject(),
    };

    public static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node is JsonValue v2 && v2.TryGetValue<JsonElement>(out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;

    public static bool? Bool(JsonNode? node) => node is JsonValue v && v.TryGetValue<bool>(out var b) ? b
        : node is JsonValue v2 && v2.TryGetValue<JsonElement>(out var e) && e.ValueKind is JsonValueKind.True or JsonValueKind.False ? e.GetBoolean() : null;

    public static Dictionary<string, string> Map(JsonNode? node)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node is JsonObject o)
        {
            foreach (var (k, v) in o)
            {
                if (Str(v) is { } s)
                {
                    result[k] = s;
                }
            }
        }

        return result;
    }
}
