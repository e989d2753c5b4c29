using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace KubeBackup.Benchmarks.Data;

/// <summary>
/// Creates a dataset. Every name, size, mode, mtime and byte is a function of the profile and the seed only: the plan
/// (which files, how large) is drawn sequentially from one generator, and each file's content from a generator keyed
/// by its path, so files can be written in parallel without changing a byte.
/// </summary>
internal sealed class Generator
{
    public const ulong DefaultSeed = 20240101;

    // 2024-01-01T00:00:00Z: every folder's mtime, and the start of the spread of file mtimes.
    public static readonly DateTime BaseTime = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private const int KiB = 1024;
    private const int Block = 4 * 1024 * 1024;

    private const UnixFileMode FileMode644 =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private const UnixFileMode FileMode600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string _root;
    private readonly Profile _profile;
    private readonly ulong _seed;
    private readonly TextPool _text;

    public Generator(string root, Profile profile, ulong seed)
    {
        _root = Path.GetFullPath(root);
        _profile = profile;
        _seed = seed;
        _text = new TextPool(seed);
    }

    /// <summary>What a file holds. Content is produced when the file is written, never kept for the whole plan.</summary>
    private abstract record Content(long Length);

    private sealed record RandomContent(string Key, long Length) : Content(Length);

    private sealed record ZeroContent(long Length) : Content(Length);

    private sealed record TextContent(string Header, string Key, long Length) : Content(Length);

    // Medium "mixed" files: 64 KiB blocks that cycle random / text / zeros.
    private sealed record MixedContent(int File, long Length) : Content(Length);

    private sealed record PlannedFile(string Path, Content Content, UnixFileMode Mode);

    public void Run()
    {
        var clock = Stopwatch.StartNew();
        if (Directory.Exists(_root) && Directory.EnumerateFileSystemEntries(_root).Any())
        {
            throw new InvalidOperationException($"refusing: {_root} exists and is not empty");
        }

        Directory.CreateDirectory(_root);
        var p = _profile;
        var plan = new List<PlannedFile>();
        var structure = Rng.For(_seed, "structure");

        for (int i = 0; i < p.LargeCount; i++)
        {
            plan.Add(new($"large/big-{i:D2}.bin", new RandomContent($"large-{i}", p.LargeSize), FileMode644));
        }

        var medium = new List<string>();
        for (int i = 0; i < p.MediumCount; i++)
        {
            int size = structure.Between(p.MediumMin, p.MediumMax);
            PlannedFile f = (i % 3) switch
            {
                0 => new($"medium/bin/m{i:D3}.dat", new RandomContent($"medium-{i}", size), FileMode644),
                1 => new($"medium/text/m{i:D3}.txt", new TextContent($"# medium text {i}", $"medium-{i}", size), FileMode644),
                _ => new($"medium/mixed/m{i:D3}.mix", new MixedContent(i, size), FileMode644),
            };
            plan.Add(f);
            medium.Add(f.Path);
        }

        var small = new List<string>(p.SmallCount);
        for (int i = 0; i < p.SmallCount; i++)
        {
            string rel = p.SmallPath(i);
            int size = structure.Between(p.SmallMin, p.SmallMax);
            // A few files are private: restore must bring modes back, not just bytes.
            plan.Add(new(rel, new TextContent($"# {rel} id={i}", rel, size), i % 97 == 0 ? FileMode600 : FileMode644));
            small.Add(rel);
        }

        if (p.ZeroSize > 0)
        {
            plan.Add(new("sparse/zeros.bin", new ZeroContent(p.ZeroSize), FileMode644));
        }

        for (int i = 0; i < p.EmptyFiles; i++)
        {
            plan.Add(new($"empty/files/empty-{i:D2}", new ZeroContent(0), FileMode644));
        }

        // Folders first (cheap, sequential), then the files in parallel: each has its own content generator.
        foreach (var dir in plan.Select(f => Path.GetDirectoryName(f.Path)!).Distinct(StringComparer.Ordinal))
        {
            Directory.CreateDirectory(Path.Combine(_root, dir));
        }

        long written = 0;
        Parallel.ForEach(plan, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, f =>
        {
            Write(f);
            Interlocked.Add(ref written, f.Content.Length);
        });

        var files = plan.Select(f => f.Path).ToList();

        // Exact duplicates, for deduplication.
        void Copy(string source, string destination)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(_root, destination))!);
            File.Copy(Path.Combine(_root, source), Path.Combine(_root, destination));
            File.SetUnixFileMode(Path.Combine(_root, destination), FileMode644);
            files.Add(destination);
            written += new FileInfo(Path.Combine(_root, destination)).Length;
        }

        if (p.LargeCount > 0)
        {
            Copy("large/big-00.bin", "dup/big-00-copy.bin");
        }

        for (int k = 0; k < p.DuplicateMedium; k++)
        {
            string source = medium[k * 7 % medium.Count];
            Copy(source, $"dup/medium/{Path.GetFileName(source)}");
        }

        for (int k = 0; k < p.DuplicateSmall; k++)
        {
            string source = small[k * 131 % small.Count];
            Copy(source, $"dup/small/c{k:D4}-{Path.GetFileName(source)}");
        }

        // A sparse file: holes with a little data in the middle and at the end.
        if (p.SparseSize > 0)
        {
            string rel = "sparse/sparse.img";
            using (var handle = File.OpenHandle(Path.Combine(_root, rel), FileMode.CreateNew, FileAccess.Write))
            {
                RandomAccess.SetLength(handle, p.SparseSize);
                RandomAccess.Write(handle, System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("MIDDLE", 100))), p.SparseSize / 2);
                RandomAccess.Write(handle, Enumerable.Repeat((byte)'E', 4096).ToArray(), p.SparseSize - 4096);
            }

            File.SetUnixFileMode(Path.Combine(_root, rel), FileMode644);
            files.Add(rel);
            written += p.SparseSize;
        }

        for (int i = 0; i < p.EmptyDirs; i++)
        {
            Directory.CreateDirectory(Path.Combine(_root, $"empty/dirs/e{i:D2}" + (i % 5 == 0 ? "/nested/deeper" : "")));
        }

        Directory.CreateDirectory(Path.Combine(_root, "dup"));
        File.CreateSymbolicLink(Path.Combine(_root, "dup/link-to-big-01"), "../large/big-01.bin");
        File.CreateSymbolicLink(Path.Combine(_root, "empty/dangling-link"), "does-not-exist");

        // Mtimes last, files spread over 2024 by their sorted position, then every folder bottom-up (creating
        // entries changes a folder's mtime, so folders must come after everything inside them).
        files.Sort(StringComparer.Ordinal);
        for (int n = 0; n < files.Count; n++)
        {
            File.SetLastWriteTimeUtc(Path.Combine(_root, files[n]), BaseTime.AddSeconds((long)n * 7919 % (365 * 86400)));
        }

        StampFolders(_root, BaseTime);

        Console.WriteLine(
            $"profile={p.Name} seed={_seed} files={files.Count} (+2 symlinks) apparent_bytes={written} " +
            $"({written / 1048576.0:F1} MiB) time={clock.Elapsed.TotalSeconds:F1}s");
    }

    /// <summary>Sets the mtime of every folder under (and including) <paramref name="root"/>, children first.</summary>
    internal static void StampFolders(string root, DateTime time)
    {
        foreach (var dir in Directory.EnumerateDirectories(root))
        {
            if (!new DirectoryInfo(dir).Attributes.HasFlag(FileAttributes.ReparsePoint))
            {
                StampFolders(dir, time);
            }
        }

        Directory.SetLastWriteTimeUtc(root, time);
    }

    private void Write(PlannedFile f)
    {
        string path = Path.Combine(_root, f.Path);
        using (SafeFileHandle handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None,
                   FileOptions.None, preallocationSize: f.Content.Length))
        {
            WriteContent(handle, f.Content);
        }

        File.SetUnixFileMode(path, f.Mode);
    }

    private void WriteContent(SafeFileHandle handle, Content content)
    {
        switch (content)
        {
            case ZeroContent:
                // All zeros, written (not a hole): a zero file is data that dedups and compresses to nothing.
                WriteBlocks(handle, content.Length, (_, span) => span.Clear());
                break;
            case RandomContent r:
                {
                    var rng = Rng.For(_seed, "random/" + r.Key);
                    WriteBlocks(handle, r.Length, (_, span) => rng.Fill(span));
                    break;
                }

            case TextContent t:
                {
                    var buffer = new byte[t.Length];
                    _text.Fill(buffer, t.Header, Rng.For(_seed, "text/" + t.Key));
                    RandomAccess.Write(handle, buffer, 0);
                    break;
                }

            case MixedContent m:
                {
                    var buffer = new byte[m.Length];
                    for (int j = 0; j * 64 * KiB < buffer.Length; j++)
                    {
                        var block = buffer.AsSpan(j * 64 * KiB, Math.Min(64 * KiB, buffer.Length - (j * 64 * KiB)));
                        switch ((j + m.File) % 3)
                        {
                            case 0:
                                Rng.For(_seed, $"mixed-{m.File}-{j}").Fill(block);
                                break;
                            case 1:
                                _text.Fill(block, $"# block {j}", Rng.For(_seed, $"mixed-text-{m.File}-{j}"));
                                break;
                            default:
                                block.Clear();
                                break;
                        }
                    }

                    RandomAccess.Write(handle, buffer, 0);
                    break;
                }
        }
    }

    internal delegate void BlockFiller(long offset, Span<byte> block);

    internal static void WriteBlocks(SafeFileHandle handle, long length, BlockFiller fill, long startOffset = 0)
    {
        var buffer = new byte[(int)Math.Min(Block, Math.Max(length, 1))];
        for (long done = 0; done < length;)
        {
            int n = (int)Math.Min(buffer.Length, length - done);
            fill(done, buffer.AsSpan(0, n));
            RandomAccess.Write(handle, buffer.AsSpan(0, n), startOffset + done);
            done += n;
        }
    }
}
