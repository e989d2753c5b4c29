using System.Diagnostics;
using System.Text;

namespace KubeBackup.Tests.Support;

/// <summary>
/// Runs the real restic binary (Debian's restic 0.14, installed by the test command) against a repository, with the
/// password in the environment (never on the command line) and its cache in a private folder.
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

    /// <summary>Extra environment variables for every run.</summary>
    public Dictionary<string, string> Environment { get; } = new();

    public static string Executable => ResticPath
        ?? throw new InvalidOperationException("The real restic is needed for this test: install it with 'apt-get install -y restic' (the README's test command does).");

    public Task<ProcessResult> RunAsync(params string[] args) => RunAsync(args, stdin: null, workingDirectory: null);

    public async Task<ProcessResult> RunAsync(IEnumerable<string> args, Stream? stdin, string? workingDirectory, CancellationToken cancellationToken = default)
    {
        var psi = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? System.IO.Path.GetTempPath(),
        };
        psi.ArgumentList.Add("--no-cache");
        psi.ArgumentList.Add("-r");
        psi.ArgumentList.Add(Repository);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["RESTIC_PASSWORD"] = Password;
        psi.Environment.Remove("RESTIC_REPOSITORY");
        psi.Environment.Remove("RESTIC_PASSWORD_FILE");
        psi.Environment["RESTIC_CACHE_DIR"] = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "kb-restic-cache");
        foreach (var (k, v) in Environment)
        {
            psi.Environment[k] = v;
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("restic did not start");
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
    public async Task<string> RunCheckedAsync(params string[] args)
    {
        var result = await RunAsync(args);
        result.EnsureSuccess("restic " + string.Join(' ', args));
        return result.StandardOutput;
    }

    /// <summary>Runs restic and returns stdout as raw bytes (for <c>cat blob</c>, <c>dump</c>).</summary>
    public async Task<byte[]> RunForBytesAsync(params string[] args)
    {
        var psi = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "--no-cache", "-r", Repository }.Concat(args))
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["RESTIC_PASSWORD"] = Password;
        psi.Environment.Remove("RESTIC_PASSWORD_FILE");
        using var process = Process.Start(psi)!;
        using var ms = new MemoryStream();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.BaseStream.CopyToAsync(ms);
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"restic {string.Join(' ', args)} exited with {process.ExitCode}: {await stderr}");
        }

        return ms.ToArray();
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
