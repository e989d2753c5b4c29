using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace KubeBackup.Kubernetes.Injection;

/// <summary>An admission.k8s.io/v1 AdmissionReview: the request the API server sends a webhook, and the answer.</summary>
public sealed class AdmissionReview
{
    /// <summary>Always <c>admission.k8s.io/v1</c>.</summary>
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = "admission.k8s.io/v1";

    /// <summary>Always <c>AdmissionReview</c>.</summary>
    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "AdmissionReview";

    /// <summary>The request (set by the API server).</summary>
    [JsonPropertyName("request")]
    public AdmissionRequest? Request { get; set; }

    /// <summary>The answer (set by the webhook).</summary>
    [JsonPropertyName("response")]
    public AdmissionResponse? Response { get; set; }

    /// <summary>Reads a review from JSON.</summary>
    public static AdmissionReview Parse(string json) =>
        JsonSerializer.Deserialize(json, AdmissionJsonContext.Default.AdmissionReview) ?? throw new JsonException("empty AdmissionReview");

    /// <summary>Writes the review as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, AdmissionJsonContext.Default.AdmissionReview);
}

/// <summary>Group, version and kind.</summary>
public sealed class GroupVersionKind
{
    /// <summary>The API group ("" for core).</summary>
    [JsonPropertyName("group")]
    public string Group { get; set; } = "";

    /// <summary>The version.</summary>
    [JsonPropertyName("version")]
    public string Version { get; set; } = "";

    /// <summary>The kind.</summary>
    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "";
}

/// <summary>Group, version and resource.</summary>
public sealed class GroupVersionResource
{
    /// <summary>The API group ("" for core).</summary>
    [JsonPropertyName("group")]
    public string Group { get; set; } = "";

    /// <summary>The version.</summary>
    [JsonPropertyName("version")]
    public string Version { get; set; } = "";

    /// <summary>The resource (plural).</summary>
    [JsonPropertyName("resource")]
    public string Resource { get; set; } = "";
}

/// <summary>What the API server asks about.</summary>
public sealed class AdmissionRequest
{
    /// <summary>Identifies this request; the response must carry it back.</summary>
    [JsonPropertyName("uid")]
    public string Uid { get; set; } = "";

    /// <summary>The object's kind.</summary>
    [JsonPropertyName("kind")]
    public GroupVersionKind? Kind { get; set; }

    /// <summary>The resource.</summary>
    [JsonPropertyName("resource")]
    public GroupVersionResource? Resource { get; set; }

    /// <summary>The subresource, if any.</summary>
    [JsonPropertyName("subResource")]
    public string? SubResource { get; set; }

    /// <summary>The object's name (may be empty on CREATE with generateName).</summary>
    [JsonPropertyName("name")]
    public string? Name { get; set; }

    /// <summary>The namespace.</summary>
    [JsonPropertyName("namespace")]
    public string? Namespace { get; set; }

    /// <summary>CREATE, UPDATE, DELETE or CONNECT.</summary>
    [JsonPropertyName("operation")]
    public string Operation { get; set; } = "";

    /// <summary>The object as it would be stored.</summary>
    [JsonPropertyName("object")]
    public JsonObject? Object { get; set; }

    /// <summary>The stored object before an UPDATE.</summary>
    [JsonPropertyName("oldObject")]
    public JsonObject? OldObject { get; set; }

    /// <summary>Whether the request is a dry run (no side effects allowed).</summary>
    [JsonPropertyName("dryRun")]
    public bool? DryRun { get; set; }
}

/// <summary>A webhook's answer.</summary>
public sealed class AdmissionResponse
{
    /// <summary>The request's uid.</summary>
    [JsonPropertyName("uid")]
    public string Uid { get; set; } = "";

    /// <summary>Whether the request may go on.</summary>
    [JsonPropertyName("allowed")]
    public bool Allowed { get; set; }

    /// <summary>The base64 of a JSON patch, or null for no change.</summary>
    [JsonPropertyName("patch")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Patch { get; set; }

    /// <summary><c>JSONPatch</c> when <see cref="Patch"/> is set.</summary>
    [JsonPropertyName("patchType")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? PatchType { get; set; }

    /// <summary>Warnings shown to the client (kubectl prints them).</summary>
    [JsonPropertyName("warnings")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<string>? Warnings { get; set; }

    /// <summary>The JSON patch operations, decoded from <see cref="Patch"/>.</summary>
    public JsonArray? DecodePatch() => Patch is null ? null : JsonNode.Parse(Convert.FromBase64String(Patch)) as JsonArray;
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AdmissionReview))]
internal sealed partial class AdmissionJsonContext : JsonSerializerContext;
