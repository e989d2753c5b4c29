using System.Security.Cryptography;

namespace KubeBackup.Kubernetes.Tests.Support;

/// <summary>A description of a folder tree (type, permissions, modification time, content hash, link target per entry)
/// to compare two trees with.</summary>
public static class TreeCompare
{
    public static SortedDictionary<string, string> Describe(string root, bool withDirTimes = true)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(root, path);
            var info = new FileInfo(path);
            string mode = Convert.ToString((int)File.GetUnixFileMode(path), 8);
            if (info.LinkTarget is { } target)
            {
                result[rel] = $"link -> {target}";
            }
            else if (Directory.Exists(path))
            {
                result[rel] = $"dir {mode}" + (withDirTimes ? $" {Directory.GetLastWriteTimeUtc(path):O}" : "");
            }
            else
            {
                result[rel] = $"file {mode} {info.Length} {info.LastWriteTimeUtc:O} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)))}";
            }
        }

        return result;
    }
}
