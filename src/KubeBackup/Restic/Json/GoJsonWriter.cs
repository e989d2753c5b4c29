using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using KubeBackup.Restic.Model;

namespace KubeBackup.Restic.Json;

/// <summary>
/// Writes JSON tokens exactly as Go 1.19's <c>encoding/json</c> encodes them (restic 0.14 was built with Go 1.19), straight
/// into an <see cref="IBufferWriter{T}"/>. The caller writes the punctuation (<c>{"name":</c> and so on) with
/// <see cref="Raw(ReadOnlySpan{byte})"/>; this type gets the value encodings byte-exact. It allocates nothing per call.
/// </summary>
internal readonly struct GoJsonWriter
{
    private readonly IBufferWriter<byte> _output;

    public GoJsonWriter(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
    }

    /// <summary>Copies bytes that are already JSON (punctuation, field names, literals).</summary>
    public void Raw(ReadOnlySpan<byte> json)
    {
        json.CopyTo(_output.GetSpan(json.Length));
        _output.Advance(json.Length);
    }

    /// <summary>Writes one byte of punctuation.</summary>
    public void Raw(byte b)
    {
        _output.GetSpan(1)[0] = b;
        _output.Advance(1);
    }

    /// <summary>Writes <c>null</c>.</summary>
    public void Null() => Raw("null"u8);

    /// <summary>Writes <c>true</c> or <c>false</c>.</summary>
    public void Bool(bool value) => Raw(value ? "true"u8 : "false"u8);

    /// <summary>Writes an unsigned integer in decimal.</summary>
    public void Number(ulong value)
    {
        Span<byte> span = _output.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out int written);
        _output.Advance(written);
    }

    /// <summary>Writes a signed integer in decimal.</summary>
    public void Number(long value)
    {
        Span<byte> span = _output.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out int written);
        _output.Advance(written);
    }

    /// <summary>Writes a time as Go's <c>time.Time.MarshalJSON</c> (RFC3339Nano, year clamped as restic does).</summary>
    public void Time(GoTime value)
    {
        Span<byte> span = _output.GetSpan(GoTime.MaxFormattedLength + 2);
        span[0] = (byte)'"';
        int n = value.FormatUtf8(span[1..]);
        span[n + 1] = (byte)'"';
        _output.Advance(n + 2);
    }

    /// <summary>Writes an ID as its quoted lower-case hex.</summary>
    public void Id(ResticId id)
    {
        Span<byte> span = _output.GetSpan(ResticId.HexLength + 2);
        span[0] = (byte)'"';
        id.FormatUtf8(span[1..]);
        span[ResticId.HexLength + 1] = (byte)'"';
        _output.Advance(ResticId.HexLength + 2);
    }

    /// <summary>Writes bytes as Go encodes a <c>[]byte</c>: standard base64 with padding, quoted.</summary>
    public void Base64(ReadOnlySpan<byte> data)
    {
        int length = System.Buffers.Text.Base64.GetMaxEncodedToUtf8Length(data.Length);
        Span<byte> span = _output.GetSpan(length + 2);
        span[0] = (byte)'"';
        System.Buffers.Text.Base64.EncodeToUtf8(data, span[1..], out _, out int written);
        span[written + 1] = (byte)'"';
        _output.Advance(written + 2);
    }

    /// <summary>Writes a Go string given as raw bytes (which may be invalid UTF-8), quoted and escaped as Go does:
    /// <c>\" \\ \n \r \t</c>, <c>\u00XX</c> for other control bytes (so <c>\b</c> and <c>\f</c> too, in Go ≤ 1.21),
    /// <c>\u003c \u003e \u0026</c> for <c>&lt; &gt; &amp;</c>, <c>\u2028 \u2029</c>, and <c>\ufffd</c> for each byte of
    /// invalid UTF-8; everything else (DEL, non-ASCII, astral characters) raw.</summary>
    public void String(ReadOnlySpan<byte> utf8)
    {
        // Every input byte yields at most 6 output bytes (a control byte or a bad byte becomes a 6-byte escape; U+2028
        // is 3 bytes in and 6 out).
        Span<byte> span = _output.GetSpan(utf8.Length * 6 + 2);
        int p = 0;
        span[p++] = (byte)'"';
        int i = 0;
        while (i < utf8.Length)
        {
            byte b = utf8[i];
            if (b < 0x80)
            {
                if (IsHtmlSafe(b))
                {
                    span[p++] = b;
                }
                else
                {
                    p += EscapeAscii(b, span[p..]);
                }

                i++;
                continue;
            }

            int size = GoUnicode.DecodeRune(utf8[i..], out int rune);
            if (rune < 0)
            {
                "\\ufffd"u8.CopyTo(span[p..]);
                p += 6;
            }
            else if (rune is 0x2028 or 0x2029)
            {
                "\\u202"u8.CopyTo(span[p..]);
                span[p + 5] = rune == 0x2028 ? (byte)'8' : (byte)'9';
                p += 6;
            }
            else
            {
                utf8.Slice(i, size).CopyTo(span[p..]);
                p += size;
            }

            i += size;
        }

        span[p++] = (byte)'"';
        _output.Advance(p);
    }

    /// <summary>Writes a .NET string as Go would write the same text. A lone surrogate (which no Go string can hold)
    /// is written as U+FFFD.</summary>
    public void String(string? value)
    {
        ReadOnlySpan<char> s = value;

        // A char is at most 3 UTF-8 bytes, or a 6-byte escape.
        Span<byte> span = _output.GetSpan(s.Length * 6 + 2);
        int p = 0;
        span[p++] = (byte)'"';
        int i = 0;
        while (i < s.Length)
        {
            char c = s[i];
            if (c < 0x80)
            {
                if (IsHtmlSafe((byte)c))
                {
                    span[p++] = (byte)c;
                }
                else
                {
                    p += EscapeAscii((byte)c, span[p..]);
                }

                i++;
                continue;
            }

            if (Rune.DecodeFromUtf16(s[i..], out var rune, out int consumed) != OperationStatus.Done)
            {
                rune = Rune.ReplacementChar;
                consumed = 1;
            }

            if (rune.Value is 0x2028 or 0x2029)
            {
                "\\u202"u8.CopyTo(span[p..]);
                span[p + 5] = rune.Value == 0x2028 ? (byte)'8' : (byte)'9';
                p += 6;
            }
            else
            {
                p += rune.EncodeToUtf8(span[p..]);
            }

            i += consumed;
        }

        span[p++] = (byte)'"';
        _output.Advance(p);
    }

    /// <summary>Writes restic's node-name form: the raw name Go-quoted (<c>strconv.Quote</c> without its outer quotes)
    /// and that text JSON-encoded, in one pass.</summary>
    public void GoQuotedString(ReadOnlySpan<byte> raw)
    {
        Span<byte> span = _output.GetSpan(GoStrconv.MaxQuotedLength(raw.Length, forJson: true) + 2);
        span[0] = (byte)'"';
        int n = GoStrconv.QuoteInner(raw, span[1..], forJson: true);
        span[n + 1] = (byte)'"';
        _output.Advance(n + 2);
    }

    /// <summary>
    /// Writes a raw JSON value the way Go writes a <c>json.RawMessage</c>: compacted (whitespace outside strings
    /// dropped) with <c>&lt; &gt; &amp;</c> and U+2028/U+2029 escaped; everything else is kept as it is.
    /// </summary>
    /// <exception cref="ArgumentException">The value is not valid JSON (Go's encoder fails then too).</exception>
    public void RawValue(ReadOnlySpan<byte> json)
    {
        if (!IsSingleJsonValue(json))
        {
            throw new ArgumentException("A raw JSON value is not valid JSON.", nameof(json));
        }

        // Escaping makes it at most six times as long ('<' becomes 6 bytes).
        Span<byte> span = _output.GetSpan(json.Length * 6);
        int p = 0;
        bool inString = false;
        for (int i = 0; i < json.Length; i++)
        {
            byte b = json[i];
            if (!inString)
            {
                if (b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
                {
                    continue;
                }

                inString = b == '"';
                span[p++] = b;
                continue;
            }

            switch (b)
            {
                case (byte)'\\':
                    // Copy the escape's next byte too, so an escaped quote does not end the string.
                    span[p++] = b;
                    span[p++] = json[++i];
                    break;
                case (byte)'"':
                    inString = false;
                    span[p++] = b;
                    break;
                case (byte)'<' or (byte)'>' or (byte)'&':
                    p += EscapeAscii(b, span[p..]);
                    break;
                case 0xE2 when i + 2 < json.Length && json[i + 1] == 0x80 && (json[i + 2] == 0xA8 || json[i + 2] == 0xA9):
                    "\\u202"u8.CopyTo(span[p..]);
                    span[p + 5] = json[i + 2] == 0xA8 ? (byte)'8' : (byte)'9';
                    p += 6;
                    i += 2;
                    break;
                default:
                    span[p++] = b;
                    break;
            }
        }

        _output.Advance(p);
    }

    private static bool IsSingleJsonValue(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = GoJsonReading.MaxDepth });
            if (!reader.Read())
            {
                return false;
            }

            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    // Go's htmlSafeSet: printable ASCII and DEL, except the quote, the backslash and < > &.
    private static bool IsHtmlSafe(byte b) =>
        b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&';

    private static int EscapeAscii(byte b, Span<byte> destination)
    {
        destination[0] = (byte)'\\';
        switch (b)
        {
            case (byte)'"' or (byte)'\\':
                destination[1] = b;
                return 2;
            case (byte)'\n':
                destination[1] = (byte)'n';
                return 2;
            case (byte)'\r':
                destination[1] = (byte)'r';
                return 2;
            case (byte)'\t':
                destination[1] = (byte)'t';
                return 2;
            default:
                // Go 1.19 writes \b and \f this way too; the short forms came with Go 1.22.
                destination[1] = (byte)'u';
                destination[2] = (byte)'0';
                destination[3] = (byte)'0';
                destination[4] = (byte)"0123456789abcdef"[b >> 4];
                destination[5] = (byte)"0123456789abcdef"[b & 0xF];
                return 6;
        }
    }
}
