using System.Globalization;
using KubeBackup.Platform;

namespace KubeBackup.Tests.Platform;

public class UserDirectoryTests
{
    [Fact]
    public void Root_maps_both_ways()
    {
        Assert.Equal("root", UserDirectory.UserName(0));
        Assert.Equal("root", UserDirectory.GroupName(0));
        Assert.Equal(0U, UserDirectory.UserId("root"));
        Assert.Equal(0U, UserDirectory.GroupId("root"));
    }

    [Fact]
    public void Answers_match_getent()
    {
        // getent goes through NSS as our lookups do; compare on the first few accounts the system has.
        foreach (var line in Tool.Run("getent", "passwd").Split('\n').Take(10))
        {
            var fields = line.Split(':');
            var uid = uint.Parse(fields[2], CultureInfo.InvariantCulture);
            Assert.Equal(uid, UserDirectory.UserId(fields[0]));
        }

        foreach (var line in Tool.Run("getent", "group").Split('\n').Take(10))
        {
            var fields = line.Split(':');
            var gid = uint.Parse(fields[2], CultureInfo.InvariantCulture);
            Assert.Equal(gid, UserDirectory.GroupId(fields[0]));
            Assert.NotNull(UserDirectory.GroupName(gid));
        }

        var nobody = Tool.Run("getent", "passwd", "65534").Split(':')[0];
        Assert.Equal(nobody, UserDirectory.UserName(65534));
    }

    [Fact]
    public void Unknown_ids_and_names_give_null_and_are_cached()
    {
        Assert.Null(UserDirectory.UserName(1234));
        Assert.Null(UserDirectory.GroupName(2345));
        Assert.Null(UserDirectory.UserId("kb-no-such-user"));
        Assert.Null(UserDirectory.GroupId("kb-no-such-group"));
        Assert.Null(UserDirectory.UserId(""));
        Assert.Null(UserDirectory.UserId("a\0b"));
        Assert.Null(UserDirectory.UserName(1234));
        Assert.Same(UserDirectory.UserName(0), UserDirectory.UserName(0));
    }
}
