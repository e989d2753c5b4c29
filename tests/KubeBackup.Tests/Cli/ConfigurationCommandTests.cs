using System.Diagnostics;
using System.Text.Json;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Cli;

/// <summary><c>kubebackup run</c> and <c>kubebackup schedule</c> with a configuration file.</summary>
public sealed class ConfigurationCommandTests
{
    private static readonly Dictionary<string, string> NoEnvironment = [];

    [Fact]
    public async Task Run_backs_up_once_and_exit_code_follows_the_phase()
    {
        using var kit = await SessionKit.CreateAsync();
        SimpleTree.Create(kit.Dir.Combine("src"), bigFileBytes: 50_000, smallFiles: 2);
        string good = kit.Dir.Combine("good.yaml"), bad = kit.Dir.Combine("bad.yaml");
        const string Body = """
            repository: { location: "{REPO}", password: { file: "{PWFILE}" } }
            targets:
              - { name: app, paths: ["{DIR}/src"] }
            """;
        File.WriteAllText(good, Fill(kit, "name: good\n" + Body));
        File.WriteAllText(bad, Fill(kit, "name: bad\n" + Body + """

            hooks:
              preBackup:
                - { name: freeze, command: [sh, -c, "echo cannot freeze >&2; exit 5"] }
            """));

        var ok = await CliRunner.RunAsync(NoEnvironment, "run", good, "--json");
        Assert.True(ok.ExitCode == 0, ok.StandardOutput + ok.StandardError);
        using (var doc = JsonDocument.Parse(ok.StandardOutput))
        {
            Assert.Equal("Succeeded", doc.RootElement.GetProperty("phase").GetString());
            Assert.Single(doc.RootElement.GetProperty("targets")[0].GetProperty("snapshots").EnumerateArray());
        }

        var failed = await CliRunner.RunAsync(NoEnvironment, "run", bad);
        Assert.Equal(1, failed.ExitCode);
        Assert.Contains("hook freeze failed with exit code 5", failed.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("| cannot freeze", failed.StandardOutput, StringComparison.Ordinal);
        Assert.Single(await kit.SnapshotsAsync());

        var invalid = kit.Dir.Combine("invalid.yaml");
        File.WriteAllText(invalid, Fill(kit, "name: x\nkeepLast: 3\n" + Body));
        var rejected = await CliRunner.RunAsync(NoEnvironment, "run", invalid);
        Assert.Equal(1, rejected.ExitCode);
        Assert.Contains("keepLast", rejected.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Schedule_runs_on_the_schedule_and_stops_cleanly_on_SIGTERM()
    {
        using var kit = await SessionKit.CreateAsync();
        SimpleTree.Create(kit.Dir.Combine("src"), bigFileBytes: 10_000, smallFiles: 2);
        string config = kit.Dir.Combine("every-second.yaml");
        File.WriteAllText(config, Fill(kit, """
            name: ticker
            schedule: "* * * * * *"
            repository: { location: "{REPO}", password: { file: "{PWFILE}" } }
            targets:
              - { name: app, paths: ["{DIR}/src"] }
            """));

        using var process = StartCli("schedule", config);
        var lines = new List<string>();
        var sawSession = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (lines)
            {
                lines.Add(e.Data);
            }

            if (e.Data.Contains("backup session", StringComparison.Ordinal) && e.Data.Contains("Succeeded", StringComparison.Ordinal))
            {
                sawSession.TrySetResult();
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await sawSession.Task.WaitAsync(TimeSpan.FromSeconds(60));

        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, process.ExitCode);
        lock (lines)
        {
            Assert.Contains(lines, l => l.StartsWith("scheduled ticker: * * * * * *, next run at", StringComparison.Ordinal));
            Assert.Contains("stopping", lines);
        }

        Assert.NotEmpty(await kit.SnapshotsAsync());
        Assert.Equal(0, kit.FileCount("locks"));
    }

    private static string Fill(SessionKit kit, string yaml) =>
        yaml.Replace("{REPO}", kit.RepositoryPath, StringComparison.Ordinal).Replace("{PWFILE}", kit.PasswordFile, StringComparison.Ordinal)
            .Replace("{DIR}", kit.Dir.Path, StringComparison.Ordinal);

    private static Process StartCli(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory.Replace("tests/KubeBackup.Tests", "samples/KubeBackup.Cli", StringComparison.Ordinal), "KubeBackup.Cli.dll");
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        return Process.Start(psi)!;
    }
}
