using KubeBackup.Restic;

namespace KubeBackup.Tests;

public class ResticIdTests
{
    [Fact]
    public void Parses_and_formats_lower_case_hex()
    {
        const string hex = "ac08ce34ba4f8123618661bef2425f7028ffb9ac740578a3ee88684d2523fee8";
        var id = ResticId.Parse(hex.ToUpperInvariant());
        Assert.Equal(hex, id.ToString());
        Assert.Equal(ResticId.Hash("{\"nodes\":[]}\n"u8), id);
        Assert.True(id.HasPrefix("AC08ce"));
        Assert.False(ResticId.TryParse(hex[..63], out _));
        Assert.False(ResticId.IsIdName(hex.ToUpperInvariant()));
        Assert.True(ResticId.IsIdName(hex));
    }

    [Theory]
    [InlineData("ac08ce34ba4f8123618661bef2425f7028ffb9ac740578a3ee88684d2523fee8", true)]
    [InlineData("AC08CE34BA4F8123618661BEF2425F7028FFB9AC740578A3EE88684D2523FEE8", true)]
    [InlineData("ac08ce34ba4f8123618661bef2425f7028ffb9ac740578a3ee88684d2523feeg", false)]
    [InlineData("ac08ce34ba4f8123618661bef2425f7028ffb9ac740578a3ee88684d2523fee ", false)]
    [InlineData(" c08ce34ba4f8123618661bef2425f7028ffb9ac740578a3ee88684d2523fee8", false)]
    [InlineData("ac08ce34ba4f8123618661bef2425f7028ffb9ac740578a3ee88684d2523fee", false)]
    [InlineData("ac08ce34ba4f8123618661bef2425f7028ffb9ac740578a3ee88684d2523fee80", false)]
    [InlineData("", false)]
    public void Parsing_accepts_exactly_64_hex_digits_as_text_and_as_utf8(string text, bool valid)
    {
        Assert.Equal(valid, ResticId.TryParse(text, out var fromChars));
        Assert.Equal(valid, ResticId.TryParseUtf8(System.Text.Encoding.UTF8.GetBytes(text), out var fromUtf8));
        Assert.Equal(fromChars, fromUtf8);
        if (valid)
        {
            Assert.Equal(text.ToLowerInvariant(), fromChars.ToString());
        }
    }
}
