using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using KubeBackup.Platform;

namespace KubeBackup.Hooks;

/// <summary>Starting commands the way hooks and functions do: argv without a shell, standard input never inherited.</summary>
internal static class ChildProcess
{
    public const int SigInt = 2;
    public const int SigTerm = 15;

    /// <summary>Starts a command. Standard input is always redirected, so a command never reads the host's terminal.</summary>
    /// <exception cref="Win32Exception">The command cannot be started (not found, not executable).</exception>
    public static Process Start(IReadOnlyList<string> argv, IReadOnlyDictionary<string, string>? environment, string? workingDirectory,
        bool redirectOutput = true)
    {
        var psi = new ProcessStartInfo(argv[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = redirectOutput,
            RedirectStandardError = true,
            StandardOutputEncoding = redirectOutput ? Encoding.UTF8 : null,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in argv.Skip(1))
        {
            psi.ArgumentList.Add(arg);
        }

        if (environment is not null)
        {
            foreach (var (k, v) in environment)
            {
                psi.Environment[k] = v;
            }
        }

        if (!string.IsNullOrEmpty(workingDirectory))
        {
            psi.WorkingDirectory = workingDirectory;
        }

        return Process.Start(psi) ?? throw new Win32Exception($"{argv[0]} did not start");
    }

    /// <summary>Whether the process has ended, including the moment between its exit and the runtime noticing it: the
    /// runtime learns of a child's exit from SIGCHLD on a thread of its own, which on a busy machine can lag, so
    /// <see cref="Process.HasExited"/> alone may still say false for a process that is already a zombie.</summary>
    public static bool HasEnded(Process process)
    {
        if (process.HasExited)
        {
            return true;
        }

        try
        {
            // Linux: the state letter follows the parenthesised command name; Z is exited and not yet reaped. The PID
            // cannot be reused before the runtime reaps it, so this is still our child.
            var stat = File.ReadAllText($"/proc/{process.Id}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentOutOfRangeException)
        {
            return process.HasExited;
        }
    }

    /// <summary>Sends a signal; false if the process is gone.</summary>
    public static bool Signal(Process process, int signal)
    {
        try
        {
            return !process.HasExited && LibC.Kill(process.Id, signal) == 0;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Kills the process and its children, ignoring a process that is already gone.</summary>
    public static void KillTree(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
        }
        catch (Win32Exception)
        {
        }
    }

    /// <summary>Whether an exit code says a signal ended the process (.NET reports 128 + the signal number, as shells do).</summary>
    public static bool IsSignalExit(int exitCode) => exitCode is > 128 and <= 128 + 64;
}

/// <summary>The last few KiB of a command's output, line by line from several streams; thread-safe.</summary>
internal sealed class OutputTail
{
    private readonly int _limit;
    private readonly LinkedList<string> _lines = new();
    private int _length;

    public OutputTail(int limit = 4096) => _limit = limit;

    public void Add(string line)
    {
        lock (_lines)
        {
            _lines.AddLast(line);
            _length += line.Length + 1;
            while (_length > _limit && _lines.Count > 1)
            {
                _length -= _lines.First!.Value.Length + 1;
                _lines.RemoveFirst();
            }
        }
    }

    /// <summary>Reads a stream line by line into the tail until it ends.</summary>
    public async Task PumpAsync(StreamReader reader, Action<string>? onLine = null)
    {
        try
        {
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                Add(line);
                onLine?.Invoke(line);
            }
        }
        catch (IOException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public override string ToString()
    {
        lock (_lines)
        {
            string text = string.Join('\n', _lines);
            return text.Length > _limit ? text[^_limit..] : text;
        }
    }
}
