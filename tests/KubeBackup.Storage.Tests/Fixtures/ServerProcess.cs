using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace KubeBackup.Storage.Tests.Fixtures;

/// <summary>
/// One storage server process the tests start themselves: its own port, data folder and TMPDIR, a PID file, output
/// in a log file, readiness polled as the server's documentation says, stopped by its PID (never by name).
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly string _name;
    private readonly string _executable;
    private readonly IReadOnlyList<string> _arguments;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly Func<CancellationToken, Task<bool>> _isReady;
    private Process? _process;

    public ServerProcess(string name, string directory, string executable, IReadOnlyList<string> arguments,
        IReadOnlyDictionary<string, string> environment, Func<CancellationToken, Task<bool>> isReady)
    {
        _name = name;
        Directory = directory;
        _executable = executable;
        _arguments = arguments;
        _environment = environment;
        _isReady = isReady;
        System.IO.Directory.CreateDirectory(directory);
    }

    public string Directory { get; }

    public string PidFile => Path.Combine(Directory, _name + ".pid");

    public string LogFile => Path.Combine(Directory, _name + ".log");

    public int? Pid => _process is { HasExited: false } p ? p.Id : null;

    public async Task StartAsync()
    {
        var psi = new ProcessStartInfo(_executable)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = Directory,
        };
        foreach (var a in _arguments)
        {
            psi.ArgumentList.Add(a);
        }

        var tmp = Path.Combine(Directory, "tmp");
        System.IO.Directory.CreateDirectory(tmp);
        psi.Environment["TMPDIR"] = tmp;
        foreach (var (k, v) in _environment)
        {
            psi.Environment[k] = v;
        }

        var log = new StreamWriter(LogFile, append: true) { AutoFlush = true };
        _process = Process.Start(psi) ?? throw new InvalidOperationException($"{_name} did not start");
        _process.OutputDataReceived += (_, e) => WriteLog(log, e.Data);
        _process.ErrorDataReceived += (_, e) => WriteLog(log, e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        File.WriteAllText(PidFile, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{_name} exited with {_process.ExitCode} before it was ready:\n{ReadLog()}");
            }

            try
            {
                if (await _isReady(timeout.Token))
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or SocketException or IOException or TaskCanceledException && !timeout.IsCancellationRequested)
            {
            }

            if (timeout.IsCancellationRequested)
            {
                await StopAsync();
                throw new TimeoutException($"{_name} was not ready within 90 s:\n{ReadLog()}");
            }

            await Task.Delay(100);
        }
    }

    private static void WriteLog(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.WriteLine(line);
        }
    }

    private string ReadLog()
    {
        try
        {
            using var fs = new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(fs);
            return reader.ReadToEnd();
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    /// <summary>Stops the server: SIGTERM (so it can flush what it holds), SIGKILL if it lingers.</summary>
    public async Task StopAsync()
    {
        if (_process is not { } process)
        {
            return;
        }

        if (!process.HasExited)
        {
            _ = Kill(process.Id, SigCont);
            _ = Kill(process.Id, SigTerm);
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }

        process.Dispose();
        _process = null;
        File.Delete(PidFile);
    }

    /// <summary>Freezes the server (SIGSTOP): it keeps its data and its port but answers nothing.</summary>
    public void Pause() => Signal(SigStop);

    /// <summary>Lets a paused server run again (SIGCONT).</summary>
    public void Resume() => Signal(SigCont);

    private void Signal(int signal)
    {
        if (_process is not { HasExited: false } process || Kill(process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"{_name} is not running");
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private const int SigTerm = 15;
    private const int SigStop = 19;
    private const int SigCont = 18;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>A TCP port nothing listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task<bool> HttpAnswersAsync(string url, CancellationToken cancellationToken, bool requireSuccess = true)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        using var response = await http.GetAsync(url, cancellationToken);
        return !requireSuccess || response.IsSuccessStatusCode;
    }

    public static async Task<bool> TcpAcceptsAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
        return true;
    }

    /// <summary>The folder holding package.json and node_modules of the npm-installed servers.</summary>
    public static string ServersFolder { get; } = FindServersFolder();

    private static string FindServersFolder()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "tests", "KubeBackup.Storage.Tests", "servers");
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                if (!System.IO.Directory.Exists(Path.Combine(candidate, "node_modules")))
                {
                    throw new InvalidOperationException($"The test servers are not installed: run 'npm ci' in {candidate} (tests/run.sh does).");
                }

                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tests/KubeBackup.Storage.Tests/servers was not found above " + AppContext.BaseDirectory);
    }
}
