using System.Buffers;
using System.Text;
using KubeBackup.Restic;
using KubeBackup.Restic.Json;
using KubeBackup.Restic.Model;

namespace KubeBackup.Tests.Restic.Json;

public class GoJsonWriterTests
{
    private static string Write(Action<GoJsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(new GoJsonWriter(buffer));
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static TheoryData<byte[], string> StringCases => new()
    {
        { Encoding.UTF8.GetBytes("plain"), "\"plain\"" },
        { Encoding.UTF8.GetBytes("q\"b\\"), "\"q\\\"b\\\\\"" },
        { Encoding.UTF8.GetBytes("\n\r\t"), "\"\\n\\r\\t\"" },
        // Go 1.19 (restic 0.14): \b and \f are not short escapes yet.
        { Encoding.UTF8.GetBytes("\b\f"), "\"\\u0008\\u000c\"" },
        { [0x00, 0x01, 0x1F], "\"\\u0000\\u0001\\u001f\"" },
        { Encoding.UTF8.GetBytes("<a>&"), "\"\\u003ca\\u003e\\u0026\"" },
        { Encoding.UTF8.GetBytes("x\u2028y\u2029"), "\"x\\u2028y\\u2029\"" },
        // DEL, NBSP, non-ASCII and astral characters stay raw.
        { Encoding.UTF8.GetBytes("\u007F\u00A0ñ😀\U0001FAE0"), "\"\u007F\u00A0ñ😀\U0001FAE0\"" },
        // Each invalid byte becomes one \ufffd.
        { [0x61, 0xFF, 0xE2, 0x82, 0x62], "\"a\\ufffd\\ufffd\\ufffdb\"" },
        { [0xED, 0xA0, 0x80], "\"\\ufffd\\ufffd\\ufffd\"" },
        { [], "\"\"" },
    };

    [Theory]
    [MemberData(nameof(StringCases))]
    public void Strings_are_escaped_as_go_1_19_does(byte[] utf8, string expected)
    {
        Assert.Equal(expected, Write(w => w.String(utf8)));
    }

    [Fact]
    public void Dotnet_strings_are_escaped_the_same_way()
    {
        foreach (object[] row in StringCases)
        {
            var utf8 = (byte[])row[0];
            var expected = (string)row[1];
            if (System.Text.Unicode.Utf8.IsValid(utf8))
            {
                Assert.Equal(expected, Write(w => w.String(Encoding.UTF8.GetString(utf8))));
            }
        }

        // A lone surrogate cannot exist in Go; it is written as U+FFFD.
        Assert.Equal("\"a\uFFFDb\"", Write(w => w.String("a\uD800b")));
        Assert.Equal("\"\"", Write(w => w.String((string?)null)));
    }

    [Fact]
    public void Node_names_are_go_quoted_then_json_escaped()
    {
        Assert.Equal("\"we\\\\\\\"ird\\\\\\\\name\"", Write(w => w.GoQuotedString(Encoding.UTF8.GetBytes("we\"ird\\name"))));
        Assert.Equal("\"a\\\\nb\\\\tc\"", Write(w => w.GoQuotedString(Encoding.UTF8.GetBytes("a\nb\tc"))));
        Assert.Equal("\"\\\\xff\\\\x00\"", Write(w => w.GoQuotedString([0xFF, 0x00])));
        Assert.Equal("\"\\\\u00a0\\\\u2028\"", Write(w => w.GoQuotedString(Encoding.UTF8.GetBytes("\u00A0\u2028"))));
        Assert.Equal("\"\\u003c\\u003e\\u0026😀\"", Write(w => w.GoQuotedString(Encoding.UTF8.GetBytes("<>&😀"))));
    }

    [Fact]
    public void Numbers_booleans_bytes_ids_and_times()
    {
        Assert.Equal("0", Write(w => w.Number(0UL)));
        Assert.Equal("18446744073709551615", Write(w => w.Number(ulong.MaxValue)));
        Assert.Equal("-9223372036854775808", Write(w => w.Number(long.MinValue)));
        Assert.Equal("truefalsenull", Write(w => { w.Bool(true); w.Bool(false); w.Null(); }));
        Assert.Equal("\"\"", Write(w => w.Base64([])));
        Assert.Equal("\"AAEC+vv8\"", Write(w => w.Base64([0, 1, 2, 0xFA, 0xFB, 0xFC])));
        Assert.Equal("\"YQ==\"", Write(w => w.Base64("a"u8)));
        var id = ResticId.Hash("{\"nodes\":[]}\n"u8);
        Assert.Equal("\"ac08ce34ba4f8123618661bef2425f7028ffb9ac740578a3ee88684d2523fee8\"", Write(w => w.Id(id)));
        Assert.Equal("\"2020-01-02T03:04:05.5+01:00\"", Write(w => w.Time(GoTime.Parse("2020-01-02T03:04:05.500+01:00"u8))));
    }

    [Fact]
    public void Raw_values_are_compacted_and_html_escaped_like_go_raw_messages()
    {
        string input = "{ \"a\" : [1, 2,\n 3],\t\"b\":\"<x> & \\\" spaced \\\\\" ,\"c\":\"\u2028\" }";
        string expected = "{\"a\":[1,2,3],\"b\":\"\\u003cx\\u003e \\u0026 \\\" spaced \\\\\",\"c\":\"\\u2028\"}";
        Assert.Equal(expected, Write(w => w.RawValue(Encoding.UTF8.GetBytes(input))));
        Assert.Equal("32", Write(w => w.RawValue(" 32 "u8)));
        Assert.Equal("null", Write(w => w.RawValue("null"u8)));
        Assert.Throws<ArgumentException>(() => Write(w => w.RawValue("{"u8)));
        Assert.Throws<ArgumentException>(() => Write(w => w.RawValue(""u8)));
        Assert.Throws<ArgumentException>(() => Write(w => w.RawValue("1 2"u8)));
    }
}
