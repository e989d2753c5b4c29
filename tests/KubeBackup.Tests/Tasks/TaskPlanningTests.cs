using KubeBackup.Configuration;
using KubeBackup.Sessions;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Tasks;

/// <summary>Tasks are planned (variables, functions, parameters, stage order) before anything runs.</summary>
public sealed class TaskPlanningTests
{
    [Theory]
    [InlineData("- function: no-such-function", "unknown function 'no-such-function'")]
    [InlineData("- { function: stream-backup, params: { command: [\"true\"], filename: x } }", "unknown parameter 'filename'")]
    [InlineData("- { function: stream-backup, params: { command: \"pg_dumpall -U postgres\" } }", "must be a list")]
    [InlineData("- { function: stream-backup }", "parameter 'command' is required")]
    [InlineData("- function: update-status\n      - function: file-backup", "data steps come first")]
    public async Task A_bad_task_fails_the_target_before_anything_is_written(string steps, string expected)
    {
        using var kit = await SessionKit.CreateAsync();
        var configuration = kit.Load($$"""
            name: plan
            repository: { location: "{REPO}", password: { file: "{PWFILE}" } }
            hooks:
              preBackup:
                - { name: marker, command: [touch, "{DIR}/hook-ran"] }
            targets:
              - { name: t, paths: ["{DIR}"], task: bad }
            tasks:
              bad:
                steps:
                  {{steps}}
            """);

        var session = await kit.Runner.RunBackupAsync(configuration);

        // An unknown function fails the whole session up front; the others fail the target when it is planned.
        Assert.Equal(SessionPhase.Failed, session.Phase);
        string reasons = session.Reason + " " + string.Join(" ", session.Targets.SelectMany(t => t.Failures));
        Assert.Contains(expected, reasons, StringComparison.Ordinal);
        Assert.All(session.Targets, t => Assert.Empty(t.Hooks));
        Assert.False(File.Exists(kit.Dir.Combine("hook-ran")));
        Assert.Equal(0, kit.FileCount("snapshots"));
        Assert.Equal(0, kit.FileCount("data"));
    }

    [Fact]
    public void Variables_resolve_escape_and_refuse_unknown_names()
    {
        var vars = new Dictionary<string, string> { ["A"] = "1", ["B_2"] = "two" };
        Assert.Equal("1-two-$A-${A}-$HOME", KubeBackup.Tasks.VariableResolver.Resolve("${A}-${B_2}-$A-$${A}-$HOME", vars, "here"));
        var ex = Assert.Throws<ConfigurationException>(() => KubeBackup.Tasks.VariableResolver.Resolve("${MISSING}", vars, "step 1"));
        Assert.Contains("step 1: unknown variable ${MISSING}", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ConfigurationException>(() => KubeBackup.Tasks.VariableResolver.Resolve("${A", vars, "x"));
    }
}
