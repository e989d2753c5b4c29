using System.Globalization;

namespace KubeBackup.Tests.Support;

/// <summary>What of a file the kernel holds in its page cache, as util-linux <c>fincore</c> reports it.</summary>
internal static class PageCache
{
    /// <summary>Bytes of <paramref name="path"/> resident in the page cache.</summary>
    public static async Task<long> ResidentBytesAsync(string path)
    {
        var (exitCode, output) = await ProcessRun.RunAsync("fincore", "--bytes", "--noheadings", "--output", "RES", path);
        Assert.True(exitCode == 0, output);
        return long.Parse(output.Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>A new folder on the disk the tests run from (their build output), not in a tmpfs <c>/tmp</c>, where
    /// the page cache is the file itself and says nothing about caching.</summary>
    public static string NewFolderOnDisk(string prefix)
    {
        string path = Path.Combine(AppContext.BaseDirectory, $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }
}
