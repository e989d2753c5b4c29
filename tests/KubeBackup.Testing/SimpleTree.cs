using System.Security.Cryptography;

namespace KubeBackup.Testing;

/// <summary>A small tree made with plain .NET calls, for engine tests that do not need exotic metadata.</summary>
public static class SimpleTree
{
    public static void Create(string root, int seed = 1, int bigFileBytes = 12 * 1024 * 1024, int smallFiles = 40)
    {
        var rng = new Random(seed);
        Directory.CreateDirectory(Path.Combine(root, "docs", "nested"));
        Directory.CreateDirectory(Path.Combine(root, "empty-dir"));
        var big = new byte[bigFileBytes];
        rng.NextBytes(big);
        File.WriteAllBytes(Path.Combine(root, "big.bin"), big);
        for (int i = 0; i < smallFiles; i++)
        {
            var data = new byte[rng.Next(0, 20_000)];
            rng.NextBytes(data);
            File.WriteAllBytes(Path.Combine(root, i % 2 == 0 ? "docs" : Path.Combine("docs", "nested"), $"file-{i:D3}.dat"), data);
        }

        File.WriteAllText(Path.Combine(root, "docs", "readme.txt"), string.Concat(Enumerable.Repeat("hello restic\n", 5000)));
        File.WriteAllBytes(Path.Combine(root, "empty.txt"), []);
        File.CreateSymbolicLink(Path.Combine(root, "link-to-readme"), "docs/readme.txt");
    }

    /// <summary>Relative path → (kind, SHA-256 or link target, permission bits) for every entry.</summary>
    public static SortedDictionary<string, string> Describe(string root)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in new DirectoryInfo(root).EnumerateFileSystemInfos("*", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(root, entry.FullName);
            string mode = Convert.ToString((int)entry.UnixFileMode, 8);
            if (entry.LinkTarget is { } target)
            {
                result[rel] = $"link {target}";
            }
            else if (entry is DirectoryInfo)
            {
                result[rel] = $"dir {mode}";
            }
            else
            {
                result[rel] = $"file {mode} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(entry.FullName)))} {((FileInfo)entry).LastWriteTimeUtc.Ticks}";
            }
        }

        return result;
    }
}
