using System.Diagnostics;

namespace KubeBackup.Testing;

/// <summary>The result of running a process.</summary>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    public ProcessResult EnsureSuccess(string what)
    {
        if (ExitCode != 0)
        {
            throw new InvalidOperationException($"{what} exited with {ExitCode}.\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}");
        }

        return this;
    }
}

/// <summary>
/// Runs the real restic (Debian's 0.14, installed by the test command) against a repository. The repository location
/// and the password travel in the environment (RESTIC_REPOSITORY, RESTIC_PASSWORD), never on the command line: a
/// location may carry credentials (rest:https://user:pass@…). The cache is off.
/// </summary>
public sealed class ResticCli
{
    private static readonly string? ResticPath = FindRestic();

    public ResticCli(string repository, string password)
    {
        Repository = repository;
        Password = password;
    }

    public string Repository { get; }

    public string Password { get; }

    /// <summary>Options put before every command (for example <c>--cacert FILE</c>).</summary>
    public List<string> GlobalArguments { get; } = new();

    /// <summary>Extra environment variables for every run (credentials of the backend, for example).</summary>
    public Dictionary<string, string> Environment { get; } = new();

    /// <summary>The restic executable on PATH; a test that needs it fails with how to install it.</summary>
    public static string Executable => ResticPath
        ?? throw new InvalidOperationException("The real restic is needed for this test: install it with 'apt-get install -y restic' (the README's test command does).");

    public Task<ProcessResult> RunAsync(params string[] args) => RunAsync(args, stdin: null, workingDirectory: null);

    /// <summary>Runs restic with <paramref name="stdin"/> as its input (if any) in <paramref name="workingDirectory"/>
    /// (default: the temp folder).</summary>
    public async Task<ProcessResult> RunAsync(IEnumerable<string> args, Stream? stdin, string? workingDirectory, CancellationToken cancellationToken = default)
    {
        using var process = Start(args, stdin is not null, workingDirectory);
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        if (stdin is not null)
        {
            await stdin.CopyToAsync(process.StandardInput.BaseStream, cancellationToken);
            process.StandardInput.Close();
        }

        await process.WaitForExitAsync(cancellationToken);
        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs restic and returns stdout, failing the test with restic's output if it exits non-zero.</summary>
    public async Task<string> RunCheckedAsync(params string[] args) =>
        (await RunAsync(args)).EnsureSuccess("restic " + string.Join(' ', args)).StandardOutput;

    /// <summary>Runs restic and returns stdout as raw bytes (for <c>cat blob</c>, <c>dump</c>), failing if it exits
    /// non-zero.</summary>
    public async Task<byte[]> RunForBytesAsync(params string[] args)
    {
        using var process = Start(args, redirectInput: false, workingDirectory: null);
        using var output = new MemoryStream();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.BaseStream.CopyToAsync(output);
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"restic {string.Join(' ', args)} exited with {process.ExitCode}: {await stderr}");
        }

        return output.ToArray();
    }

    private Process Start(IEnumerable<string> args, bool redirectInput, string? workingDirectory)
    {
        var psi = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? System.IO.Path.GetTempPath(),
        };
        psi.ArgumentList.Add("--no-cache");
        foreach (var a in GlobalArguments.Concat(args))
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["RESTIC_REPOSITORY"] = Repository;
        psi.Environment["RESTIC_PASSWORD"] = Password;
        psi.Environment.Remove("RESTIC_PASSWORD_FILE");
        psi.Environment.Remove("RESTIC_PASSWORD_COMMAND");
        psi.Environment.Remove("RESTIC_REPOSITORY_FILE");
        foreach (var (k, v) in Environment)
        {
            psi.Environment[k] = v;
        }

        return Process.Start(psi) ?? throw new InvalidOperationException("restic did not start");
    }

    private static string? FindRestic()
    {
        foreach (var dir in (System.Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':'))
        {
            var candidate = System.IO.Path.Combine(dir, "restic");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
