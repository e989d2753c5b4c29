using System.Buffers;
using System.Collections;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace KubeBackup.Cli;

/// <summary>
/// Writes the <c>--json</c> output from dictionaries, lists and primitive values with a <see cref="Utf8JsonWriter"/>:
/// no reflection, so the host behaves the same as a native (ahead-of-time compiled) executable, where reflection-based
/// serialisation of <c>object</c> values is not available.
/// </summary>
internal static class JsonOutput
{
    private static readonly JsonWriterOptions Escaped = new();

    // restic (Go's encoding/json) leaves non-ASCII text as it is; the forget output matches it byte for byte.
    private static readonly JsonWriterOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>One JSON document for <paramref name="value"/>.</summary>
    /// <exception cref="NotSupportedException">A value of a type this writer has no JSON form for (a programming error).</exception>
    public static string Serialize(object? value, bool relaxedEscaping = false)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, relaxedEscaping ? Relaxed : Escaped))
        {
            Write(writer, value);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Write(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case int i:
                writer.WriteNumberValue(i);
                break;
            case uint u:
                writer.WriteNumberValue(u);
                break;
            case long l:
                writer.WriteNumberValue(l);
                break;
            case ulong ul:
                writer.WriteNumberValue(ul);
                break;
            case double d:
                writer.WriteNumberValue(d);
                break;
            case IDictionary properties:
                // Every Dictionary<string, T> is one, whatever T is (counts per reason, lists per key).
                writer.WriteStartObject();
                foreach (DictionaryEntry entry in properties)
                {
                    writer.WritePropertyName(entry.Key as string ?? throw new NotSupportedException("JSON object keys are strings."));
                    Write(writer, entry.Value);
                }

                writer.WriteEndObject();
                break;
            case IEnumerable items:
                writer.WriteStartArray();
                foreach (var item in items)
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                throw new NotSupportedException($"The JSON output has no form for a {value.GetType().Name}.");
        }
    }
}
