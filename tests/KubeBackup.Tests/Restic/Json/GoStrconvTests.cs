using System.Text;
using KubeBackup.Restic.Json;

namespace KubeBackup.Tests.Restic.Json;

public class GoStrconvTests
{
    public static TheoryData<byte[], string> QuoteCases => new()
    {
        { Encoding.UTF8.GetBytes("plain.txt"), "plain.txt" },
        { Encoding.UTF8.GetBytes("we\"ird\\name"), "we\\\"ird\\\\name" },
        { Encoding.UTF8.GetBytes("with space"), "with space" },
        { Encoding.UTF8.GetBytes("\a\b\f\n\r\t\v"), "\\a\\b\\f\\n\\r\\t\\v" },
        { [0x00, 0x01, 0x1B, 0x1F, 0x7F], "\\x00\\x01\\x1b\\x1f\\x7f" },
        // Only U+0020 counts as a printable space; NBSP and the other Z* characters are escaped.
        { Encoding.UTF8.GetBytes("a\u00A0b\u2028c\u2029d\u3000e"), "a\\u00a0b\\u2028c\\u2029d\\u3000e" },
        // Format characters (Cf) are not printable either.
        { Encoding.UTF8.GetBytes("soft\u00ADhy\u200Dzwj\uFEFF"), "soft\\u00adhy\\u200dzwj\\ufeff" },
        // Non-ASCII letters, symbols and astral characters are kept raw.
        { Encoding.UTF8.GetBytes("ñandú-日本語-😀-€-<>&"), "ñandú-日本語-😀-€-<>&" },
        // U+1FAE0 (melting face) arrived in Unicode 14; Go 1.19 has Unicode 13, so restic 0.14 escapes it.
        { Encoding.UTF8.GetBytes("melt-\U0001FAE0"), "melt-\\U0001fae0" },
        // Private use and unassigned code points.
        { Encoding.UTF8.GetBytes("\uE000\U000F0000\U0010FFFF"), "\\ue000\\U000f0000\\U0010ffff" },
        { Encoding.UTF8.GetBytes("\u0378"), "\\u0378" },
        // Every byte of invalid UTF-8 is escaped on its own, in lower-case hex.
        { [0xFF, (byte)'a', 0xC3], "\\xffa\\xc3" },
        { [0xED, 0xA0, 0x80], "\\xed\\xa0\\x80" },
        { [0xE2, 0x82], "\\xe2\\x82" },
        { [0xC0, 0xAF], "\\xc0\\xaf" },
        { [0xF4, 0x90, 0x80, 0x80], "\\xf4\\x90\\x80\\x80" },
        // A real U+FFFD is printable and kept.
        { [0xEF, 0xBF, 0xBD], "\uFFFD" },
        { [], "" },
    };

    [Theory]
    [MemberData(nameof(QuoteCases))]
    public void Quote_matches_go(byte[] raw, string expected)
    {
        Assert.Equal(expected, GoStrconv.QuoteInner(raw));
        Assert.Equal(raw, GoStrconv.UnquoteInner(expected));
        Assert.Equal(raw, GoStrconv.UnquoteInner(Encoding.UTF8.GetBytes(expected)));
    }

    [Theory]
    [InlineData("\\a\\b\\f\\n\\r\\t\\v\\\\\\\"", new byte[] { 7, 8, 12, 10, 13, 9, 11, 0x5C, 0x22 })]
    [InlineData("\\x41\\xfF", new byte[] { 0x41, 0xFF })]
    [InlineData("\\101\\000\\377", new byte[] { 0x41, 0x00, 0xFF })]
    [InlineData("\\u00e9\\u00C9", new byte[] { 0xC3, 0xA9, 0xC3, 0x89 })]
    [InlineData("\\U0001F600", new byte[] { 0xF0, 0x9F, 0x98, 0x80 })]
    [InlineData("raw\ttab\rcr", new byte[] { 0x72, 0x61, 0x77, 0x09, 0x74, 0x61, 0x62, 0x0D, 0x63, 0x72 })]
    public void Unquote_accepts_all_go_escapes(string inner, byte[] expected)
    {
        Assert.Equal(expected, GoStrconv.UnquoteInner(inner));
    }

    [Theory]
    [InlineData("a\"b")]
    [InlineData("a\nb")]
    [InlineData("end\\")]
    [InlineData("\\q")]
    [InlineData("\\'")]
    [InlineData("\\x4")]
    [InlineData("\\xg0")]
    [InlineData("\\u12")]
    [InlineData("\\ud800")]
    [InlineData("\\U00110000")]
    [InlineData("\\400")]
    [InlineData("\\18")]
    [InlineData("\\1")]
    public void Unquote_rejects_what_go_rejects(string inner)
    {
        Assert.Throws<FormatException>(() => GoStrconv.UnquoteInner(inner));
    }

    [Fact]
    public void Unquote_turns_raw_invalid_utf8_into_replacement_characters()
    {
        Assert.Equal(new byte[] { 0x61, 0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD }, GoStrconv.UnquoteInner(new byte[] { 0x61, 0xFF, 0xFE }));
    }

    [Fact]
    public void Unquote_of_quote_is_identity_for_random_bytes()
    {
        var random = new Random(20221027);
        byte[] interesting = [0x00, 0x07, 0x0A, 0x22, 0x5C, 0x3C, 0x26, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xA9, 0xE2, 0x80, 0xA8, 0xED, 0xA0, 0xEF, 0xBF, 0xBD, 0xF0, 0x9F, 0x98, 0xF4, 0x90, 0xFF];
        for (int round = 0; round < 20000; round++)
        {
            var raw = new byte[random.Next(0, 48)];
            for (int i = 0; i < raw.Length; i++)
            {
                raw[i] = random.Next(3) switch
                {
                    0 => (byte)random.Next(256),
                    1 => interesting[random.Next(interesting.Length)],
                    _ => (byte)random.Next(0x20, 0x7F),
                };
            }

            // Mix in well-formed multi-byte characters too.
            if (round % 3 == 0)
            {
                raw = [.. raw, .. Encoding.UTF8.GetBytes(char.ConvertFromUtf32(random.Next(0x80, 0xD800)))];
            }
            else if (round % 3 == 1)
            {
                raw = [.. Encoding.UTF8.GetBytes(char.ConvertFromUtf32(random.Next(0x10000, 0x110000))), .. raw];
            }

            string quoted = GoStrconv.QuoteInner(raw);
            Assert.Equal(raw, GoStrconv.UnquoteInner(quoted));

            // The quoted form is plain printable text: no control characters, no unpaired quotes.
            foreach (char c in quoted)
            {
                Assert.True(c >= 0x20 && c != 0x7F, $"control character in {quoted}");
            }

            // And the JSON layer on top decodes back to exactly the quoted form.
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            new GoJsonWriter(buffer).GoQuotedString(raw);
            using var doc = System.Text.Json.JsonDocument.Parse(buffer.WrittenMemory);
            Assert.Equal(quoted, doc.RootElement.GetString());
        }
    }
}
