using KubeBackup.Sessions;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Functions;

/// <summary>The <c>check</c> function runs the engine's checker: a sound repository passes, a damaged one fails the step.</summary>
public sealed class CheckFunctionTests
{
    private const string Yaml = """
        name: checked
        repository: { location: "{REPO}", password: { file: "{PWFILE}" } }
        targets:
          - name: app
            paths: ["{DIR}/src"]
            task: backup-and-check
        tasks:
          backup-and-check:
            steps:
              - function: file-backup
              - function: check
                params: { readData: true }
        """;

    [Fact]
    public async Task Check_step_passes_on_a_sound_repository_and_fails_on_a_damaged_one()
    {
        using var kit = await SessionKit.CreateAsync();
        SimpleTree.Create(kit.Dir.Combine("src"), bigFileBytes: 2 * 1024 * 1024, smallFiles: 5);

        var good = await kit.Runner.RunBackupAsync(kit.Load(Yaml));
        Assert.Equal(SessionPhase.Succeeded, good.Phase);

        // Damage one data pack (flip a byte in the middle); the next session's check must catch it.
        var pack = Directory.GetFiles(Path.Combine(kit.RepositoryPath, "data"), "*", SearchOption.AllDirectories).OrderByDescending(f => new FileInfo(f).Length).First();
        var bytes = File.ReadAllBytes(pack);
        bytes[bytes.Length / 2] ^= 0x40;
        File.SetUnixFileMode(pack, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllBytes(pack, bytes);

        var bad = await kit.Runner.RunBackupAsync(kit.Load(Yaml));

        Assert.NotEqual(SessionPhase.Succeeded, bad.Phase);
        var target = Assert.Single(bad.Targets);
        Assert.Contains(target.Failures, f => f.Contains("errors", StringComparison.Ordinal) && f.Contains(Path.GetFileName(pack)[..8], StringComparison.Ordinal));
    }
}
