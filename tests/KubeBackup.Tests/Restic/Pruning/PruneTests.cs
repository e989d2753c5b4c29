using KubeBackup.Restic.Archiver;
using KubeBackup.Restic.Locking;
using KubeBackup.Restic.Pruning;
using KubeBackup.Restic.Restorer;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Restic.Pruning;

public class PruneTests
{
    /// <summary>Three snapshots of a changing tree; the middle one is then forgotten (its file deleted, as forget does).</summary>
    private static async Task<(TempDirectory Dir, string Repo, List<(KubeBackup.Restic.Model.Snapshot Snapshot, SortedDictionary<string, string> Tree)> Kept)> ThreeSnapshotsAsync()
    {
        var dir = new TempDirectory();
        var repoPath = dir.Combine("repo");
        var source = dir.Combine("src");
        var kept = new List<(KubeBackup.Restic.Model.Snapshot, SortedDictionary<string, string>)>();
        await using var repo = await TestRepository.InitAsync(repoPath);
        for (int round = 0; round < 3; round++)
        {
            if (Directory.Exists(source))
            {
                TestTree.Delete(source);
            }

            // Each round shares some data with the previous (seed 1 for big.bin) and has some of its own.
            SimpleTree.Create(source, seed: round == 1 ? 100 : round + 1, bigFileBytes: 6 * 1024 * 1024, smallFiles: 30);
            var options = new BackupOptions();
            options.Paths.Add(source);
            var result = await repo.BackupAsync(options);
            if (round != 1)
            {
                kept.Add((result.Snapshot, SimpleTree.Describe(source)));
            }
            else
            {
                File.Delete(Path.Combine(repoPath, "snapshots", result.Snapshot.Id.ToString()));
            }
        }

        return (dir, repoPath, kept);
    }

    [Theory]
    [InlineData(5.0)]
    [InlineData(0.0)]
    [InlineData(null)]
    public async Task Prune_frees_space_and_restic_checks_clean_and_kept_snapshots_restore(double? maxUnused)
    {
        var (dir, repoPath, kept) = await ThreeSnapshotsAsync();
        using var _ = dir;
        long before = Directory.GetFiles(Path.Combine(repoPath, "data"), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        await using var repo = await TestRepository.OpenAsync(repoPath);

        var result = await repo.PruneAsync(new PruneOptions { MaxUnusedPercent = maxUnused });

        Assert.False(result.DryRun);
        Assert.True(result.PacksDeleted + result.PacksRepacked > 0);
        long after = Directory.GetFiles(Path.Combine(repoPath, "data"), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.True(after < before, $"{after} >= {before}");
        if (maxUnused == 0)
        {
            Assert.Equal(0, result.UnusedBytesAfter);
        }

        var check = await new ResticCli(repoPath, TestRepository.Password).RunAsync("check", "--read-data");
        Assert.True(check.ExitCode == 0, check.StandardOutput + check.StandardError);
        await using var reopened = await TestRepository.OpenAsync(repoPath);
        int i = 0;
        foreach (var (snapshot, tree) in kept)
        {
            var target = dir.Combine($"out{i++}");
            var restore = await reopened.RestoreAsync(snapshot, new RestoreOptions { Target = target });
            Assert.True(restore.IsComplete, string.Join("\n", restore.Errors));
            Assert.Equal(tree, SimpleTree.Describe(target + snapshot.Paths[0]));
        }
    }

    [Fact]
    public async Task Dry_run_changes_nothing()
    {
        var (dir, repoPath, _) = await ThreeSnapshotsAsync();
        using var _d = dir;
        var before = TestRepository.Listing(repoPath);
        await using var repo = await TestRepository.OpenAsync(repoPath);

        var plan = await repo.PruneAsync(new PruneOptions { DryRun = true });

        Assert.True(plan.DryRun);
        Assert.True(plan.PacksDeleted + plan.PacksRepacked > 0);
        Assert.Equal(before, TestRepository.Listing(repoPath));
    }

    [Fact]
    public async Task Prune_waits_for_no_one_a_held_lock_makes_it_fail_clearly()
    {
        var (dir, repoPath, _) = await ThreeSnapshotsAsync();
        using var _d = dir;
        await using var repo = await TestRepository.OpenAsync(repoPath);
        await using var backupLock = await RepositoryLock.AcquireAsync(repo, exclusive: false);
        var before = TestRepository.Listing(Path.Combine(repoPath, "data"));

        await Assert.ThrowsAsync<RepositoryLockedException>(() => repo.PruneAsync());

        Assert.Equal(before, TestRepository.Listing(Path.Combine(repoPath, "data")));
    }

    [Fact]
    public async Task Prune_compresses_the_trees_of_a_repository_upgraded_to_format_2()
    {
        // restic writes a format 1 repository (nothing compressed), upgrades it to format 2, and our prune is the first
        // to repack: format 2 wants trees compressed, so every tree must come out compressed, the data untouched.
        using var dir = new TempDirectory();
        var (repoPath, source, restic, expected) = await UpgradedRepositoryAsync(dir, seed: 3);
        Assert.NotEmpty(await TreeCompressionAsync(restic, compressed: false));

        await using (var repo = await TestRepository.OpenAsync(repoPath))
        {
            var result = await repo.PruneAsync(new PruneOptions { MaxUnusedPercent = 100 });
            Assert.True(result.PacksRepacked > 0);
        }

        Assert.Empty(await TreeCompressionAsync(restic, compressed: false));
        Assert.NotEmpty(await TreeCompressionAsync(restic, compressed: true));
        await ResticChecksAndRestoresAsync(restic, dir, source, expected);
    }

    [Fact]
    public async Task Repack_uncompressed_compresses_the_old_data_of_an_upgraded_repository_once()
    {
        // A format 1 repository restic wrote (random data that zstd cannot shrink, and text that it can), upgraded to
        // format 2. A plain prune compresses only the trees; the option compresses the data too, through the console
        // host as a user runs it, and a second run has nothing left to do.
        using var dir = new TempDirectory();
        var (repoPath, source, restic, expected) = await UpgradedRepositoryAsync(dir, seed: 5);
        int uncompressedData = (await BlobCompressionAsync(restic, "data", compressed: false)).Count;
        Assert.True(uncompressedData > 1);

        await using (var repo = await TestRepository.OpenAsync(repoPath))
        {
            await repo.PruneAsync(new PruneOptions());
        }

        Assert.Equal(uncompressedData, (await BlobCompressionAsync(restic, "data", compressed: false)).Count);

        var env = new Dictionary<string, string> { ["RESTIC_REPOSITORY"] = repoPath, ["RESTIC_PASSWORD"] = TestRepository.Password };
        var first = await CliRunner.RunAsync(env, "--json", "prune", "--repack-uncompressed");
        Assert.True(first.ExitCode == 0, first.StandardError);
        Assert.True(RepackedPacks(first.StandardOutput) > 0, first.StandardOutput);
        Assert.Empty(await BlobCompressionAsync(restic, "data", compressed: false));
        Assert.Empty(await BlobCompressionAsync(restic, "tree", compressed: false));
        Assert.Equal(uncompressedData, (await BlobCompressionAsync(restic, "data", compressed: true)).Count);

        var second = await CliRunner.RunAsync(env, "--json", "prune", "--repack-uncompressed");
        Assert.True(second.ExitCode == 0, second.StandardError);
        Assert.Equal(0, RepackedPacks(second.StandardOutput));

        await ResticChecksAndRestoresAsync(restic, dir, source, expected);
    }

    [Fact]
    public async Task Forget_with_prune_takes_the_prune_flags_and_refuses_bad_ones_before_forgetting_anything()
    {
        using var dir = new TempDirectory();
        var repoPath = dir.Combine("repo");
        var source = dir.Combine("src");
        var restic = new ResticCli(repoPath, TestRepository.Password);
        await restic.RunCheckedAsync("init", "--repository-version", "1");
        SimpleTree.Create(source, seed: 7, bigFileBytes: 512 * 1024, smallFiles: 5);
        await restic.RunCheckedAsync("backup", source);
        File.WriteAllText(Path.Combine(source, "new.txt"), "changed");
        await restic.RunCheckedAsync("backup", source);
        var snapshots = Path.Combine(repoPath, "snapshots");
        var before = TestRepository.Listing(snapshots);
        var env = new Dictionary<string, string> { ["RESTIC_REPOSITORY"] = repoPath, ["RESTIC_PASSWORD"] = TestRepository.Password };

        var refused = await CliRunner.RunAsync(env, "forget", "--keep-last", "1", "--prune", "--repack-uncompressed");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("format 2", refused.StandardError);
        var invalid = await CliRunner.RunAsync(env, "forget", "--keep-last", "1", "--prune", "--max-unused", "lots");
        Assert.Equal(1, invalid.ExitCode);
        Assert.Contains("--max-unused", invalid.StandardError);
        Assert.Equal(before, TestRepository.Listing(snapshots));

        await restic.RunCheckedAsync("migrate", "upgrade_repo_v2");
        var done = await CliRunner.RunAsync(env, "forget", "--keep-last", "1", "--prune", "--repack-uncompressed");
        Assert.True(done.ExitCode == 0, done.StandardError);
        Assert.Single(Directory.GetFiles(snapshots));
        Assert.Empty(await BlobCompressionAsync(restic, "data", compressed: false));
        var check = await restic.RunAsync("check", "--read-data");
        Assert.True(check.ExitCode == 0, check.StandardOutput + check.StandardError);
    }

    private static long RepackedPacks(string json)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(json.Trim().Split('\n')[^1]);
        return doc.RootElement.GetProperty("packs_repacked").GetInt64();
    }

    [Fact]
    public async Task Repack_uncompressed_is_refused_where_it_cannot_compress_and_changes_nothing()
    {
        using var dir = new TempDirectory();
        var v1 = dir.Combine("v1");
        var source = dir.Combine("src");
        SimpleTree.Create(source, seed: 6, bigFileBytes: 256 * 1024, smallFiles: 3);
        var restic = new ResticCli(v1, TestRepository.Password);
        await restic.RunCheckedAsync("init", "--repository-version", "1");
        await restic.RunCheckedAsync("backup", source);
        var before = TestRepository.Listing(v1);
        await using (var repo = await TestRepository.OpenAsync(v1))
        {
            var ex = await Assert.ThrowsAsync<RepositoryException>(() => repo.PruneAsync(new PruneOptions { RepackUncompressed = true }));
            Assert.Contains("format 2", ex.Message);
        }

        Assert.Equal(before, TestRepository.Listing(v1));

        var v2 = dir.Combine("v2");
        await using (var created = await TestRepository.InitAsync(v2))
        {
            var options = new BackupOptions();
            options.Paths.Add(source);
            await created.BackupAsync(options);
        }

        before = TestRepository.Listing(v2);
        var off = TestRepository.Options();
        off.Compression = KubeBackup.Restic.Compression.CompressionMode.Off;
        await using (var repo = await TestRepository.OpenAsync(v2, off))
        {
            await Assert.ThrowsAsync<RepositoryException>(() => repo.PruneAsync(new PruneOptions { RepackUncompressed = true }));
        }

        Assert.Equal(before, TestRepository.Listing(v2));
    }

    /// <summary>restic's check --read-data passes, and restic restores the latest snapshot as <paramref name="expected"/>.</summary>
    private static async Task ResticChecksAndRestoresAsync(ResticCli restic, TempDirectory dir, string source, SortedDictionary<string, string> expected)
    {
        var check = await restic.RunAsync("check", "--read-data");
        Assert.True(check.ExitCode == 0, check.StandardOutput + check.StandardError);
        await restic.RunCheckedAsync("restore", "latest", "--target", dir.Combine("out"));
        Assert.Equal(expected, SimpleTree.Describe(dir.Combine("out") + source));
    }

    /// <summary>A repository restic wrote as format 1 (nothing compressed) with one snapshot of a small tree, then
    /// upgraded to format 2 (restic migrate upgrade_repo_v2), as a user of an old repository has it.</summary>
    private static async Task<(string Repo, string Source, ResticCli Restic, SortedDictionary<string, string> Expected)> UpgradedRepositoryAsync(TempDirectory dir, int seed)
    {
        var repoPath = dir.Combine("repo");
        var source = dir.Combine("src");
        var restic = new ResticCli(repoPath, TestRepository.Password);
        await restic.RunCheckedAsync("init", "--repository-version", "1");
        SimpleTree.Create(source, seed, bigFileBytes: 2 * 1024 * 1024);
        var expected = SimpleTree.Describe(source);
        await restic.RunCheckedAsync("backup", source);
        await restic.RunCheckedAsync("migrate", "upgrade_repo_v2");
        return (repoPath, source, restic, expected);
    }

    /// <summary>The IDs of the tree blobs the repository's index files list as compressed (or not), read by restic.</summary>
    private static Task<List<string>> TreeCompressionAsync(ResticCli restic, bool compressed) => BlobCompressionAsync(restic, "tree", compressed);

    /// <summary>The IDs of the blobs of a type ("data" or "tree") that the repository's index files list as compressed
    /// (or not), read by restic.</summary>
    private static async Task<List<string>> BlobCompressionAsync(ResticCli restic, string type, bool compressed)
    {
        var trees = new List<string>();
        foreach (var index in (await restic.RunCheckedAsync("list", "index")).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = System.Text.Json.JsonDocument.Parse(await restic.RunCheckedAsync("cat", "index", index.Trim()));
            foreach (var pack in doc.RootElement.GetProperty("packs").EnumerateArray())
            {
                foreach (var blob in pack.GetProperty("blobs").EnumerateArray())
                {
                    bool isCompressed = blob.TryGetProperty("uncompressed_length", out var u) && u.GetInt64() > 0;
                    if (blob.GetProperty("type").GetString() == type && isCompressed == compressed)
                    {
                        trees.Add(blob.GetProperty("id").GetString()!);
                    }
                }
            }
        }

        return trees;
    }

    [Fact]
    public async Task Our_prune_of_a_repository_restic_wrote_and_forgot_in()
    {
        using var dir = new TempDirectory();
        var repoPath = dir.Combine("repo");
        var source = dir.Combine("src");
        var restic = new ResticCli(repoPath, TestRepository.Password);
        await restic.RunCheckedAsync("init");
        SimpleTree.Create(source, seed: 1, bigFileBytes: 3 * 1024 * 1024);
        await restic.RunCheckedAsync("backup", source);
        TestTree.Delete(source);
        SimpleTree.Create(source, seed: 2, bigFileBytes: 3 * 1024 * 1024);
        var expected = SimpleTree.Describe(source);
        await restic.RunCheckedAsync("backup", source);
        await restic.RunCheckedAsync("forget", "--keep-last", "1");

        await using (var repo = await TestRepository.OpenAsync(repoPath))
        {
            var result = await repo.PruneAsync(new PruneOptions { MaxUnusedPercent = 0 });
            Assert.True(result.PacksDeleted + result.PacksRepacked > 0);
        }

        await ResticChecksAndRestoresAsync(restic, dir, source, expected);
    }

    [Fact]
    public async Task Prune_killed_at_random_moments_never_loses_a_kept_snapshot()
    {
        var (dir, repoPath, kept) = await ThreeSnapshotsAsync();
        using var _d = dir;
        var env = new Dictionary<string, string> { ["RESTIC_REPOSITORY"] = repoPath, ["RESTIC_PASSWORD"] = TestRepository.Password };
        var restic = new ResticCli(repoPath, TestRepository.Password);

        // How long one whole prune of this repository takes here (on a copy), so that the kills land while one works:
        // a fixed delay would miss it on a faster build or machine, and the test would then prove nothing.
        var pristine = dir.Combine("pristine");
        await ProcessRun.RunCheckedAsync("cp", "-a", repoPath, pristine);
        var probeRepo = dir.Combine("probe");
        await ProcessRun.RunCheckedAsync("cp", "-a", repoPath, probeRepo);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var probe = await CliRunner.RunAsync(new Dictionary<string, string>(env) { ["RESTIC_REPOSITORY"] = probeRepo }, "prune", "--max-unused", "0%");
        double wholePruneMs = clock.Elapsed.TotalMilliseconds;
        Assert.True(probe.ExitCode == 0, probe.StandardError);

        var rng = new Random(42);
        int killed = 0;
        bool lastFinished = false;
        for (int attempt = 0; attempt < 8; attempt++)
        {
            if (lastFinished)
            {
                // A prune that ran to its end left nothing to prune: start the next one from the unpruned repository
                // again. After a kill the next prune starts from whatever the killed one left.
                TestTree.Delete(repoPath);
                await ProcessRun.RunCheckedAsync("cp", "-a", pristine, repoPath);
            }

            using var process = CliRunner.Start(env, "prune", "--max-unused", "0%");
            await Task.Delay(TimeSpan.FromMilliseconds(rng.NextDouble() * wholePruneMs));
            lastFinished = process.HasExited;
            if (!lastFinished)
            {
                process.Kill(entireProcessTree: true);
                killed++;
            }

            await process.WaitForExitAsync();
            await restic.RunCheckedAsync("unlock");
            var check = await restic.RunAsync("check");
            Assert.True(check.ExitCode == 0, $"attempt {attempt}: " + check.StandardOutput + check.StandardError);
        }

        Assert.True(killed >= 2, $"only {killed} of 8 prunes were still running when killed (a whole prune took {wholePruneMs:F0} ms)");
        var final = await CliRunner.RunAsync(env, "prune", "--max-unused", "0%");
        Assert.True(final.ExitCode == 0, final.StandardError);
        var readData = await restic.RunAsync("check", "--read-data");
        Assert.True(readData.ExitCode == 0, readData.StandardOutput + readData.StandardError);
        await using var repo = await TestRepository.OpenAsync(repoPath);
        int i = 0;
        foreach (var (snapshot, tree) in kept)
        {
            var target = dir.Combine($"out{i++}");
            Assert.True((await repo.RestoreAsync(snapshot, new RestoreOptions { Target = target })).IsComplete);
            Assert.Equal(tree, SimpleTree.Describe(target + snapshot.Paths[0]));
        }
    }

    [Fact]
    public async Task Tree_packs_with_unused_trees_and_many_small_packs_are_repacked_even_when_unused_space_is_tolerated()
    {
        // Twelve small backups, each adding one file: twelve tiny data packs (all still used) and twelve tree packs.
        // The first tree pack also holds the tree of the folder that never changes, so after forgetting all but the
        // last snapshot it is partly used. restic repacks both kinds whatever --max-unused says.
        using var dir = new TempDirectory();
        var repoPath = dir.Combine("repo");
        var source = dir.Combine("src");
        Directory.CreateDirectory(Path.Combine(source, "stable"));
        Directory.CreateDirectory(Path.Combine(source, "changing"));
        File.WriteAllText(Path.Combine(source, "stable", "a.txt"), "never changes");
        await using var repo = await TestRepository.InitAsync(repoPath);
        var options = new BackupOptions();
        options.Paths.Add(source);
        KubeBackup.Restic.Model.Snapshot last = null!;
        for (int i = 0; i < 12; i++)
        {
            File.WriteAllBytes(Path.Combine(source, "changing", $"f{i}"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(10_000));
            last = (await repo.BackupAsync(options)).Snapshot;
        }

        await repo.ForgetAsync(new KubeBackup.Retention.RetentionPolicy { Last = 1 });
        int packsBefore = Directory.GetFiles(Path.Combine(repoPath, "data"), "*", SearchOption.AllDirectories).Length;

        var result = await repo.PruneAsync(new PruneOptions { MaxUnusedPercent = 100 });

        Assert.Equal(0, result.UnusedBytesAfter); // the partly used tree pack was repacked, not kept
        Assert.True(result.PacksRepacked >= 12, $"repacked {result.PacksRepacked}: the small data packs should have been");
        int packsAfter = Directory.GetFiles(Path.Combine(repoPath, "data"), "*", SearchOption.AllDirectories).Length;
        // The twelve tiny data packs became one or two (the writer may have two packs open at once), the trees the
        // last snapshot uses sit in one to three; left alone, the twelve data packs would still be there.
        Assert.True(packsAfter <= 6, $"{packsBefore} packs before, {packsAfter} after");

        var check = await new ResticCli(repoPath, TestRepository.Password).RunAsync("check", "--read-data");
        Assert.True(check.ExitCode == 0, check.StandardOutput + check.StandardError);
        await using var reopened = await TestRepository.OpenAsync(repoPath);
        var target = dir.Combine("out");
        Assert.True((await reopened.RestoreAsync(last, new RestoreOptions { Target = target })).IsComplete);
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(target + file));
        }
    }
}
