using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using KubeBackup.Restic.Model;

namespace KubeBackup.Restic.Json;

/// <summary>
/// Helpers that read values from a <see cref="Utf8JsonReader"/> with the semantics of Go's <c>encoding/json</c>
/// decoder, which is what restic reads its documents with:
/// <list type="bullet">
/// <item>field names match case-insensitively (with Go's extra folds of U+212A KELVIN SIGN to <c>k</c> and U+017F LONG S
/// to <c>s</c>);</item>
/// <item><c>null</c> leaves a scalar as it was, and makes a slice or pointer nil;</item>
/// <item>strings are unescaped with every invalid UTF-8 byte and every unpaired surrogate escape turned into U+FFFD;</item>
/// <item>a value of the wrong JSON type is an error, as is a number with a fraction or exponent, or out of range, for an
/// integer field.</item>
/// </list>
/// Every error is a <see cref="FormatException"/>.
/// </summary>
internal static class GoJsonReading
{
    /// <summary>The nesting limit. Go allows 10000; restic's documents are a few levels deep, generic attributes aside.</summary>
    public const int MaxDepth = 1000;

    public static Utf8JsonReader Create(ReadOnlySpan<byte> json) =>
        new(json, new JsonReaderOptions { MaxDepth = MaxDepth });

    /// <summary>Moves to the next token, failing at the end of the input.</summary>
    public static void Read(ref Utf8JsonReader r)
    {
        if (!r.Read())
        {
            throw new FormatException("Unexpected end of JSON input.");
        }
    }

    /// <summary>Reads the first token and checks that it opens an object.</summary>
    public static void StartObject(ref Utf8JsonReader r, string what)
    {
        Read(ref r);
        if (r.TokenType != JsonTokenType.StartObject)
        {
            throw new FormatException($"A {what} must be a JSON object, not {Describe(r.TokenType)}.");
        }
    }

    /// <summary>Checks that nothing but whitespace follows the top-level value.</summary>
    public static void End(ref Utf8JsonReader r)
    {
        if (r.Read())
        {
            throw new FormatException("Unexpected data after the top-level JSON value.");
        }
    }

    /// <summary>Within an object, moves to the next property and then onto its value. Returns false at the object's end.
    /// A name with escapes (Go never writes one) is unescaped into a new array so it can be compared.</summary>
    public static bool NextProperty(ref Utf8JsonReader r, out ReadOnlySpan<byte> name)
    {
        Read(ref r);
        if (r.TokenType == JsonTokenType.EndObject)
        {
            name = default;
            return false;
        }

        if (r.ValueIsEscaped)
        {
            byte[] buffer = new byte[r.ValueSpan.Length * 3];
            name = buffer.AsSpan(0, Unescape(r.ValueSpan, buffer));
        }
        else
        {
            name = r.ValueSpan;
        }

        Read(ref r);
        return true;
    }

    /// <summary>Go's field-name match: ASCII case-insensitive, plus the Kelvin sign for k and the long s for s.
    /// <paramref name="lowerName"/> is the field's name in lower case.</summary>
    public static bool NameIs(ReadOnlySpan<byte> name, ReadOnlySpan<byte> lowerName)
    {
        int i = 0;
        foreach (byte n in lowerName)
        {
            if (i >= name.Length)
            {
                return false;
            }

            byte k = name[i];
            if (k == n || ((uint)(n - 'a') <= 'z' - 'a' && (k | 0x20) == n))
            {
                i++;
            }
            else if (n == 'k' && name[i..].StartsWith("\u212A"u8))
            {
                i += 3;
            }
            else if (n == 's' && name[i..].StartsWith("\u017F"u8))
            {
                i += 2;
            }
            else
            {
                return false;
            }
        }

        return i == name.Length;
    }

    public static ulong UInt64(ref Utf8JsonReader r, ulong current, string field)
    {
        if (r.TokenType == JsonTokenType.Null)
        {
            return current;
        }

        if (r.TokenType != JsonTokenType.Number || !r.TryGetUInt64(out ulong value) || !IsPlainInteger(r.ValueSpan))
        {
            throw TypeError(ref r, field, "an unsigned 64-bit integer");
        }

        return value;
    }

    public static uint UInt32(ref Utf8JsonReader r, uint current, string field)
    {
        if (r.TokenType == JsonTokenType.Null)
        {
            return current;
        }

        if (r.TokenType != JsonTokenType.Number || !r.TryGetUInt32(out uint value) || !IsPlainInteger(r.ValueSpan))
        {
            throw TypeError(ref r, field, "an unsigned 32-bit integer");
        }

        return value;
    }

    public static int Int32(ref Utf8JsonReader r, int current, string field)
    {
        if (r.TokenType == JsonTokenType.Null)
        {
            return current;
        }

        if (r.TokenType != JsonTokenType.Number || !r.TryGetInt32(out int value) || !IsPlainInteger(r.ValueSpan))
        {
            throw TypeError(ref r, field, "a 32-bit integer");
        }

        return value;
    }

    public static bool Bool(ref Utf8JsonReader r, bool current, string field) => r.TokenType switch
    {
        JsonTokenType.Null => current,
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => throw TypeError(ref r, field, "true or false"),
    };

    /// <summary>A string's bytes as Go decodes them (always valid UTF-8), or null for JSON <c>null</c>.</summary>
    public static byte[]? StringBytes(ref Utf8JsonReader r, string field)
    {
        if (r.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (r.TokenType != JsonTokenType.String)
        {
            throw TypeError(ref r, field, "a string");
        }

        ReadOnlySpan<byte> raw = r.ValueSpan;
        if (!r.ValueIsEscaped && Utf8.IsValid(raw))
        {
            return raw.ToArray();
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(raw.Length * 3);
        try
        {
            int n = Unescape(raw, buffer);
            return buffer.AsSpan(0, n).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A string value, or <paramref name="current"/> for JSON <c>null</c>.</summary>
    public static string? String(ref Utf8JsonReader r, string? current, string field)
    {
        byte[]? bytes = StringBytes(ref r, field);
        return bytes is null ? current : Encoding.UTF8.GetString(bytes);
    }

    /// <summary>A time; <c>null</c> leaves it as it was (Go's <c>UnmarshalJSON</c> ignores null).</summary>
    public static GoTime Time(ref Utf8JsonReader r, GoTime current, string field)
    {
        if (r.TokenType == JsonTokenType.Null)
        {
            return current;
        }

        if (r.TokenType != JsonTokenType.String)
        {
            throw TypeError(ref r, field, "an RFC 3339 time string");
        }

        ReadOnlySpan<byte> text = r.ValueIsEscaped ? StringBytes(ref r, field)! : r.ValueSpan;
        if (!GoTime.TryParse(text, out var value))
        {
            throw new FormatException($"Field '{field}': '{Encoding.UTF8.GetString(text)}' is not an RFC 3339 time.");
        }

        return value;
    }

    /// <summary>An ID; null is an error, as it is for restic's non-pointer ID fields.</summary>
    public static ResticId Id(ref Utf8JsonReader r, string field) =>
        OptionalId(ref r, field) ?? throw new FormatException($"Field '{field}' must be an ID, not null.");

    /// <summary>An ID, or null for JSON <c>null</c> (restic's <c>*ID</c> fields).</summary>
    public static ResticId? OptionalId(ref Utf8JsonReader r, string field)
    {
        if (r.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (r.TokenType != JsonTokenType.String)
        {
            throw TypeError(ref r, field, "an ID string");
        }

        ReadOnlySpan<byte> text = r.ValueIsEscaped ? StringBytes(ref r, field)! : r.ValueSpan;
        if (!ResticId.TryParseUtf8(text, out var id))
        {
            throw new FormatException($"Field '{field}': '{Encoding.UTF8.GetString(text)}' is not a 64-character hex ID.");
        }

        return id;
    }

    /// <summary>A Go <c>[]byte</c>: standard padded base64, or null for JSON <c>null</c>.</summary>
    public static byte[]? Base64(ref Utf8JsonReader r, string field)
    {
        byte[]? text = StringBytes(ref r, field);
        if (text is null)
        {
            return null;
        }

        // Go's base64 decoder skips CR and LF, nothing else.
        int length = 0;
        foreach (byte b in text)
        {
            if (b is not ((byte)'\r' or (byte)'\n'))
            {
                text[length++] = b;
            }
        }

        var encoded = text.AsSpan(0, length);
        byte[] decoded = new byte[System.Buffers.Text.Base64.GetMaxDecodedFromUtf8Length(length)];
        if (length % 4 != 0
            || encoded.IndexOfAny((byte)' ', (byte)'\t') >= 0
            || System.Buffers.Text.Base64.DecodeFromUtf8(encoded, decoded, out _, out int written) != OperationStatus.Done)
        {
            throw new FormatException($"Field '{field}' is not valid padded base64.");
        }

        return written == decoded.Length ? decoded : decoded.AsSpan(0, written).ToArray();
    }

    /// <summary>A list of IDs, or null for JSON <c>null</c>. Null elements are errors (restic's IDs are values).</summary>
    public static List<ResticId>? IdList(ref Utf8JsonReader r, string field)
    {
        if (r.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (r.TokenType != JsonTokenType.StartArray)
        {
            throw TypeError(ref r, field, "an array of IDs");
        }

        var list = new List<ResticId>();
        while (true)
        {
            Read(ref r);
            if (r.TokenType == JsonTokenType.EndArray)
            {
                return list;
            }

            list.Add(Id(ref r, field));
        }
    }

    /// <summary>A list of strings, or null for JSON <c>null</c>. A null element is an empty string, as in Go.</summary>
    public static List<string>? StringList(ref Utf8JsonReader r, string field)
    {
        if (r.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (r.TokenType != JsonTokenType.StartArray)
        {
            throw TypeError(ref r, field, "an array of strings");
        }

        var list = new List<string>();
        while (true)
        {
            Read(ref r);
            if (r.TokenType == JsonTokenType.EndArray)
            {
                return list;
            }

            list.Add(String(ref r, "", field)!);
        }
    }

    /// <summary>Checks that the current value opens an object (or is null, when <paramref name="allowNull"/>).</summary>
    /// <returns>False for null.</returns>
    public static bool ExpectObject(ref Utf8JsonReader r, string field, bool allowNull)
    {
        if (r.TokenType == JsonTokenType.StartObject)
        {
            return true;
        }

        if (allowNull && r.TokenType == JsonTokenType.Null)
        {
            return false;
        }

        throw TypeError(ref r, field, "an object");
    }

    /// <summary>Checks that the current value opens an array (or is null).</summary>
    /// <returns>False for null.</returns>
    public static bool ExpectArray(ref Utf8JsonReader r, string field)
    {
        if (r.TokenType == JsonTokenType.StartArray)
        {
            return true;
        }

        if (r.TokenType == JsonTokenType.Null)
        {
            return false;
        }

        throw TypeError(ref r, field, "an array");
    }

    /// <summary>The current value's raw JSON text, skipping over it (Go's <c>json.RawMessage</c>).</summary>
    public static byte[] RawValue(ref Utf8JsonReader r, ReadOnlySpan<byte> json)
    {
        int start = (int)r.TokenStartIndex;
        r.Skip();
        int end = (int)r.BytesConsumed;
        return json[start..end].ToArray();
    }

    /// <summary>
    /// Unescapes a JSON string body (the bytes between the quotes) into <paramref name="destination"/>, which needs 3 ×
    /// the input length. Follows Go: a <c>\u</c> surrogate pair makes one character, an unpaired surrogate escape makes
    /// U+FFFD, and so does each byte of invalid UTF-8.
    /// </summary>
    public static int Unescape(ReadOnlySpan<byte> raw, Span<byte> destination)
    {
        int p = 0;
        int i = 0;
        while (i < raw.Length)
        {
            byte b = raw[i];
            if (b == '\\')
            {
                byte e = raw[i + 1];
                i += 2;
                switch (e)
                {
                    case (byte)'b': destination[p++] = 0x08; break;
                    case (byte)'f': destination[p++] = 0x0C; break;
                    case (byte)'n': destination[p++] = 0x0A; break;
                    case (byte)'r': destination[p++] = 0x0D; break;
                    case (byte)'t': destination[p++] = 0x09; break;
                    case (byte)'u':
                    {
                        int c = Hex4(raw[i..]);
                        i += 4;
                        if (char.IsSurrogate((char)c))
                        {
                            int low = i + 6 <= raw.Length && raw[i] == '\\' && raw[i + 1] == 'u' ? Hex4(raw[(i + 2)..]) : -1;
                            if (char.IsHighSurrogate((char)c) && low >= 0 && char.IsLowSurrogate((char)low))
                            {
                                c = char.ConvertToUtf32((char)c, (char)low);
                                i += 6;
                            }
                            else
                            {
                                c = 0xFFFD;
                            }
                        }

                        p += new Rune(c).EncodeToUtf8(destination[p..]);
                        break;
                    }

                    default:
                        // \" \\ \/ stand for themselves; the reader has already rejected any other escape.
                        destination[p++] = e;
                        break;
                }

                continue;
            }

            if (b < 0x80)
            {
                destination[p++] = b;
                i++;
                continue;
            }

            int size = GoUnicode.DecodeRune(raw[i..], out int rune);
            if (rune < 0)
            {
                destination[p++] = 0xEF;
                destination[p++] = 0xBF;
                destination[p++] = 0xBD;
            }
            else
            {
                raw.Slice(i, size).CopyTo(destination[p..]);
                p += size;
            }

            i += size;
        }

        return p;
    }

    public static FormatException TypeError(ref Utf8JsonReader r, string field, string expected) =>
        new($"Field '{field}' must be {expected}, not {Describe(r.TokenType, r.ValueSpan)}.");

    private static string Describe(JsonTokenType type, ReadOnlySpan<byte> value = default) => type switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => $"the number {Encoding.UTF8.GetString(value)}",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => type.ToString(),
    };

    // Go parses integer fields with ParseInt/ParseUint, which refuse "1.0" and "1e3" even where the value is whole.
    private static bool IsPlainInteger(ReadOnlySpan<byte> number) => number.IndexOfAny(".eE"u8) < 0;

    private static int Hex4(ReadOnlySpan<byte> s)
    {
        int v = 0;
        for (int k = 0; k < 4; k++)
        {
            byte c = s[k];
            int h = c switch
            {
                >= (byte)'0' and <= (byte)'9' => c - '0',
                >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
                _ => -1,
            };
            if (h < 0)
            {
                return -1;
            }

            v = (v << 4) | h;
        }

        return v;
    }
}
