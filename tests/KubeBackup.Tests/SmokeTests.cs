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
}
