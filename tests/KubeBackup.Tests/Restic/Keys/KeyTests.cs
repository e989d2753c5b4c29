using KubeBackup.Restic.Repository;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Restic.Keys;

public class KeyTests
{
    [Fact]
    public async Task Added_key_opens_the_repository_with_us_and_with_restic_and_the_old_one_still_works()
    {
        using var dir = new TempDirectory();
        var repoPath = dir.Combine("repo");
        await using (var repo = await TestRepository.InitAsync(repoPath))
        {
            await repo.AddKeyAsync("second password", TestRepository.FastKdf);
            var keys = await repo.ListKeysAsync();
            Assert.Equal(2, keys.Count);
            Assert.Single(keys, k => k.IsCurrent);
        }

        await using (var viaSecond = await TestRepository.OpenAsync(repoPath, password: "second password"))
        {
            Assert.NotEqual(default, viaSecond.KeyId);
        }

        await (await TestRepository.OpenAsync(repoPath)).DisposeAsync();
        Assert.Equal(0, (await new ResticCli(repoPath, "second password").RunAsync("check")).ExitCode);
    }

    [Fact]
    public async Task Change_password_keeps_the_master_key_and_removes_the_old_password()
    {
        using var dir = new TempDirectory();
        var repoPath = dir.Combine("repo");
        var source = dir.Combine("src");
        SimpleTree.Create(source, bigFileBytes: 1000, smallFiles: 3);
        await using (var repo = await TestRepository.InitAsync(repoPath))
        {
            var options = new KubeBackup.Restic.Archiver.BackupOptions();
            options.Paths.Add(source);
            await repo.BackupAsync(options);
            var newId = await repo.ChangePasswordAsync("new password", TestRepository.FastKdf);
            Assert.Equal(newId, repo.KeyId);
            Assert.Equal(newId, Assert.Single(await repo.ListKeysAsync()).Id);
        }

        await Assert.ThrowsAsync<WrongPasswordException>(() => TestRepository.OpenAsync(repoPath));
        await using var reopened = await TestRepository.OpenAsync(repoPath, password: "new password");
        Assert.Single(await reopened.ListSnapshotsAsync());
        var check = await new ResticCli(repoPath, "new password").RunAsync("check", "--read-data");
        Assert.True(check.ExitCode == 0, check.StandardOutput + check.StandardError);
    }

    [Fact]
    public async Task The_key_in_use_cannot_be_removed_but_another_can()
    {
        using var dir = new TempDirectory();
        var repoPath = dir.Combine("repo");
        await using var repo = await TestRepository.InitAsync(repoPath);
        var other = await repo.AddKeyAsync("other", TestRepository.FastKdf);

        await Assert.ThrowsAsync<RepositoryException>(() => repo.RemoveKeyAsync(repo.KeyId));
        await repo.RemoveKeyAsync(other);

        await Assert.ThrowsAsync<WrongPasswordException>(() => TestRepository.OpenAsync(repoPath, password: "other"));
        await Assert.ThrowsAsync<NotFoundException>(() => repo.RemoveKeyAsync(other));
        Assert.Single(await repo.ListKeysAsync());
    }

    [Fact]
    public async Task Console_key_add_list_and_unlock()
    {
        using var dir = new TempDirectory();
        var repoPath = dir.Combine("repo");
        await (await TestRepository.InitAsync(repoPath)).DisposeAsync();
        var env = new Dictionary<string, string> { ["RESTIC_REPOSITORY"] = repoPath, ["RESTIC_PASSWORD"] = TestRepository.Password };
        var newPassword = dir.Combine("new-password");
        File.WriteAllText(newPassword, "from a file\n");

        var add = await CliRunner.RunAsync(env, "key", "add", "--new-password-file", newPassword);
        Assert.True(add.ExitCode == 0, add.StandardError);
        var list = await CliRunner.RunAsync(env, "key", "list", "--json");
        Assert.Equal(2, System.Text.Json.JsonDocument.Parse(list.StandardOutput).RootElement.GetArrayLength());
        Assert.Equal(0, (await new ResticCli(repoPath, "from a file").RunAsync("check")).ExitCode);

        var unlock = await CliRunner.RunAsync(env, "unlock");
        Assert.Equal(0, unlock.ExitCode);
        Assert.Contains("no stale locks", unlock.StandardOutput, StringComparison.Ordinal);
    }
}
