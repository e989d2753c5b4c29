using System.Diagnostics;

namespace KubeBackup.Benchmarks.Data;

/// <summary>
/// A deterministic change of about 5% of a generated dataset, in place, for incremental backups: appends to large
/// files, an overwrite in the middle of one, new, deleted and rewritten small files, mtime-only changes, and empty
/// folders removed and added. Changes are made in place (same inodes) because that is what a real incremental backup
/// sees; the unchanged files keep their inode, size, mtime and ctime, so a backup with a parent skips them.
/// </summary>
internal sealed class Mutator
{
    // 2024-06-01T00:00:00Z: the mtime of everything the mutation touches.
    private static readonly DateTime MutateTime = new(2024, 6, 1, 0, 0, 0, DateTimeKind.Utc);

    private const int KiB = 1024;
    private const int MiB = 1024 * 1024;

    private readonly string _root;
    private readonly Profile _profile;
    private readonly ulong _seed;
    private readonly TextPool _text;
    private readonly Rng _rng;
    private readonly SortedSet<string> _changedDirs = new(StringComparer.Ordinal);
    private long _changedBytes;

    public Mutator(string root, Profile profile, ulong seed)
    {
        _root = Path.GetFullPath(root);
        _profile = profile;
        _seed = seed;
        _text = new TextPool(seed);
        _rng = Rng.For(seed, "mutate");
    }

    private string Full(string rel) => Path.Combine(_root, rel);

    private int Count(int standard) => (int)(standard * _profile.MutateCountScale);

    public void Run()
    {
        var clock = Stopwatch.StartNew();
        if (!Directory.Exists(Full("small")))
        {
            throw new InvalidOperationException($"not a generated dataset: {_root}");
        }

        if (Directory.Exists(Full("small/new")))
        {
            // A second mutation would not be the documented one, and figures would stop being comparable.
            throw new InvalidOperationException($"refusing: {_root} is already mutated");
        }

        int div = _profile.MutateSizeDivisor;

        // 1. Appends to two large files (the chunker must find the old cut points and add new chunks at the end).
        if (_profile.LargeCount >= 3)
        {
            for (int k = 0; k < 2; k++)
            {
                string rel = $"large/big-{k + 1:D2}.bin";
                long size = new FileInfo(Full(rel)).Length;
                var rng = Rng.For(_seed, $"mutate-append-{k}");
                using (var h = File.OpenHandle(Full(rel), FileMode.Open, FileAccess.Write))
                {
                    Generator.WriteBlocks(h, 16L * MiB / div, (_, span) => rng.Fill(span), size);
                }

                _changedBytes += 16L * MiB / div;
                Stamp(rel, MutateTime);
            }

            // 2. An overwrite in the middle of big-03, plus eight scattered 4 KiB patches.
            {
                string rel = "large/big-03.bin";
                long size = new FileInfo(Full(rel)).Length;
                using (var h = File.OpenHandle(Full(rel), FileMode.Open, FileAccess.Write))
                {
                    var rng = Rng.For(_seed, "mutate-middle");
                    Generator.WriteBlocks(h, 4L * MiB / div, (_, span) => rng.Fill(span), size / 2);
                    _changedBytes += 4L * MiB / div;
                    var patch = new byte[4 * KiB];
                    for (int k = 0; k < 8; k++)
                    {
                        Rng.For(_seed, $"mutate-patch-{k}").Fill(patch);
                        RandomAccess.Write(h, patch, (size / 9 * (k + 1)) + 12345);
                        _changedBytes += patch.Length;
                    }
                }

                Stamp(rel, MutateTime);
            }
        }

        // 3. Additions: new small text files in new folders, and four new medium files.
        int added = Count(500);
        for (int i = 0; i < added; i++)
        {
            string rel = $"small/new/n{i / 50:D3}/y{i:D6}.txt";
            var data = new byte[_rng.Between(_profile.SmallMin, _profile.SmallMax)];
            _text.Fill(data, $"# new {i}", Rng.For(_seed, "mutate-new/" + rel));
            Create(rel, data, MutateTime.AddSeconds(i));
        }

        _changedDirs.Add("small/new");
        _changedDirs.Add("small");
        if (_profile.MediumCount > 0)
        {
            for (int i = 0; i < 4; i++)
            {
                var data = new byte[2 * MiB / div];
                Rng.For(_seed, $"mutate-medium-{i}").Fill(data);
                Create($"medium/new/n{i}.dat", data, MutateTime.AddSeconds(i));
            }

            _changedDirs.Add("medium/new");
            _changedDirs.Add("medium");
        }

        // The existing small files in a stable (ordinal) order, the new ones excluded.
        var small = Directory.EnumerateFiles(Full("small"), "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(_root, f))
            .Where(f => !f.StartsWith("small/new/", StringComparison.Ordinal))
            .ToList();
        small.Sort(StringComparer.Ordinal);

        // 4. Deletions (every 40th), content rewrites (every 200th) and mtime-only touches (every 20th).
        var deleted = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 7; i < small.Count && deleted.Count < Count(500); i += 40)
        {
            File.Delete(Full(small[i]));
            deleted.Add(small[i]);
            _changedDirs.Add(Path.GetDirectoryName(small[i])!);
        }

        int rewritten = 0;
        for (int i = 11; i < small.Count && rewritten < Count(100); i += 200)
        {
            if (deleted.Contains(small[i]))
            {
                continue;
            }

            var data = new byte[_rng.Between(_profile.SmallMin, _profile.SmallMax)];
            _text.Fill(data, $"# rewritten {small[i]}", Rng.For(_seed, "mutate-rewrite/" + small[i]));
            // Truncate and rewrite in place: same inode, new size/content/mtime.
            using (var h = File.OpenHandle(Full(small[i]), FileMode.Truncate, FileAccess.Write))
            {
                RandomAccess.Write(h, data, 0);
            }

            _changedBytes += data.Length;
            Stamp(small[i], MutateTime.AddSeconds(100 + rewritten));
            rewritten++;
        }

        int touched = 0;
        for (int i = 3; i < small.Count && touched < Count(1000); i += 20)
        {
            if (deleted.Contains(small[i]))
            {
                continue;
            }

            Stamp(small[i], MutateTime.AddSeconds(200 + touched));
            touched++;
        }

        if (Directory.Exists(Full("medium/bin")))
        {
            foreach (var f in Directory.EnumerateFiles(Full("medium/bin")).Order(StringComparer.Ordinal).Take(4))
            {
                Stamp(Path.GetRelativePath(_root, f), MutateTime.AddSeconds(300));
                touched++;
            }
        }

        // 5. Empty folders: two removed, two added.
        foreach (var rel in new[] { "empty/dirs/e01", "empty/dirs/e02" })
        {
            if (Directory.Exists(Full(rel)))
            {
                Directory.Delete(Full(rel));
            }
        }

        foreach (var rel in new[] { "empty/dirs/m00", "empty/dirs/m01" })
        {
            Directory.CreateDirectory(Full(rel));
            _changedDirs.Add(rel);
        }

        _changedDirs.Add("empty/dirs");

        // Changed folders get a fixed mtime, deepest first so a parent's stamp is not undone by its child's.
        foreach (var rel in _changedDirs.OrderByDescending(d => d.Count(c => c == '/')).ThenBy(d => d, StringComparer.Ordinal))
        {
            Directory.SetLastWriteTimeUtc(Full(rel), MutateTime);
        }

        Console.WriteLine(
            $"mutated {_root}: ~{_changedBytes / (double)MiB:F1} MiB new/changed content, {added} added, " +
            $"{deleted.Count} deleted, {rewritten} rewritten, {touched} touched, time={clock.Elapsed.TotalSeconds:F1}s");
    }

    private void Create(string rel, byte[] data, DateTime mtime)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Full(rel))!);
        File.WriteAllBytes(Full(rel), data);
        File.SetUnixFileMode(Full(rel), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Stamp(rel, mtime);
        _changedBytes += data.Length;
        _changedDirs.Add(Path.GetDirectoryName(rel)!);
    }

    private void Stamp(string rel, DateTime mtime) => File.SetLastWriteTimeUtc(Full(rel), mtime);
}
