using System.Text.Json;
using KubeBackup.Restic.Model;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Restic.Checker;

/// <summary><c>kubebackup check</c> on a damaged repository: restic's messages and exit code, plus the damaged paths.</summary>
public class CheckCliTests
{
    [Fact]
    public async Task Damage_exits_1_with_restics_fatal_line_and_names_the_damaged_file()
    {
        using var lab = await CheckerLab.CreateAsync(backups: 1);
        var (snapshot, source, _) = lab.Backups[0];
        var blob = (await lab.ContentAsync(snapshot, source + "/big.bin"))[0];
        var (pack, offset, _) = await lab.LocateAsync(blob, BlobType.Data);
        CheckerLab.FlipByte(lab.PackPath(pack), offset + 7);
        var env = new Dictionary<string, string> { ["RESTIC_REPOSITORY"] = lab.RepoPath, ["RESTIC_PASSWORD"] = TestRepository.Password };

        var structural = await CliRunner.RunAsync(env, "check");
        var text = await CliRunner.RunAsync(env, "check", "--read-data");
        var json = await CliRunner.RunAsync(env, "--json", "check", "--read-data");
        var conflicting = await CliRunner.RunAsync(env, "check", "--read-data", "--read-data-subset", "1/2");
        var invalid = await CliRunner.RunAsync(env, "check", "--read-data-subset", "3/2");

        Assert.Equal(0, structural.ExitCode);
        Assert.Contains("no errors were found", structural.StandardOutput, StringComparison.Ordinal);

        Assert.Equal(1, text.ExitCode);
        Assert.Contains($"Pack ID does not match, want {pack}", text.StandardError, StringComparison.Ordinal);
        Assert.Contains($"data blob {blob}", text.StandardError, StringComparison.Ordinal);
        Assert.Contains($"snapshot {snapshot.Id.ToShortString()}:", text.StandardError, StringComparison.Ordinal);
        Assert.Contains(source + "/big.bin", text.StandardError, StringComparison.Ordinal);
        Assert.Contains("Fatal: repository contains errors", text.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("no errors were found", text.StandardOutput, StringComparison.Ordinal);

        Assert.Equal(1, json.ExitCode);
        var root = JsonDocument.Parse(json.StandardOutput).RootElement;
        Assert.False(root.GetProperty("clean").GetBoolean());
        var damaged = root.GetProperty("errors").EnumerateArray().Single(e => e.GetProperty("kind").GetString() == "BlobDamaged");
        Assert.Equal(pack.ToString(), damaged.GetProperty("pack").GetString());
        Assert.Equal(CheckerLab.PackFileName(pack), damaged.GetProperty("file").GetString());
        Assert.Equal(blob.ToString(), damaged.GetProperty("blobs")[0].GetString());
        var affected = damaged.GetProperty("affected")[0];
        Assert.Equal(snapshot.Id.ToString(), affected.GetProperty("snapshot").GetString());
        Assert.Equal(source + "/big.bin", affected.GetProperty("path").GetString());
        Assert.Equal(snapshot.Id.ToString(), root.GetProperty("affected_snapshots")[0].GetString());

        Assert.Equal(1, conflicting.ExitCode);
        Assert.Contains("cannot be used together", conflicting.StandardError, StringComparison.Ordinal);
        Assert.Equal(1, invalid.ExitCode);
        Assert.Contains("--read-data-subset", invalid.StandardError, StringComparison.Ordinal);
    }
}
