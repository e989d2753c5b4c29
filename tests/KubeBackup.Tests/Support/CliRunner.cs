using System.Diagnostics;

namespace KubeBackup.Tests.Support;

/// <summary>Runs the kubebackup console host (built next to the tests) as a separate process.</summary>
public static class CliRunner
{
    /// <summary>The console host's build output, found from the test's own (same configuration, same framework).</summary>
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

    public static async Task<ProcessResult> RunAsync(IReadOnlyDictionary<string, string> environment, Stream? stdin, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var key in new[] { "RESTIC_PASSWORD", "RESTIC_PASSWORD_FILE", "RESTIC_PASSWORD_COMMAND", "RESTIC_REPOSITORY", "RESTIC_REPOSITORY_FILE" })
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
        if (stdin is not null)
        {
            await stdin.CopyToAsync(process.StandardInput.BaseStream);
        }

        process.StandardInput.Close();
        await process.WaitForExitAsync();
        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts the console host without waiting (output discarded), for tests that kill it.</summary>
    public static Process Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in environment)
        {
            psi.Environment[k] = v;
        }

        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public static async Task<byte[]> RunForBytesAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in environment)
        {
            psi.Environment[k] = v;
        }

        using var process = Process.Start(psi)!;
        using var ms = new MemoryStream();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.BaseStream.CopyToAsync(ms);
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"kubebackup {string.Join(' ', args)} exited with {process.ExitCode}: {await stderr}");
        }

        return ms.ToArray();
    }
}
