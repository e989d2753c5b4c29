using System.Diagnostics;

namespace KubeBackup.Testing;

/// <summary>Runs the kubebackup console host (built next to the tests, same configuration) as a separate process, with
/// the given environment: repositories and secrets travel there, never on the command line.</summary>
public static class CliRunner
{
    private static string Dll { get; } = FindDll();

    private static string FindDll()
    {
        var baseDir = new DirectoryInfo(AppContext.BaseDirectory);
        string framework = baseDir.Name;
        string configuration = baseDir.Parent!.Name;
        for (var d = baseDir; d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "KubeBackup.sln")))
            {
                var dll = Path.Combine(d.FullName, "samples", "KubeBackup.Cli", "bin", configuration, framework, "KubeBackup.Cli.dll");
                return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the console host first (dotnet build KubeBackup.sln).", dll);
            }
        }

        throw new DirectoryNotFoundException("The repository root (KubeBackup.sln) was not found above " + baseDir.FullName);
    }

    public static async Task<ProcessResult> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("RESTIC_", StringComparison.Ordinal) || k.StartsWith("AWS_", StringComparison.Ordinal)).ToList())
        {
            psi.Environment.Remove(key);
        }

        foreach (var (k, v) in environment)
        {
            psi.Environment[k] = v;
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }
}
