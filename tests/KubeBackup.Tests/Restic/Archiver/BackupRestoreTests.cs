using KubeBackup.Restic.Archiver;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Restorer;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Restic.Archiver;

public class BackupRestoreTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Backup_then_restore_gives_identical_files_and_restic_checks_clean(int version)
    {
        using var dir = new TempDirectory();
        var source = dir.Combine("src");
        SimpleTree.Create(source);
        await using var repo = await TestRepository.InitAsync(dir.Combine("repo"), version);
        var options = new BackupOptions();
        options.Paths.Add(source);
        options.Tags.Add("nightly");

        var result = await repo.BackupAsync(options);

        Assert.True(result.IsComplete);
        Assert.Equal([source], result.Snapshot.Paths);
        Assert.Equal(["nightly"], result.Snapshot.Tags);
        Assert.True(result.Summary.FilesNew >= 40);
        var restore = await repo.RestoreAsync(result.Snapshot, new RestoreOptions { Target = dir.Combine("out") });
        Assert.True(restore.IsComplete, string.Join("\n", restore.Errors));
        var restored = Path.Combine(dir.Combine("out"), source.TrimStart('/'));
        Assert.Equal(SimpleTree.Describe(source), SimpleTree.Describe(restored));

        var restic = new ResticCli(dir.Combine("repo"), TestRepository.Password);
        var check = await restic.RunAsync("check", "--read-data");
        Assert.True(check.ExitCode == 0, check.StandardOutput + check.StandardError);
        Assert.Contains("no errors were found", check.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Several_large_files_restore_byte_identical_when_their_blobs_are_written_in_turn()
    {
        // The restorer hands out the blobs of large files alternately; every byte must still land at its offset: files
        // of different lengths (one ends while the next takes its place), small files between them, a file that holds
        // the same blob several times, and a sparse restore that leaves zero blobs as holes.
        using var dir = new TempDirectory();
        var source = dir.Combine("src");
        Directory.CreateDirectory(source);
        var rng = new Random(11);
        for (int i = 0; i < 5; i++)
        {
            var data = new byte[(6 + (3 * i)) * 1024 * 1024 + rng.Next(0, 4096)];
            rng.NextBytes(data);
            File.WriteAllBytes(Path.Combine(source, $"large-{i}.bin"), data);
            File.WriteAllBytes(Path.Combine(source, $"large-{i}.small"), data.AsSpan(0, rng.Next(1, 3000)).ToArray());
        }

        var block = new byte[3 * 1024 * 1024];
        rng.NextBytes(block);
        using (var repeated = File.Create(Path.Combine(source, "repeated.bin")))
        {
            for (int i = 0; i < 4; i++)
            {
                repeated.Write(block);
                repeated.Write(new byte[2 * 1024 * 1024]);
            }
        }

        // A fixed polynomial: with a random one, a 6 MiB file is now and then cut into fewer than five chunks.
        await using var repo = await TestRepository.InitAsync(dir.Combine("repo"), polynomial: TestRepository.FixedPolynomial);
        var options = new BackupOptions();
        options.Paths.Add(source);
        var result = await repo.BackupAsync(options);
        var tree = await repo.LoadTreeAsync(result.Snapshot.Tree);
        foreach (var component in source.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            tree = await repo.LoadTreeAsync(tree.Nodes.Single(n => n.DisplayName == component).Subtree!.Value);
        }

        Assert.True(tree.Nodes.Count(n => n.Content?.Count > 4) >= 5, "the test needs several files of many blobs");

        foreach (var sparse in new[] { false, true })
        {
            var target = dir.Combine(sparse ? "sparse" : "dense");
            var restore = await repo.RestoreAsync(result.Snapshot, new RestoreOptions { Target = target, Sparse = sparse });
            Assert.True(restore.IsComplete, string.Join("\n", restore.Errors));
            Assert.Equal(SimpleTree.Describe(source), SimpleTree.Describe(Path.Combine(target, source.TrimStart('/'))));
        }
    }

    [Fact]
    public async Task Second_backup_reads_nothing_unchanged_and_adds_nothing()
    {
        using var dir = new TempDirectory();
        var source = dir.Combine("src");
        SimpleTree.Create(source);
        await using var repo = await TestRepository.InitAsync(dir.Combine("repo"));
        var options = new BackupOptions();
        options.Paths.Add(source);
        var first = await repo.BackupAsync(options);

        var second = await repo.BackupAsync(options);

        Assert.Equal(first.Snapshot.Id, second.Parent);
        Assert.Equal(0ul, second.Summary.FilesNew + second.Summary.FilesChanged);
        Assert.Equal(first.Summary.FilesNew, second.Summary.FilesUnmodified);
        Assert.Equal(0ul, second.Summary.DataBlobs);
        // The folders above the target (/tmp…) may change under other processes; the target's own tree may not.
        Assert.Equal((await repo.FindNodeAsync(first.Snapshot, source)).Subtree, (await repo.FindNodeAsync(second.Snapshot, source)).Subtree);
    }

    [Fact]
    public async Task Changed_file_is_read_again_and_restores_with_new_content()
    {
        using var dir = new TempDirectory();
        var source = dir.Combine("src");
        SimpleTree.Create(source);
        await using var repo = await TestRepository.InitAsync(dir.Combine("repo"));
        var options = new BackupOptions();
        options.Paths.Add(source);
        await repo.BackupAsync(options);
        File.AppendAllText(Path.Combine(source, "docs", "readme.txt"), "one more line\n");

        var second = await repo.BackupAsync(options);

        Assert.Equal(1ul, second.Summary.FilesChanged);
        var restored = dir.Combine("out");
        await repo.RestoreAsync(second.Snapshot, new RestoreOptions { Target = restored });
        Assert.Equal(SimpleTree.Describe(source), SimpleTree.Describe(Path.Combine(restored, source.TrimStart('/'))));
    }

    [Fact]
    public async Task Excluded_paths_are_not_in_the_snapshot()
    {
        using var dir = new TempDirectory();
        var source = dir.Combine("src");
        SimpleTree.Create(source, bigFileBytes: 1000);
        await using var repo = await TestRepository.InitAsync(dir.Combine("repo"));
        var options = new BackupOptions();
        options.Paths.Add(source);
        options.Excludes.Add("nested");
        options.Excludes.Add("*.txt");

        var result = await repo.BackupAsync(options);

        var paths = new List<string>();
        await foreach (var e in repo.ListFilesAsync(result.Snapshot))
        {
            paths.Add(e.Path);
        }

        Assert.Contains(paths, p => p.EndsWith("/big.bin", StringComparison.Ordinal));
        Assert.DoesNotContain(paths, p => p.Contains("/nested", StringComparison.Ordinal));
        Assert.DoesNotContain(paths, p => p.EndsWith(".txt", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Restore_with_include_restores_only_matching_paths()
    {
        using var dir = new TempDirectory();
        var source = dir.Combine("src");
        SimpleTree.Create(source, bigFileBytes: 1000);
        await using var repo = await TestRepository.InitAsync(dir.Combine("repo"));
        var options = new BackupOptions();
        options.Paths.Add(source);
        var result = await repo.BackupAsync(options);
        var restoreOptions = new RestoreOptions { Target = dir.Combine("out") };
        restoreOptions.Includes.Add("readme.txt");

        var restore = await repo.RestoreAsync(result.Snapshot, restoreOptions);

        Assert.Equal(1, restore.Files);
        var files = Directory.GetFiles(dir.Combine("out"), "*", SearchOption.AllDirectories);
        var only = Assert.Single(files);
        Assert.Equal(File.ReadAllBytes(Path.Combine(source, "docs", "readme.txt")), File.ReadAllBytes(only));
    }

    [Fact]
    public async Task Dump_writes_the_exact_file_content()
    {
        using var dir = new TempDirectory();
        var source = dir.Combine("src");
        SimpleTree.Create(source);
        await using var repo = await TestRepository.InitAsync(dir.Combine("repo"));
        var options = new BackupOptions();
        options.Paths.Add(source);
        var result = await repo.BackupAsync(options);
        using var output = new MemoryStream();

        await repo.DumpAsync(result.Snapshot, source + "/big.bin", output);

        Assert.Equal(File.ReadAllBytes(Path.Combine(source, "big.bin")), output.ToArray());
    }

    [Fact]
    public async Task Missing_target_is_reported_and_an_all_missing_backup_fails()
    {
        using var dir = new TempDirectory();
        var source = dir.Combine("src");
        SimpleTree.Create(source, bigFileBytes: 10);
        await using var repo = await TestRepository.InitAsync(dir.Combine("repo"));
        var options = new BackupOptions();
        options.Paths.Add(source);
        options.Paths.Add(dir.Combine("does-not-exist"));

        var result = await repo.BackupAsync(options);

        Assert.False(result.IsComplete);
        Assert.Contains(result.Errors, e => e.Path.EndsWith("does-not-exist", StringComparison.Ordinal));
        var onlyMissing = new BackupOptions();
        onlyMissing.Paths.Add(dir.Combine("does-not-exist"));
        var before = (await repo.ListSnapshotsAsync()).Count;
        await Assert.ThrowsAsync<NotFoundException>(() => repo.BackupAsync(onlyMissing));
        Assert.Equal(before, (await repo.ListSnapshotsAsync()).Count);
    }

    [Fact]
    public async Task Cancelled_backup_writes_no_snapshot_and_restic_still_checks_clean()
    {
        using var dir = new TempDirectory();
        var source = dir.Combine("src");
        SimpleTree.Create(source, bigFileBytes: 40 * 1024 * 1024);
        var repoPath = dir.Combine("repo");
        await (await TestRepository.InitAsync(repoPath)).DisposeAsync();
        using var cts = new CancellationTokenSource();
        var backend = new HookBackend(new KubeBackup.Storage.Local.LocalBackend(repoPath));
        int packs = 0;
        // Cancel while the second pack is being saved: packs are in flight, nothing is indexed yet.
        backend.BeforeSave = h =>
        {
            if (h.Type == KubeBackup.Storage.FileType.Pack && Interlocked.Increment(ref packs) == 2)
            {
                cts.Cancel();
            }

            return Task.CompletedTask;
        };
        await using var repo = await KubeBackup.Restic.Repository.ResticRepository.OpenAsync(backend, TestRepository.Password, TestRepository.Options());
        var options = new BackupOptions();
        options.Paths.Add(source);

        var thrown = await Record.ExceptionAsync(() => repo.BackupAsync(options, null, cts.Token));
        Assert.True(thrown is OperationCanceledException, thrown?.ToString());

        Assert.True(packs >= 2);
        Assert.Empty(await repo.ListSnapshotsAsync());
        Assert.Empty(Directory.GetFiles(Path.Combine(repoPath, "locks")));
        Assert.Empty(Directory.GetFiles(repoPath, "*-tmp-*", SearchOption.AllDirectories));
        var check = await new ResticCli(repoPath, TestRepository.Password).RunAsync("check", "--read-data");
        Assert.True(check.ExitCode == 0, check.StandardOutput + check.StandardError);
    }

    private sealed class SyncProgress<T>(Action<T> action) : IProgress<T>
    {
        public void Report(T value) => action(value);
    }
}
