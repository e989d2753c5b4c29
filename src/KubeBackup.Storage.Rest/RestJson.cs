using System.Text.Json.Serialization;

namespace KubeBackup.Storage.Rest;

/// <summary>One entry of a version-2 listing: <c>{"name": "…", "size": 123}</c>.</summary>
internal sealed class ListEntry
{
    [JsonPropertyName("name")]
    public string? Name { get; set; }

    [JsonPropertyName("size")]
    public long Size { get; set; }
}

[JsonSerializable(typeof(ListEntry[]))]
internal sealed partial class RestJsonContext : JsonSerializerContext;
