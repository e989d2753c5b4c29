using System.Text;
using KubeBackup.Restic.Restorer;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Restic.Restore;

/// <summary>A snapshot is untrusted input: whatever names and symlinks it holds, a restore writes only inside its target.</summary>
public class RestoreSafetyTests
{
    [Fact]
    public async Task Names_that_try_to_leave_the_target_are_refused_and_nothing_is_written_outside()
    {
        using var dir = new TempDirectory();
        await using var repo = await TestRepository.InitAsync(dir.Combine("repo"));
        var outside = dir.Combine("outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "precious"), "keep me");
        KubeBackup.Restic.Model.Snapshot snapshot;
        await using (var forge = new RepositoryForger(repo))
        {
            var root = await forge.TreeAsync(
                await forge.FileAsync("..", "dot-dot"),
                await forge.FileAsync(".", "dot"),
                await forge.FileAsync("../outside/precious", "overwritten"),
                await forge.FileAsync("/etc/kubebackup-escape", "absolute"),
                await forge.FileAsync("a/b", "slash"),
                await forge.FileAsync(Encoding.UTF8.GetBytes("nul\0name"), Encoding.UTF8.GetBytes("nul")),
                await forge.FileAsync("ok.txt", "fine"));
            snapshot = await forge.SnapshotAsync(root);
        }

        var target = dir.Combine("restore", "target");
        var result = await repo.RestoreAsync(snapshot, new RestoreOptions { Target = target });

        Assert.Equal("fine", File.ReadAllText(Path.Combine(target, "ok.txt")));
        Assert.Equal(["ok.txt"], Directory.GetFileSystemEntries(target).Select(Path.GetFileName));
        Assert.Equal(["target"], Directory.GetFileSystemEntries(dir.Combine("restore")).Select(Path.GetFileName));
        Assert.Equal("keep me", File.ReadAllText(Path.Combine(outside, "precious")));
        Assert.Single(Directory.GetFiles(outside));
        Assert.False(File.Exists("/etc/kubebackup-escape"));
        Assert.Equal(6, result.Errors.Count);
        Assert.All(result.Errors, e => Assert.Contains("unsafe name", e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_symlink_in_the_snapshot_is_never_written_through()
    {
        using var dir = new TempDirectory();
        await using var repo = await TestRepository.InitAsync(dir.Combine("repo"));
        var outside = dir.Combine("outside");
        Directory.CreateDirectory(outside);
        var victim = Path.Combine(outside, "victim.txt");
        File.WriteAllText(victim, "original");
        KubeBackup.Restic.Model.Snapshot snapshot;
        await using (var forge = new RepositoryForger(repo))
        {
            // "x" is first a symlink to the outside folder, then a folder holding "pwned": a naive restorer would
            // create the symlink and then write outside/pwned through it. Same for "y" and a file.
            var inner = await forge.TreeAsync(await forge.FileAsync("pwned", "evil"));
            var root = await forge.TreeAsync(
                RepositoryForger.Symlink("x", outside),
                RepositoryForger.Dir("x", inner),
                RepositoryForger.Symlink("y", victim),
                await forge.FileAsync("y", "evil"));
            snapshot = await forge.SnapshotAsync(root);
        }

        var target = dir.Combine("target");
        await repo.RestoreAsync(snapshot, new RestoreOptions { Target = target });

        Assert.Equal("original", File.ReadAllText(victim));
        Assert.Equal([victim], Directory.GetFiles(outside));
        Assert.False(File.Exists(Path.Combine(outside, "pwned")));
        Assert.True(File.Exists(Path.Combine(target, "x", "pwned")));
        Assert.Null(new DirectoryInfo(Path.Combine(target, "x")).LinkTarget);
    }

    [Fact]
    public async Task A_symlink_already_in_the_target_is_replaced_not_followed()
    {
        using var dir = new TempDirectory();
        await using var repo = await TestRepository.InitAsync(dir.Combine("repo"));
        var outside = dir.Combine("outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "f"), "original");
        var target = dir.Combine("target");
        Directory.CreateDirectory(target);
        File.CreateSymbolicLink(Path.Combine(target, "d"), outside);
        File.CreateSymbolicLink(Path.Combine(target, "g"), Path.Combine(outside, "f"));
        KubeBackup.Restic.Model.Snapshot snapshot;
        await using (var forge = new RepositoryForger(repo))
        {
            var inner = await forge.TreeAsync(await forge.FileAsync("f", "evil"));
            var root = await forge.TreeAsync(RepositoryForger.Dir("d", inner), await forge.FileAsync("g", "evil"));
            snapshot = await forge.SnapshotAsync(root);
        }

        await repo.RestoreAsync(snapshot, new RestoreOptions { Target = target });

        Assert.Equal("original", File.ReadAllText(Path.Combine(outside, "f")));
        Assert.Equal("evil", File.ReadAllText(Path.Combine(target, "d", "f")));
        Assert.Equal("evil", File.ReadAllText(Path.Combine(target, "g")));
    }
}
