using KubeBackup.Restic.Archiver;
using KubeBackup.Restic.Repository;
using KubeBackup.Restic.Restorer;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Restic.Copy;

public class CopyTests
{
    [Fact]
    public async Task Copy_to_a_repository_with_another_password_restores_identically_and_a_second_copy_is_skipped()
    {
        using var dir = new TempDirectory();
        var source = dir.Combine("src");
        SimpleTree.Create(source, bigFileBytes: 9 * 1024 * 1024);
        var expected = SimpleTree.Describe(source);
        await using var from = await TestRepository.InitAsync(dir.Combine("from"));
        var options = new BackupOptions();
        options.Paths.Add(source);
        options.Tags.Add("copied");
        var original = (await from.BackupAsync(options)).Snapshot;
        var toPath = dir.Combine("to");
        await using var to = await ResticRepository.InitAsync(new KubeBackup.Storage.Local.LocalBackend(toPath), "another password",
            new RepositoryInitOptions { Version = 1, KeyDerivation = TestRepository.FastKdf }, TestRepository.Options());

        var result = await from.CopyToAsync(to, await from.ListSnapshotsAsync());

        var copiedId = Assert.Single(result.Copied).Value;
        var copy = await to.LoadSnapshotAsync(copiedId);
        Assert.Equal(original.Id, copy.Original);
        Assert.Equal(original.Tree, copy.Tree);
        Assert.Equal(["copied"], copy.Tags);
        await to.RestoreAsync(copy, new RestoreOptions { Target = dir.Combine("out") });
        Assert.Equal(expected, SimpleTree.Describe(dir.Combine("out") + source));
        var check = await new ResticCli(toPath, "another password").RunAsync("check", "--read-data");
        Assert.True(check.ExitCode == 0, check.StandardOutput + check.StandardError);

        var again = await from.CopyToAsync(to, await from.ListSnapshotsAsync());
        Assert.Empty(again.Copied);
        Assert.Equal([original.Id], again.Skipped);
    }

    [Fact]
    public async Task With_copied_chunker_parameters_a_copy_of_data_the_destination_has_transfers_no_data()
    {
        using var dir = new TempDirectory();
        var source = dir.Combine("src");
        SimpleTree.Create(source, bigFileBytes: 12 * 1024 * 1024);
        var fromPath = dir.Combine("from");
        var toPath = dir.Combine("to");
        var env = new Dictionary<string, string>
        {
            ["RESTIC_REPOSITORY"] = toPath,
            ["RESTIC_PASSWORD"] = TestRepository.Password,
            ["RESTIC_FROM_PASSWORD"] = TestRepository.Password,
        };
        await using (var from = await TestRepository.InitAsync(fromPath))
        {
            var options = new BackupOptions();
            options.Paths.Add(source);
            await from.BackupAsync(options);
        }

        var init = await CliRunner.RunAsync(env, "init", "--copy-chunker-params", "--from-repo", fromPath);
        Assert.True(init.ExitCode == 0, init.StandardError);
        await using (var to = await TestRepository.OpenAsync(toPath))
        await using (var from = await TestRepository.OpenAsync(fromPath))
        {
            Assert.Equal(from.Config.ChunkerPolynomial, to.Config.ChunkerPolynomial);
            var options = new BackupOptions();
            options.Paths.Add(source);
            await to.BackupAsync(options);
        }

        var copy = await CliRunner.RunAsync(env, "copy", "--from-repo", fromPath);

        Assert.True(copy.ExitCode == 0, copy.StandardError);
        Assert.Contains("copied as", copy.StandardOutput, StringComparison.Ordinal);
        // Same polynomial, same chunks: no data blob is new; at most the trees above the source differ.
        var line = copy.StandardOutput.Split('\n').Single(l => l.StartsWith("copied ", StringComparison.Ordinal));
        await using var check = await TestRepository.OpenAsync(toPath);
        await check.LoadIndexAsync();
        Assert.Equal(2, (await check.ListSnapshotsAsync()).Count);
        Assert.True(long.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) <= 10, line);
    }
}
