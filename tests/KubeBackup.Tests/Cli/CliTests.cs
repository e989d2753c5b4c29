using System.Text.Json;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Cli;

/// <summary>The console host as a restic user drives it: same commands, flags, environment variables and exit codes.</summary>
public class CliTests
{
    private static Dictionary<string, string> Env(string repo, string password = TestRepository.Password) => new()
    {
        ["RESTIC_REPOSITORY"] = repo,
        ["RESTIC_PASSWORD"] = password,
    };

    [Fact]
    public async Task Init_backup_snapshots_ls_dump_restore_round_trip()
    {
        using var dir = new TempDirectory();
        var repo = dir.Combine("repo");
        var source = dir.Combine("src");
        SimpleTree.Create(source, bigFileBytes: 2 * 1024 * 1024);
        var env = Env(repo);

        var init = await CliRunner.RunAsync(env, "init");
        Assert.True(init.ExitCode == 0, init.StandardError);
        Assert.Contains("created restic repository", init.StandardOutput, StringComparison.Ordinal);

        var backup = await CliRunner.RunAsync(env, "backup", source, "--tag", "a,b", "--host", "web-1", "--exclude", "*.dat");
        Assert.True(backup.ExitCode == 0, backup.StandardError);
        Assert.Contains("snapshot", backup.StandardOutput, StringComparison.Ordinal);

        var snapshots = await CliRunner.RunAsync(env, "snapshots", "--json");
        Assert.Equal(0, snapshots.ExitCode);
        var list = JsonDocument.Parse(snapshots.StandardOutput).RootElement;
        var snap = Assert.Single(list.EnumerateArray());
        Assert.Equal("web-1", snap.GetProperty("hostname").GetString());
        Assert.Equal(["a", "b"], snap.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(source, snap.GetProperty("paths")[0].GetString());

        var ls = await CliRunner.RunAsync(env, "ls", "latest");
        Assert.Equal(0, ls.ExitCode);
        Assert.Contains(source + "/docs/readme.txt", ls.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(".dat", ls.StandardOutput, StringComparison.Ordinal);

        var dumped = await CliRunner.RunForBytesAsync(env, "dump", snap.GetProperty("short_id").GetString()!, source + "/big.bin");
        Assert.Equal(File.ReadAllBytes(Path.Combine(source, "big.bin")), dumped);

        var restore = await CliRunner.RunAsync(env, "restore", "latest", "--target", dir.Combine("out"), "--host", "web-1");
        Assert.True(restore.ExitCode == 0, restore.StandardError);
        var expected = SimpleTree.Describe(source).Where(kv => !kv.Key.EndsWith(".dat", StringComparison.Ordinal)).ToDictionary();
        Assert.Equal(expected, SimpleTree.Describe(Path.Combine(dir.Combine("out"), source.TrimStart('/'))).ToDictionary());

        // What we wrote is an ordinary restic repository.
        var check = await new ResticCli(repo, TestRepository.Password).RunAsync("check", "--read-data");
        Assert.True(check.ExitCode == 0, check.StandardOutput + check.StandardError);
    }

    [Fact]
    public async Task Json_outputs_of_backup_ls_restore_and_prune_carry_the_operations_numbers()
    {
        // The host writes JSON without reflection (it also runs as a native executable); each document must parse and
        // say what happened.
        using var dir = new TempDirectory();
        var source = dir.Combine("src");
        SimpleTree.Create(source, bigFileBytes: 1024 * 1024, smallFiles: 5);
        var files = new DirectoryInfo(source).EnumerateFiles("*", SearchOption.AllDirectories).Count(f => f.LinkTarget is null);
        var env = Env(dir.Combine("repo"));
        Assert.Equal(0, (await CliRunner.RunAsync(env, "init")).ExitCode);

        var backup = await CliRunner.RunAsync(env, "--json", "backup", source);
        Assert.True(backup.ExitCode == 0, backup.StandardError);
        var summary = JsonDocument.Parse(backup.StandardOutput.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal("summary", summary.GetProperty("message_type").GetString());
        Assert.Equal(files, summary.GetProperty("files_new").GetInt32());
        Assert.Equal(0, summary.GetProperty("errors").GetInt32());
        var snapshotId = summary.GetProperty("snapshot_id").GetString()!;

        var ls = await CliRunner.RunAsync(env, "--json", "ls", "latest");
        Assert.True(ls.ExitCode == 0, ls.StandardError);
        var entries = ls.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(snapshotId, entries[0].GetProperty("id").GetString());
        var big = entries.Single(e => e.TryGetProperty("path", out var p) && p.GetString() == source + "/big.bin");
        Assert.Equal("file", big.GetProperty("type").GetString());
        Assert.Equal(1024 * 1024, big.GetProperty("size").GetInt64());

        var restore = await CliRunner.RunAsync(env, "--json", "restore", "latest", "--target", dir.Combine("out"));
        Assert.True(restore.ExitCode == 0, restore.StandardError);
        var restored = JsonDocument.Parse(restore.StandardOutput.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal(files, restored.GetProperty("files_restored").GetInt32());
        Assert.Equal(SimpleTree.Describe(source), SimpleTree.Describe(dir.Combine("out") + source));

        Assert.Equal(0, (await CliRunner.RunAsync(env, "forget", snapshotId)).ExitCode);
        var prune = await CliRunner.RunAsync(env, "--json", "prune");
        Assert.True(prune.ExitCode == 0, prune.StandardError);
        var pruned = JsonDocument.Parse(prune.StandardOutput.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal("summary", pruned.GetProperty("message_type").GetString());
        Assert.Equal(0, pruned.GetProperty("used_blobs").GetInt64());
        Assert.True(pruned.GetProperty("packs_deleted").GetInt32() > 0);
        Assert.False(pruned.GetProperty("dry_run").GetBoolean());
    }

    [Fact]
    public async Task Stdin_backup_and_password_file()
    {
        using var dir = new TempDirectory();
        var repo = dir.Combine("repo");
        var passwordFile = dir.Combine("pw");
        File.WriteAllText(passwordFile, TestRepository.Password + "\n");
        var env = new Dictionary<string, string> { ["RESTIC_REPOSITORY"] = repo };
        Assert.Equal(0, (await CliRunner.RunAsync(env, "--password-file", passwordFile, "init", "--repository-version", "1")).ExitCode);
        var data = new byte[3_000_000];
        new Random(3).NextBytes(data);

        var backup = await CliRunner.RunWithInputAsync(env, new MemoryStream(data), "-p", passwordFile, "backup", "--stdin", "--stdin-filename", "dump.bin");

        Assert.True(backup.ExitCode == 0, backup.StandardError);
        Assert.Equal(data, await new ResticCli(repo, TestRepository.Password).RunForBytesAsync("dump", "latest", "/dump.bin"));
    }

    [Fact]
    public async Task Wrong_password_exits_1_with_restics_message()
    {
        using var dir = new TempDirectory();
        var repo = dir.Combine("repo");
        Assert.Equal(0, (await CliRunner.RunAsync(Env(repo), "init")).ExitCode);

        var result = await CliRunner.RunAsync(Env(repo, "wrong"), "snapshots");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("wrong password", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Backup_with_an_unreadable_target_exits_3_and_still_writes_a_snapshot()
    {
        using var dir = new TempDirectory();
        var repo = dir.Combine("repo");
        var source = dir.Combine("src");
        SimpleTree.Create(source, bigFileBytes: 100, smallFiles: 2);
        Assert.Equal(0, (await CliRunner.RunAsync(Env(repo), "init")).ExitCode);

        var result = await CliRunner.RunAsync(Env(repo), "backup", source, dir.Combine("missing"));

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("missing", result.StandardError, StringComparison.Ordinal);
        var snapshots = await CliRunner.RunAsync(Env(repo), "snapshots", "--json");
        Assert.Single(JsonDocument.Parse(snapshots.StandardOutput).RootElement.EnumerateArray());
    }

    [Fact]
    public async Task Backup_reads_one_file_at_a_time_when_asked_and_refuses_zero_readers()
    {
        using var dir = new TempDirectory();
        var repo = dir.Combine("repo");
        var source = dir.Combine("src");
        SimpleTree.Create(source, bigFileBytes: 3 * 1024 * 1024);
        var env = Env(repo);
        Assert.Equal(0, (await CliRunner.RunAsync(env, "init")).ExitCode);

        var zero = await CliRunner.RunAsync(env, "backup", source, "--read-concurrency", "0");
        Assert.NotEqual(0, zero.ExitCode);
        Assert.Contains("--read-concurrency must be at least 1", zero.StandardError + zero.StandardOutput, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(repo, "snapshots")));

        var one = await CliRunner.RunAsync(env, "backup", source, "--read-concurrency", "1");
        Assert.True(one.ExitCode == 0, one.StandardError);
        var restore = await CliRunner.RunAsync(env, "restore", "latest", "--target", dir.Combine("out"));
        Assert.True(restore.ExitCode == 0, restore.StandardError);
        Assert.Equal(SimpleTree.Describe(source), SimpleTree.Describe(Path.Combine(dir.Combine("out"), source.TrimStart('/'))));
    }

    [Fact]
    public async Task Restore_writes_large_files_past_the_page_cache_unless_given_page_cache()
    {
        // On the disk the tests run from (not a tmpfs /tmp, where the cache is the file itself).
        string root = PageCache.NewFolderOnDisk("kb-cli-cache");
        try
        {
            var repo = Path.Combine(root, "repo");
            var source = Path.Combine(root, "src");
            SimpleTree.Create(source, bigFileBytes: 4 * 1024 * 1024);
            var env = Env(repo);
            Assert.Equal(0, (await CliRunner.RunAsync(env, "init")).ExitCode);
            Assert.Equal(0, (await CliRunner.RunAsync(env, "backup", source)).ExitCode);

            var resident = new Dictionary<bool, long>();
            foreach (bool pageCache in new[] { false, true })
            {
                string target = Path.Combine(root, pageCache ? "cached" : "direct");
                string[] args = pageCache ? ["restore", "latest", "--target", target, "--page-cache"] : ["restore", "latest", "--target", target];
                var restore = await CliRunner.RunAsync(env, args);
                Assert.True(restore.ExitCode == 0, restore.StandardError);
                string restored = Path.Combine(target, source.TrimStart('/'));
                resident[pageCache] = await PageCache.ResidentBytesAsync(Path.Combine(restored, "big.bin"));
                Assert.Equal(SimpleTree.Describe(source), SimpleTree.Describe(restored));
            }

            Assert.True(resident[true] >= 3 * 1024 * 1024, $"--page-cache should leave the file cached: {resident[true]} bytes");
            Assert.True(resident[false] <= 64 * 4096, $"by default the file should bypass the cache: {resident[false]} bytes");
        }
        finally
        {
            TestTree.Delete(root);
        }
    }

    [Fact]
    public async Task Missing_repository_and_missing_password_are_fatal()
    {
        using var dir = new TempDirectory();
        var noRepo = await CliRunner.RunAsync(Env(dir.Combine("nothing-here")), "snapshots");
        Assert.Equal(1, noRepo.ExitCode);
        Assert.Contains("no repository", noRepo.StandardError, StringComparison.OrdinalIgnoreCase);

        var noPassword = await CliRunner.RunAsync(new Dictionary<string, string> { ["RESTIC_REPOSITORY"] = dir.Combine("r") }, "init");
        Assert.Equal(1, noPassword.ExitCode);
        Assert.Contains("password", noPassword.StandardError, StringComparison.OrdinalIgnoreCase);
    }
}
