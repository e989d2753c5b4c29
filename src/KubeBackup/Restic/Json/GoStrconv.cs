using System.Buffers;
using System.Text;

namespace KubeBackup.Restic.Json;

/// <summary>Go's <c>strconv.Quote</c> and <c>strconv.Unquote</c> over raw bytes. restic stores node names Go-quoted
/// (without the outer quotes) inside the JSON string, so names that are not valid UTF-8 survive.</summary>
internal static class GoStrconv
{
    private const int StackLimit = 512;

    /// <summary>Go's <c>strconv.Quote</c> of raw bytes, without the surrounding quotes.</summary>
    /// <remarks>Printable characters (Go 1.19's <c>unicode.IsPrint</c>) are kept; <c>"</c> and <c>\</c> are backslashed;
    /// <c>\a \b \f \n \r \t \v</c> get their short forms; other control bytes, DEL and every byte of invalid UTF-8 become
    /// <c>\xNN</c>; other non-printable characters <c>\uNNNN</c> or <c>\UNNNNNNNN</c> (lower-case hex).</remarks>
    public static string QuoteInner(ReadOnlySpan<byte> raw)
    {
        int max = MaxQuotedLength(raw.Length, forJson: false);
        byte[]? rented = null;
        Span<byte> buffer = max <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            int n = QuoteInner(raw, buffer, forJson: false);
            return Encoding.UTF8.GetString(buffer[..n]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Go's <c>strconv.Unquote</c> of <c>"</c> + <paramref name="inner"/> + <c>"</c>, giving raw bytes.</summary>
    /// <exception cref="FormatException">The text is not a valid Go quoted string body.</exception>
    public static byte[] UnquoteInner(ReadOnlySpan<char> inner)
    {
        // A .NET string cannot hold invalid UTF-8; a lone surrogate becomes U+FFFD, which is what Go does with a bad rune.
        byte[] utf8 = new byte[Encoding.UTF8.GetByteCount(inner)];
        Encoding.UTF8.GetBytes(inner, utf8);
        return UnquoteInner(utf8);
    }

    /// <summary>Go's <c>strconv.Unquote</c> of <c>"</c> + <paramref name="inner"/> + <c>"</c> given as UTF-8, giving raw bytes.</summary>
    /// <exception cref="FormatException">The text is not a valid Go quoted string body.</exception>
    public static byte[] UnquoteInner(ReadOnlySpan<byte> inner)
    {
        // Escapes only shrink; a bad raw byte grows into U+FFFD (3 bytes).
        int max = inner.Length * 3;
        byte[]? rented = null;
        Span<byte> buffer = max <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            if (!TryUnquoteInner(inner, buffer, out int written, out string? error))
            {
                throw new FormatException($"Invalid Go-quoted string \"{Encoding.UTF8.GetString(inner)}\": {error}.");
            }

            return buffer[..written].ToArray();
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The most bytes <see cref="QuoteInner(ReadOnlySpan{byte}, Span{byte}, bool)"/> can write for
    /// <paramref name="rawLength"/> input bytes.</summary>
    internal static int MaxQuotedLength(int rawLength, bool forJson) => rawLength * (forJson ? 6 : 4);

    /// <summary>
    /// Writes Go's quoting of <paramref name="raw"/> (without the outer quotes) as UTF-8. With <paramref name="forJson"/>
    /// the result is also escaped as Go's <c>encoding/json</c> would escape it inside a JSON string, in the same pass:
    /// every backslash of the quoting is doubled, <c>"</c> becomes <c>\\\"</c>, and <c>&lt; &gt; &amp;</c> become
    /// <c>\u003c</c> and so on. No other JSON escaping can arise, because the quoted form has no control characters,
    /// no invalid UTF-8 and no U+2028/U+2029 (those are not printable, so Go quotes them as <c>\u2028</c>).
    /// </summary>
    /// <returns>The number of bytes written; <paramref name="destination"/> must hold
    /// <see cref="MaxQuotedLength"/> bytes.</returns>
    internal static int QuoteInner(ReadOnlySpan<byte> raw, Span<byte> destination, bool forJson)
    {
        int p = 0;
        int i = 0;
        while (i < raw.Length)
        {
            byte b = raw[i];

            // Fast path for the printable ASCII that needs no escaping in either layer: most names are just this.
            if (b >= 0x20 && b < 0x7F && b != '"' && b != '\\' && !(forJson && (b == '<' || b == '>' || b == '&')))
            {
                destination[p++] = b;
                i++;
                continue;
            }

            int size = GoUnicode.DecodeRune(raw[i..], out int rune);
            if (rune < 0)
            {
                Backslash(destination, ref p, forJson);
                destination[p++] = (byte)'x';
                Hex(destination, ref p, b, 2);
                i++;
                continue;
            }

            switch (rune)
            {
                case '"':
                    Backslash(destination, ref p, forJson);
                    if (forJson)
                    {
                        destination[p++] = (byte)'\\';
                    }

                    destination[p++] = (byte)'"';
                    break;
                case '\\':
                    Backslash(destination, ref p, forJson);
                    Backslash(destination, ref p, forJson);
                    break;
                case '<' or '>' or '&':
                    // Printable for Go's quoting; only the JSON layer escapes them (forJson is set, or the fast path
                    // would have taken them).
                    destination[p++] = (byte)'\\';
                    destination[p++] = (byte)'u';
                    Hex(destination, ref p, rune, 4);
                    break;
                case '\a' or '\b' or '\f' or '\n' or '\r' or '\t' or '\v':
                    Backslash(destination, ref p, forJson);
                    destination[p++] = rune switch
                    {
                        '\a' => (byte)'a',
                        '\b' => (byte)'b',
                        '\f' => (byte)'f',
                        '\n' => (byte)'n',
                        '\r' => (byte)'r',
                        '\t' => (byte)'t',
                        _ => (byte)'v',
                    };
                    break;
                default:
                    if (GoUnicode.IsPrint(rune))
                    {
                        raw.Slice(i, size).CopyTo(destination[p..]);
                        p += size;
                    }
                    else if (rune < 0x20 || rune == 0x7F)
                    {
                        Backslash(destination, ref p, forJson);
                        destination[p++] = (byte)'x';
                        Hex(destination, ref p, rune, 2);
                    }
                    else if (rune < 0x10000)
                    {
                        Backslash(destination, ref p, forJson);
                        destination[p++] = (byte)'u';
                        Hex(destination, ref p, rune, 4);
                    }
                    else
                    {
                        Backslash(destination, ref p, forJson);
                        destination[p++] = (byte)'U';
                        Hex(destination, ref p, rune, 8);
                    }

                    break;
            }

            i += size;
        }

        return p;
    }

    /// <summary>Go's <c>strconv.Unquote</c> of a double-quoted body given as UTF-8 into <paramref name="destination"/>
    /// (which must hold 3 × the input length).</summary>
    internal static bool TryUnquoteInner(ReadOnlySpan<byte> inner, Span<byte> destination, out int written, out string? error)
    {
        int p = 0;
        int i = 0;
        error = null;
        written = 0;
        while (i < inner.Length)
        {
            byte c = inner[i];
            if (c == '"')
            {
                error = "unescaped '\"'";
                return false;
            }

            if (c == '\n')
            {
                error = "unescaped newline";
                return false;
            }

            if (c < 0x80 && c != '\\')
            {
                destination[p++] = c;
                i++;
                continue;
            }

            if (c >= 0x80)
            {
                // Go decodes the rune and re-encodes it, so each bad byte turns into U+FFFD.
                int size = GoUnicode.DecodeRune(inner[i..], out int rune);
                if (rune < 0)
                {
                    destination[p++] = 0xEF;
                    destination[p++] = 0xBF;
                    destination[p++] = 0xBD;
                }
                else
                {
                    inner.Slice(i, size).CopyTo(destination[p..]);
                    p += size;
                }

                i += size;
                continue;
            }

            // A backslash escape.
            if (i + 1 >= inner.Length)
            {
                error = "backslash at the end";
                return false;
            }

            byte e = inner[i + 1];
            i += 2;
            switch (e)
            {
                case (byte)'a': destination[p++] = 0x07; break;
                case (byte)'b': destination[p++] = 0x08; break;
                case (byte)'f': destination[p++] = 0x0C; break;
                case (byte)'n': destination[p++] = 0x0A; break;
                case (byte)'r': destination[p++] = 0x0D; break;
                case (byte)'t': destination[p++] = 0x09; break;
                case (byte)'v': destination[p++] = 0x0B; break;
                case (byte)'\\': destination[p++] = (byte)'\\'; break;
                case (byte)'"': destination[p++] = (byte)'"'; break;
                case (byte)'x' or (byte)'u' or (byte)'U':
                {
                    int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    if (i + digits > inner.Length)
                    {
                        error = $"short \\{(char)e} escape";
                        return false;
                    }

                    uint v = 0;
                    for (int k = 0; k < digits; k++)
                    {
                        int h = HexValue(inner[i + k]);
                        if (h < 0)
                        {
                            error = $"bad hex digit in \\{(char)e} escape";
                            return false;
                        }

                        v = (v << 4) | (uint)h;
                    }

                    i += digits;
                    if (e == 'x')
                    {
                        // \xNN is one raw byte, possibly not UTF-8: that is how restic keeps invalid names.
                        destination[p++] = (byte)v;
                    }
                    else
                    {
                        if (!Rune.TryCreate(v, out var r))
                        {
                            error = $"\\{(char)e} escape is not a valid code point";
                            return false;
                        }

                        p += r.EncodeToUtf8(destination[p..]);
                    }

                    break;
                }

                case >= (byte)'0' and <= (byte)'7':
                {
                    // Three octal digits, the first already read; the value must fit a byte.
                    if (i + 2 > inner.Length)
                    {
                        error = "short octal escape";
                        return false;
                    }

                    int v = e - '0';
                    for (int k = 0; k < 2; k++)
                    {
                        int d = inner[i + k] - '0';
                        if (d is < 0 or > 7)
                        {
                            error = "bad octal digit";
                            return false;
                        }

                        v = (v << 3) | d;
                    }

                    if (v > 255)
                    {
                        error = "octal escape above \\377";
                        return false;
                    }

                    i += 2;
                    destination[p++] = (byte)v;
                    break;
                }

                default:
                    // This includes \' , which Go accepts only in single-quoted literals.
                    error = $"unknown escape \\{(char)e}";
                    return false;
            }
        }

        written = p;
        return true;
    }

    private static void Backslash(Span<byte> destination, ref int p, bool forJson)
    {
        destination[p++] = (byte)'\\';
        if (forJson)
        {
            destination[p++] = (byte)'\\';
        }
    }

    private static void Hex(Span<byte> destination, ref int p, int value, int digits)
    {
        for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4)
        {
            destination[p++] = (byte)"0123456789abcdef"[(value >> shift) & 0xF];
        }
    }

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };
}
