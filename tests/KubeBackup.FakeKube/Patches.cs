using System.Globalization;
using System.Text.Json.Nodes;

namespace KubeBackup.FakeKube;

/// <summary>The three patch formats the API server accepts: RFC 6902 JSON patch, RFC 7386 merge patch, and Kubernetes'
/// strategic merge patch (lists of known fields merged by their merge key).</summary>
public static class Patches
{
    /// <summary>List fields merged by key in a strategic merge patch (field name → merge key), as in the Kubernetes API types.</summary>
    public static IReadOnlyDictionary<string, string> MergeKeys { get; } = new Dictionary<string, string>
    {
        ["containers"] = "name",
        ["initContainers"] = "name",
        ["ephemeralContainers"] = "name",
        ["volumes"] = "name",
        ["env"] = "name",
        ["imagePullSecrets"] = "name",
        ["volumeMounts"] = "mountPath",
        ["volumeDevices"] = "devicePath",
        ["ports"] = "containerPort",
        ["conditions"] = "type",
        ["ownerReferences"] = "uid",
        ["hostAliases"] = "ip",
        ["tolerations"] = "key",
        ["volumeClaimTemplates"] = "metadata",
    };

    /// <summary>Applies an RFC 6902 patch to a copy of <paramref name="target"/>.</summary>
    /// <exception cref="PatchException">An operation cannot be applied (missing path, failed test).</exception>
    public static JsonNode? ApplyJsonPatch(JsonNode? target, JsonArray operations)
    {
        ArgumentNullException.ThrowIfNull(operations);
        var doc = target?.DeepClone();
        foreach (var opNode in operations)
        {
            var op = opNode as JsonObject ?? throw new PatchException("a JSON patch operation must be an object");
            string name = (string?)op["op"] ?? throw new PatchException("operation without 'op'");
            string path = (string?)op["path"] ?? throw new PatchException("operation without 'path'");
            switch (name)
            {
                case "add":
                    doc = Add(doc, path, RequireValue(op));
                    break;
                case "remove":
                    doc = Remove(doc, path, out _);
                    break;
                case "replace":
                    doc = Remove(doc, path, out _);
                    doc = Add(doc, path, RequireValue(op));
                    break;
                case "move":
                {
                    string from = (string?)op["from"] ?? throw new PatchException("move without 'from'");
                    doc = Remove(doc, from, out var moved);
                    doc = Add(doc, path, moved);
                    break;
                }

                case "copy":
                {
                    string from = (string?)op["from"] ?? throw new PatchException("copy without 'from'");
                    doc = Add(doc, path, Resolve(doc, from)?.DeepClone());
                    break;
                }

                case "test":
                    if (!JsonNode.DeepEquals(Resolve(doc, path), op["value"]))
                    {
                        throw new PatchException($"test failed at '{path}'");
                    }

                    break;
                default:
                    throw new PatchException($"unknown operation '{name}'");
            }
        }

        return doc;
    }

    private static JsonNode? RequireValue(JsonObject op) =>
        op.TryGetPropertyValue("value", out var v) ? v?.DeepClone() : throw new PatchException("operation without 'value'");

    private static List<string> Pointer(string path)
    {
        if (path.Length == 0)
        {
            return [];
        }

        if (path[0] != '/')
        {
            throw new PatchException($"'{path}' is not a JSON pointer");
        }

        return path[1..].Split('/').Select(s => s.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToList();
    }

    private static JsonNode? Resolve(JsonNode? doc, string path)
    {
        var node = doc;
        foreach (var part in Pointer(path))
        {
            node = node switch
            {
                JsonObject o when o.TryGetPropertyValue(part, out var child) => child,
                JsonArray a when int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int i) && i < a.Count => a[i],
                _ => throw new PatchException($"path '{path}' does not exist"),
            };
        }

        return node;
    }

    private static JsonNode? Add(JsonNode? doc, string path, JsonNode? value)
    {
        var parts = Pointer(path);
        if (parts.Count == 0)
        {
            return value;
        }

        var parent = Resolve(doc, "/" + string.Join('/', parts.Take(parts.Count - 1).Select(Escape)));
        string last = parts[^1];
        switch (parent)
        {
            case JsonObject o:
                o[last] = value;
                break;
            case JsonArray a when last == "-":
                a.Add(value);
                break;
            case JsonArray a when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out int i) && i <= a.Count:
                a.Insert(i, value);
                break;
            default:
                throw new PatchException($"cannot add at '{path}'");
        }

        return doc;
    }

    private static JsonNode? Remove(JsonNode? doc, string path, out JsonNode? removed)
    {
        var parts = Pointer(path);
        if (parts.Count == 0)
        {
            removed = doc;
            return null;
        }

        var parent = Resolve(doc, "/" + string.Join('/', parts.Take(parts.Count - 1).Select(Escape)));
        string last = parts[^1];
        switch (parent)
        {
            case JsonObject o when o.TryGetPropertyValue(last, out var v):
                o.Remove(last);
                removed = v;
                break;
            case JsonArray a when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out int i) && i < a.Count:
                removed = a[i];
                a.RemoveAt(i);
                break;
            default:
                throw new PatchException($"path '{path}' does not exist");
        }

        return doc;
    }

    private static string Escape(string s) => s.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    /// <summary>Applies an RFC 7386 merge patch to a copy of <paramref name="target"/>.</summary>
    public static JsonNode? ApplyMergePatch(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject p)
        {
            return patch?.DeepClone();
        }

        var result = target is JsonObject t ? (JsonObject)t.DeepClone() : new JsonObject();
        foreach (var (key, value) in p)
        {
            if (value is null)
            {
                result.Remove(key);
            }
            else
            {
                result[key] = ApplyMergePatch(result[key], value);
            }
        }

        return result;
    }

    /// <summary>Applies a strategic merge patch: like a merge patch, but lists with a merge key are merged item by
    /// item, and <c>$patch: delete|replace</c> directives are honoured.</summary>
    public static JsonNode? ApplyStrategicMergePatch(JsonNode? target, JsonNode? patch) => Strategic(target, patch, null);

    private static JsonNode? Strategic(JsonNode? target, JsonNode? patch, string? fieldName)
    {
        switch (patch)
        {
            case JsonObject p:
            {
                if ((string?)p["$patch"] == "replace")
                {
                    var copy = (JsonObject)p.DeepClone();
                    copy.Remove("$patch");
                    return copy;
                }

                var result = target is JsonObject t ? (JsonObject)t.DeepClone() : new JsonObject();
                foreach (var (key, value) in p)
                {
                    if (key.StartsWith('$'))
                    {
                        continue;
                    }

                    if (value is null)
                    {
                        result.Remove(key);
                    }
                    else
                    {
                        result[key] = Strategic(result[key], value, key);
                    }
                }

                return result;
            }

            case JsonArray pa when fieldName is not null && MergeKeys.TryGetValue(fieldName, out var mergeKey) && pa.All(i => i is JsonObject):
                return MergeList(target as JsonArray, pa, mergeKey);
            default:
                return patch?.DeepClone();
        }
    }

    private static JsonArray MergeList(JsonArray? target, JsonArray patch, string mergeKey)
    {
        var result = target is null ? new JsonArray() : (JsonArray)target.DeepClone();
        foreach (var item in patch.Cast<JsonObject>())
        {
            var key = item[mergeKey];
            int index = -1;
            for (int i = 0; i < result.Count; i++)
            {
                if (JsonNode.DeepEquals(result[i]?[mergeKey], key))
                {
                    index = i;
                    break;
                }
            }

            string? directive = (string?)item["$patch"];
            if (directive == "delete")
            {
                if (index >= 0)
                {
                    result.RemoveAt(index);
                }

                continue;
            }

            if (index >= 0)
            {
                result[index] = Strategic(result[index], item, null);
            }
            else
            {
                result.Add(Strategic(null, item, null));
            }
        }

        return result;
    }
}

/// <summary>A patch that cannot be applied.</summary>
public sealed class PatchException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PatchException(string message) : base(message)
    {
    }
}
