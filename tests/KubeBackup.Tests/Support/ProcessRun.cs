using System.Diagnostics;

namespace KubeBackup.Tests.Support;

/// <summary>Runs a program to its end with its arguments passed as a list (no shell), capturing what it prints.</summary>
internal static class ProcessRun
{
    /// <summary>The exit code and standard output followed by standard error.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }

    /// <summary>As <see cref="RunAsync"/>, throwing with the output when the program fails.</summary>
    public static async Task RunCheckedAsync(string program, params string[] arguments)
    {
        var (exitCode, output) = await RunAsync(program, arguments);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {exitCode}: {output}");
        }
    }
}
