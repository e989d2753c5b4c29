using System.Text.Json;
using KubeBackup.Restic;
using KubeBackup.Restic.Archiver;
using KubeBackup.Restic.Locking;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Repository;
using KubeBackup.Retention;
using KubeBackup.Storage;
using KubeBackup.Storage.Local;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Retention;

/// <summary><c>forget</c> in the library and the console host: what it removes, what a dry run leaves, its lock, its
/// output.</summary>
public class ForgetTests
{
    private static Dictionary<string, string> Env(string repo) => new()
    {
        ["RESTIC_REPOSITORY"] = repo,
        ["RESTIC_PASSWORD"] = TestRepository.Password,
    };

    /// <summary>A repository with one real backup and 24 more snapshots of its tree: two hosts, every 7 hours from
    /// 2025-03-01, in a few UTC offsets, some tagged. No two share an instant, so restic's order is deterministic.</summary>
    private static async Task<string> CreateAsync(TempDirectory dir)
    {
        var path = dir.Combine("repo");
        var source = dir.Combine("src");
        Directory.CreateDirectory(source);
        await File.WriteAllTextAsync(Path.Combine(source, "a.txt"), "forget me not");
        await using var repo = await TestRepository.InitAsync(path);
        var options = new BackupOptions { Hostname = "seed" };
        options.Paths.Add(source);
        var seed = (await repo.BackupAsync(options)).Snapshot;
        int[] offsets = [0, 330, -570, 120];
        for (int i = 0; i < 24; i++)
        {
            long unix = new DateTimeOffset(2025, 3, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds() + i * 7 * 3600 + i * 61;
            await repo.SaveSnapshotAsync(new Snapshot
            {
                Time = new GoTime(unix, i * 1000, offsets[i % 4] * 60),
                Tree = seed.Tree,
                Paths = [source],
                Hostname = i % 3 == 0 ? "web-2" : "web-1",
                Username = "kb",
                Tags = i % 5 == 0 ? ["monthly"] : null,
            }, CancellationToken.None);
        }

        return path;
    }

    [Fact]
    public async Task A_dry_run_decides_but_changes_nothing()
    {
        using var dir = new TempDirectory();
        var path = await CreateAsync(dir);
        var before = TestRepository.Listing(path);
        await using var repo = await TestRepository.OpenAsync(path);

        var result = await repo.ForgetAsync(new RetentionPolicy { Daily = 2 }, new ForgetOptions { DryRun = true });

        Assert.True(result.DryRun);
        Assert.NotEmpty(result.Removed);
        Assert.Equal(result.Decisions!.Remove.Select(s => s.Id), result.Removed.Select(s => s.Id));
        Assert.Equal(before, TestRepository.Listing(path));
    }

    [Fact]
    public async Task A_real_run_removes_exactly_the_snapshot_files_decided_and_restic_agrees()
    {
        using var dir = new TempDirectory();
        var path = await CreateAsync(dir);
        await using var repo = await TestRepository.OpenAsync(path);
        var all = await repo.ListSnapshotsAsync();
        var otherFiles = TestRepository.Listing(path).Where(kv => !kv.Key.StartsWith("snapshots/", StringComparison.Ordinal)).ToDictionary();

        var policy = new RetentionPolicy { Daily = 2, KeepTags = [["monthly"]] };
        var result = await repo.ForgetAsync(policy);

        var kept = result.Decisions!.Keep.Select(s => s.Id).ToHashSet();
        var removed = result.Removed.Select(s => s.Id).ToHashSet();
        Assert.Equal(all.Count, kept.Count + removed.Count);
        Assert.Empty(kept.Intersect(removed));
        // The monthly-tagged ones all stay.
        Assert.Subset(kept, all.Where(s => s.Tags?.Contains("monthly") == true).Select(s => s.Id).ToHashSet());

        var remaining = Directory.GetFiles(Path.Combine(path, "snapshots")).Select(f => ResticId.Parse(Path.GetFileName(f))).ToHashSet();
        Assert.Equal(kept, remaining);
        // Nothing but snapshot files was touched, and no lock is left behind.
        Assert.Equal(otherFiles, TestRepository.Listing(path).Where(kv => !kv.Key.StartsWith("snapshots/", StringComparison.Ordinal)).ToDictionary());

        var restic = new ResticCli(path, TestRepository.Password);
        var listed = JsonDocument.Parse(await restic.RunCheckedAsync("snapshots", "--json")).RootElement
            .EnumerateArray().Select(e => ResticId.Parse(e.GetProperty("id").GetString()!)).ToHashSet();
        Assert.Equal(kept, listed);
        await restic.RunCheckedAsync("check");
    }

    [Fact]
    public async Task Forget_holds_an_exclusive_lock_and_fails_while_another_process_holds_a_shared_one()
    {
        using var dir = new TempDirectory();
        var path = await CreateAsync(dir);
        var before = TestRepository.Listing(path);
        await using var repo = await TestRepository.OpenAsync(path);

        await using (await RepositoryLock.AcquireAsync(repo, exclusive: false))
        {
            var ex = await Assert.ThrowsAsync<RepositoryLockedException>(() => repo.ForgetAsync(new RetentionPolicy { Last = 1 }));
            Assert.False(ex.Exclusive);
        }

        var withoutLocks = before.Where(kv => !kv.Key.StartsWith("locks/", StringComparison.Ordinal)).ToDictionary();
        Assert.Equal(withoutLocks, TestRepository.Listing(path).Where(kv => !kv.Key.StartsWith("locks/", StringComparison.Ordinal)).ToDictionary());

        // While it removes, the repository holds exactly one lock: ours, exclusive.
        var hook = new HookBackend(new LocalBackend(new LocalBackendOptions { Path = path, Durable = false }));
        await using var hooked = await ResticRepository.OpenAsync(hook, TestRepository.Password, TestRepository.Options());
        var seen = new List<bool>();
        hook.BeforeRemove = async handle =>
        {
            if (handle.Type == FileType.Snapshot)
            {
                var locks = await RepositoryLock.ListAsync(hooked);
                seen.Add(Assert.Single(locks).Document!.Exclusive);
            }
        };
        var result = await hooked.ForgetAsync(new RetentionPolicy { Last = 1 });
        Assert.Equal(result.Removed.Count, seen.Count);
        Assert.All(seen, Assert.True);
        Assert.Empty(await RepositoryLock.ListAsync(hooked));
    }

    [Fact]
    public async Task A_refused_policy_removes_nothing()
    {
        using var dir = new TempDirectory();
        var path = await CreateAsync(dir);
        var before = TestRepository.Listing(path);
        await using var repo = await TestRepository.OpenAsync(path);

        await Assert.ThrowsAsync<RetentionException>(() => repo.ForgetAsync(new RetentionPolicy()));
        await Assert.ThrowsAsync<RetentionException>(() => repo.ForgetAsync(new RetentionPolicy { KeepTags = [["no-such-tag"]] }));
        Assert.Equal(before, TestRepository.Listing(path));
    }

    [Fact]
    public async Task Console_forget_json_has_restics_shape_and_decisions()
    {
        using var dir = new TempDirectory();
        var path = await CreateAsync(dir);
        var env = Env(path);
        var restic = new ResticCli(path, TestRepository.Password);
        restic.Environment["TZ"] = "UTC";
        string[] flags = ["--keep-daily", "3", "--keep-weekly", "1", "--keep-tag", "monthly", "--group-by", "host,tags"];

        var theirs = JsonDocument.Parse(await restic.RunCheckedAsync(["forget", "--dry-run", "--json", .. flags])).RootElement;
        var run = await CliRunner.RunAsync(env, ["forget", "--dry-run", "--json", "--compatibility", "0.14", .. flags]);
        Assert.True(run.ExitCode == 0, run.StandardError);
        var ours = JsonDocument.Parse(run.StandardOutput).RootElement;

        static string Key(JsonElement g) => g.GetProperty("host").GetString() + " " + g.GetProperty("paths").GetRawText() + " " + g.GetProperty("tags").GetRawText();
        static string[] Ids(JsonElement list) => list.ValueKind == JsonValueKind.Null ? [] : [.. list.EnumerateArray().Select(s => s.GetProperty("id").GetString()!)];
        var theirGroups = theirs.EnumerateArray().ToDictionary(Key);
        var ourGroups = ours.EnumerateArray().ToDictionary(Key);
        Assert.Equal(theirGroups.Keys.Order(), ourGroups.Keys.Order());
        foreach (var (key, t) in theirGroups)
        {
            var o = ourGroups[key];
            Assert.Equal(t.EnumerateObject().Select(p => p.Name).Order(), o.EnumerateObject().Select(p => p.Name).Order());
            Assert.Equal(Ids(t.GetProperty("keep")), Ids(o.GetProperty("keep")));
            Assert.Equal(Ids(t.GetProperty("remove")), Ids(o.GetProperty("remove")));
            if (t.GetProperty("keep").ValueKind != JsonValueKind.Null)
            {
                // A snapshot carries the same fields with the same values (restic 0.14 writes no program_version).
                var ts = t.GetProperty("keep")[0];
                var os = o.GetProperty("keep")[0];
                foreach (var p in ts.EnumerateObject())
                {
                    Assert.True(JsonElement.DeepEquals(p.Value, os.GetProperty(p.Name)), $"{p.Name}: restic {p.Value}, we {os.GetProperty(p.Name)}");
                }
            }

            var theirReasons = t.GetProperty("reasons").EnumerateArray().ToList();
            var ourReasons = o.GetProperty("reasons").EnumerateArray().ToList();
            Assert.Equal(theirReasons.Select(r => r.GetProperty("matches").GetRawText()), ourReasons.Select(r => r.GetProperty("matches").GetRawText()));
            Assert.Equal(theirReasons.Select(r => r.GetProperty("counters").GetRawText()), ourReasons.Select(r => r.GetProperty("counters").GetRawText()));
            Assert.Equal(theirReasons.Select(r => r.GetProperty("snapshot").GetProperty("time").GetString()),
                ourReasons.Select(r => r.GetProperty("snapshot").GetProperty("time").GetString()));
        }
    }

    [Fact]
    public async Task Console_forget_removes_with_current_semantics_and_refuses_what_restic_refuses()
    {
        using var dir = new TempDirectory();
        var path = await CreateAsync(dir);
        var env = Env(path);

        var negative = await CliRunner.RunAsync(env, "forget", "--keep-daily", "-1");
        Assert.Equal(1, negative.ExitCode);
        Assert.Contains("use 'unlimited' instead", negative.StandardError, StringComparison.Ordinal);

        var empty = await CliRunner.RunAsync(env, "forget");
        Assert.Equal(1, empty.ExitCode);
        Assert.Contains("no policy was specified", empty.StandardError, StringComparison.Ordinal);

        var badDuration = await CliRunner.RunAsync(env, "forget", "--keep-within", "2w");
        Assert.Equal(1, badDuration.ExitCode);
        Assert.Contains("invalid unit 'w' found after number 2", badDuration.StandardError, StringComparison.Ordinal);

        // Keep the newest per host (plus, current semantics, each host's oldest).
        var run = await CliRunner.RunAsync(env, "forget", "--keep-last", "1", "--keep-monthly", "unlimited", "--json");
        Assert.True(run.ExitCode == 0, run.StandardError);
        var groups = JsonDocument.Parse(run.StandardOutput).RootElement.EnumerateArray().ToList();
        Assert.Equal(3, groups.Count);
        var web1 = groups.Single(g => g.GetProperty("host").GetString() == "web-1");
        Assert.Equal(2, web1.GetProperty("keep").GetArrayLength());
        Assert.Equal(["last snapshot", "monthly snapshot"], web1.GetProperty("reasons")[0].GetProperty("matches").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(["oldest monthly snapshot"], web1.GetProperty("reasons")[1].GetProperty("matches").EnumerateArray().Select(m => m.GetString()));

        var snapshots = JsonDocument.Parse((await CliRunner.RunAsync(env, "snapshots", "--json")).StandardOutput).RootElement;
        Assert.Equal(groups.Sum(g => g.GetProperty("keep").GetArrayLength()), snapshots.GetArrayLength());

        // Forget by ID.
        var id = snapshots[0].GetProperty("short_id").GetString()!;
        var byId = await CliRunner.RunAsync(env, "forget", id);
        Assert.True(byId.ExitCode == 0, byId.StandardError);
        var after = JsonDocument.Parse((await CliRunner.RunAsync(env, "snapshots", "--json")).StandardOutput).RootElement;
        Assert.Equal(snapshots.GetArrayLength() - 1, after.GetArrayLength());
        Assert.DoesNotContain(after.EnumerateArray(), s => s.GetProperty("short_id").GetString() == id);

        // forget --prune: the snapshots go, then the data only they used, and restic finds the repository intact.
        var prune = await CliRunner.RunAsync(env, "forget", "--keep-last", "1", "--group-by", "", "--prune");
        Assert.True(prune.ExitCode == 0, prune.StandardError);
        Assert.Contains("prune: deleted", prune.StandardOutput, StringComparison.Ordinal);
        Assert.Single(JsonDocument.Parse((await CliRunner.RunAsync(env, "snapshots", "--json")).StandardOutput).RootElement.EnumerateArray());
        var check = await new ResticCli(path, TestRepository.Password).RunAsync("check", "--read-data");
        Assert.True(check.ExitCode == 0, check.StandardOutput + check.StandardError);
    }
}
