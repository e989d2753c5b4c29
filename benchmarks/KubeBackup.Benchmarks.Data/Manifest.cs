using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace KubeBackup.Benchmarks.Data;

/// <summary>
/// A sorted text manifest of a tree, one line per entry: type, mode, size, mtime (whole seconds), SHA-256, path.
/// Two trees are equal for the benchmark's purposes when their manifests are equal. Symlinks are listed with their
/// target only: their own mode is always 0777 on Linux and their times are not something both tools promise.
/// </summary>
internal static class Manifest
{
    private sealed record Entry(string Type, UnixFileMode Mode, long Size, long MTime, string Path, string FullPath)
    {
        public string Hash { get; set; } = "-";
    }

    public static void Write(string root, TextWriter output)
    {
        root = Path.GetFullPath(root);
        var entries = new List<Entry>();
        Walk(root, root, entries);

        // Hashing is the expensive part; both cores share it.
        Parallel.ForEach(entries.Where(e => e.Type == "f"), new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, e =>
        {
            using var stream = new FileStream(e.FullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.SequentialScan);
            e.Hash = Convert.ToHexStringLower(SHA256.HashData(stream));
        });

        // Ordinal order on UTF-8 bytes, which for these names equals ordinal UTF-16 order.
        entries.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        var sb = new StringBuilder();
        foreach (var e in entries)
        {
            sb.Clear();
            sb.Append(CultureInfo.InvariantCulture, $"{e.Type} {Convert.ToString((int)e.Mode, 8).PadLeft(4, '0')} {e.Size} {e.MTime} {e.Hash} {e.Path}");
            output.WriteLine(sb.ToString());
        }
    }

    private static void Walk(string root, string dir, List<Entry> entries)
    {
        foreach (var info in new DirectoryInfo(dir).EnumerateFileSystemInfos())
        {
            string rel = Path.GetRelativePath(root, info.FullName);
            if (info.LinkTarget is { } target)
            {
                entries.Add(new Entry("l", 0, 0, 0, rel, info.FullName) { Hash = "->" + target });
            }
            else if (info is DirectoryInfo d)
            {
                entries.Add(new Entry("d", d.UnixFileMode, 0, Seconds(d.LastWriteTimeUtc), rel, d.FullName));
                Walk(root, d.FullName, entries);
            }
            else if (info is FileInfo f)
            {
                entries.Add(new Entry("f", f.UnixFileMode, f.Length, Seconds(f.LastWriteTimeUtc), rel, f.FullName));
            }
        }
    }

    // Whole seconds, floored, as restic's own comparisons and most tools print them.
    private static long Seconds(DateTime utc) => (long)Math.Floor((utc - DateTime.UnixEpoch).TotalSeconds);

    /// <summary>Reads every regular file once so the page cache holds the dataset before anything is timed.</summary>
    public static long Warm(string root)
    {
        var files = Directory.EnumerateFiles(root, "*", new EnumerationOptions
        {
            RecurseSubdirectories = true,
            AttributesToSkip = FileAttributes.ReparsePoint,
        }).ToList();
        long total = 0;
        Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            () => new byte[1 << 20],
            (path, _, buffer) =>
            {
                using var handle = File.OpenHandle(path);
                long offset = 0;
                int n;
                while ((n = RandomAccess.Read(handle, buffer, offset)) > 0)
                {
                    offset += n;
                }

                Interlocked.Add(ref total, offset);
                return buffer;
            },
            _ => { });
        return total;
    }
}
