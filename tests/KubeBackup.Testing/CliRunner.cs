using System.Diagnostics;

namespace KubeBackup.Testing;

/// <summary>
/// Runs the kubebackup console host as a separate process, with the given environment: repositories and secrets travel
/// there, never on the command line. By default that is the JIT-compiled assembly built next to the tests (same
/// configuration); with <c>KUBEBACKUP_CLI</c> set to an executable (the native build that tests/run.sh publishes) the
/// same tests run against that instead.
/// </summary>
public static class CliRunner
{
    /// <summary>The environment variable naming a kubebackup executable to test instead of the built assembly.</summary>
    public const string ExecutableVariable = "KUBEBACKUP_CLI";

    private static readonly string? Executable = Environment.GetEnvironmentVariable(ExecutableVariable) is { Length: > 0 } exe
        ? (File.Exists(exe) ? Path.GetFullPath(exe) : throw new FileNotFoundException($"{ExecutableVariable} names no file.", exe))
        : null;

    private static readonly Lazy<string> Dll = new(FindDll);

    // Variables a developer's shell may carry that would change what a test means.
    private static readonly string[] Inherited = ["RESTIC_", "AWS_", "AZURE_", "GOOGLE_", "STORAGE_EMULATOR_HOST"];

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

    private static ProcessStartInfo StartInfo(IReadOnlyDictionary<string, string> environment, IEnumerable<string> args, bool redirectInput = false)
    {
        var psi = new ProcessStartInfo(Executable ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
        };
        if (Executable is null)
        {
            psi.ArgumentList.Add(Dll.Value);
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var key in psi.Environment.Keys.Where(k => Inherited.Any(p => k.StartsWith(p, StringComparison.Ordinal))).ToList())
        {
            psi.Environment.Remove(key);
        }

        foreach (var (k, v) in environment)
        {
            psi.Environment[k] = v;
        }

        return psi;
    }

    public static Task<ProcessResult> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        RunWithInputAsync(environment, stdin: null, args);

    /// <summary>Runs the host to its end; <paramref name="stdin"/>, when given, is copied to its standard input.</summary>
    public static async Task<ProcessResult> RunWithInputAsync(IReadOnlyDictionary<string, string> environment, Stream? stdin, params string[] args)
    {
        using var process = Process.Start(StartInfo(environment, args, redirectInput: stdin is not null))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await stdin.CopyToAsync(process.StandardInput.BaseStream);
            process.StandardInput.Close();
        }

        await process.WaitForExitAsync();
        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts the host without waiting (output discarded), for tests that kill it.</summary>
    public static Process Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var process = Process.Start(StartInfo(environment, args))!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Runs the host and returns its standard output as bytes (for <c>dump</c>).</summary>
    /// <exception cref="InvalidOperationException">The host exited with an error.</exception>
    public static async Task<byte[]> RunForBytesAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        using var process = Process.Start(StartInfo(environment, args))!;
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
