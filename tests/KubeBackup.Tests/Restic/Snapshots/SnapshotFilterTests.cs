using KubeBackup.Restic;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Snapshots;

namespace KubeBackup.Tests.Restic.Snapshots;

public class SnapshotFilterTests
{
    [Theory]
    [InlineData("/", "/", true)]          // a backup of the whole file system
    [InlineData("/", "//", true)]
    [InlineData("/data", "/data/", true)]
    [InlineData("/data/", "/data", true)]
    [InlineData("/data", "/", false)]
    [InlineData("/", "/data", false)]
    [InlineData("/data", "/dat", false)]
    public void Path_filters_ignore_trailing_slashes_and_keep_the_root(string snapshotPath, string filterPath, bool matches)
    {
        var snapshot = new Snapshot { Time = GoTime.Now(), Tree = ResticId.Hash("t"u8), Paths = [snapshotPath, "/other"] };
        var filter = new SnapshotFilter();
        filter.Paths.Add(filterPath);
        Assert.Equal(matches, filter.Matches(snapshot));
    }
}
