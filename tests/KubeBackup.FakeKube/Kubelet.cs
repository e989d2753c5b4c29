using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace KubeBackup.FakeKube;

/// <summary>What the kubelet does to a matching exec to simulate a failure.</summary>
public enum ExecFaultMode
{
    /// <summary>Kill the process (SIGKILL, exit code 137), as an OOM kill or a container restart does.</summary>
    Kill,

    /// <summary>Break the connection without a status, as a node or proxy failure does.</summary>
    DropConnection,
}

/// <summary>An exec the kubelet ran.</summary>
/// <param name="Namespace">The pod's namespace.</param>
/// <param name="Pod">The pod.</param>
/// <param name="Container">The container.</param>
/// <param name="Command">The argv as requested (before path mapping).</param>
/// <param name="Protocol">The negotiated sub-protocol.</param>
/// <param name="ExitCode">The exit code, or null if the process never started or the connection was dropped.</param>
/// <param name="StdinBytes">Bytes received on stdin.</param>
/// <param name="StdoutBytes">Bytes sent on stdout.</param>
public sealed record ExecRecord(string Namespace, string Pod, string Container, IReadOnlyList<string> Command, string Protocol, int? ExitCode,
    long StdinBytes, long StdoutBytes);

/// <summary>
/// The simulated kubelet: runs exec commands as local processes in a per-container sandbox folder with the container's
/// environment (values and Secret references resolved), and maps the container's volume mount paths to the volumes'
/// folders. There is no mount namespace, so mount paths are mapped where they appear in argv (as a whole argument, after
/// '=', or inside a shell script), which is enough for tar, pg_dump and shell one-liners.
/// </summary>
public sealed class Kubelet
{
    private readonly FakeKubeServer _server;
    private readonly ConcurrentDictionary<int, Process> _running = new();
    private readonly ConcurrentQueue<ExecRecord> _execs = new();
    private readonly object _faultGate = new();
    private readonly List<(Func<string, string, IReadOnlyList<string>, bool> Match, long AfterStdoutBytes, ExecFaultMode Mode)> _faults = [];

    internal Kubelet(FakeKubeServer server) => _server = server;

    /// <summary>Every exec so far.</summary>
    public IReadOnlyList<ExecRecord> Execs => _execs.ToArray();

    /// <summary>The next exec whose pod name and argv match fails after it has sent <paramref name="afterStdoutBytes"/> bytes of stdout.</summary>
    public void FailNextExec(Func<string, string, IReadOnlyList<string>, bool> match, long afterStdoutBytes, ExecFaultMode mode = ExecFaultMode.Kill)
    {
        lock (_faultGate)
        {
            _faults.Add((match, afterStdoutBytes, mode));
        }
    }

    /// <summary>The sandbox folder of a container: the working directory of its exec processes.</summary>
    public string SandboxOf(string ns, string pod, string container)
    {
        var path = Path.Combine(_server.DataDirectory, "pods", ns, pod, container);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>The folder holding a persistent volume's data.</summary>
    public string VolumeFolder(string pvName)
    {
        var path = Path.Combine(_server.DataDirectory, "volumes", pvName);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>The host folder of a container path, through the container's volume mounts; null if the path is on no volume.</summary>
    public string? HostPathOf(string ns, string pod, string container, string containerPath)
    {
        var podObj = _server.Store.Get(_server.Registry.Find("", "v1", "pods")!, ns, pod) ?? throw new ApiException(404, "NotFound", $"pods \"{pod}\" not found");
        foreach (var (mount, host) in MountsOf(podObj, container))
        {
            if (containerPath == mount || containerPath.StartsWith(mount.TrimEnd('/') + "/", StringComparison.Ordinal))
            {
                return host + containerPath[mount.TrimEnd('/').Length..];
            }
        }

        return null;
    }

    internal List<(string MountPath, string HostPath)> MountsOf(JsonObject pod, string containerName)
    {
        string ns = (string?)pod["metadata"]?["namespace"] ?? "default";
        string podName = (string?)pod["metadata"]?["name"] ?? "";
        var container = Containers(pod).FirstOrDefault(c => (string?)c["name"] == containerName);
        var volumes = pod["spec"]?["volumes"] as JsonArray ?? [];
        var result = new List<(string, string)>();
        foreach (var m in container?["volumeMounts"] as JsonArray ?? [])
        {
            string? volName = (string?)m?["name"];
            string? mountPath = (string?)m?["mountPath"];
            var vol = volumes.FirstOrDefault(v => (string?)v?["name"] == volName);
            if (vol is null || mountPath is null)
            {
                continue;
            }

            string? host = null;
            if ((string?)vol["persistentVolumeClaim"]?["claimName"] is { } claim)
            {
                var pvc = _server.Store.Get(_server.Registry.Find("", "v1", "persistentvolumeclaims")!, ns, claim);
                if ((string?)pvc?["spec"]?["volumeName"] is { Length: > 0 } pv)
                {
                    host = VolumeFolder(pv);
                }
            }
            else
            {
                // emptyDir and every other kind: a folder of the pod, shared by its containers.
                host = Path.Combine(_server.DataDirectory, "pods", ns, podName, "_volumes", volName!);
                Directory.CreateDirectory(host);
            }

            if (host is not null)
            {
                if ((string?)m!["subPath"] is { Length: > 0 } subPath)
                {
                    host = Path.Combine(host, subPath);
                    Directory.CreateDirectory(host);
                }

                result.Add((mountPath, host));
            }
        }

        // Longest mount path first, so nested mounts win.
        return result.OrderByDescending(r => r.Item1.Length).ToList();
    }

    private static IEnumerable<JsonObject> Containers(JsonObject pod) =>
        (pod["spec"]?["containers"] as JsonArray ?? []).OfType<JsonObject>();

    internal void KillAll()
    {
        foreach (var (_, p) in _running)
        {
            try
            {
                p.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    internal async Task HandleExecAsync(HttpContext ctx, string ns, string podName)
    {
        var q = ctx.Request.Query;
        var command = q["command"].Where(c => c is not null).Select(c => c!).ToList();
        if (command.Count == 0)
        {
            throw new ApiException(400, "BadRequest", "you must specify at least 1 command");
        }

        var pod = _server.Store.Get(_server.Registry.Find("", "v1", "pods")!, ns, podName) ?? throw new ApiException(404, "NotFound", $"pods \"{podName}\" not found");
        if ((string?)pod["status"]?["phase"] != "Running")
        {
            throw new ApiException(400, "BadRequest", $"unable to upgrade connection: pod {podName} is not running");
        }

        var containers = Containers(pod).ToList();
        string containerName = q["container"].FirstOrDefault() is { Length: > 0 } c ? c : (string?)containers.FirstOrDefault()?["name"] ?? "";
        var container = containers.FirstOrDefault(x => (string?)x["name"] == containerName)
            ?? throw new ApiException(400, "BadRequest", $"container {containerName} is not valid for pod {podName}");
        if (!ctx.WebSockets.IsWebSocketRequest)
        {
            throw new ApiException(400, "BadRequest", "exec needs a WebSocket upgrade");
        }

        var requested = ctx.WebSockets.WebSocketRequestedProtocols;
        // No sub-protocol at all is the original channel.k8s.io protocol; it frames like v4.
        string? protocol = requested.Count == 0 ? "" : _server.Options.ExecProtocols.FirstOrDefault(p => requested.Contains(p));
        if (protocol is null)
        {
            throw new ApiException(400, "BadRequest", $"none of the requested sub-protocols ({string.Join(", ", requested)}) is supported; supported: {string.Join(", ", _server.Options.ExecProtocols)}");
        }

        bool wantStdin = q["stdin"] == "1" || q["stdin"] == "true";
        bool wantStdout = q["stdout"] != "0" && q["stdout"] != "false";
        bool wantStderr = q["stderr"] != "0" && q["stderr"] != "false";
        var mounts = MountsOf(pod, containerName);
        string sandbox = SandboxOf(ns, podName, containerName);
        var argv = command.Select(a => MapPaths(a, mounts)).ToList();
        var env = ResolveEnv(ns, podName, container);

        (Func<string, string, IReadOnlyList<string>, bool> Match, long AfterStdoutBytes, ExecFaultMode Mode)? fault = null;
        lock (_faultGate)
        {
            int i = _faults.FindIndex(f => f.Match(podName, containerName, command));
            if (i >= 0)
            {
                fault = _faults[i];
                _faults.RemoveAt(i);
            }
        }

        using var ws = await ctx.WebSockets.AcceptWebSocketAsync(protocol.Length == 0 ? null : protocol).ConfigureAwait(false);
        var sendLock = new SemaphoreSlim(1, 1);
        long stdinBytes = 0, stdoutBytes = 0;
        int? exitCode = null;
        var psi = new ProcessStartInfo(argv[0])
        {
            WorkingDirectory = sandbox,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in argv.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment.Clear();
        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }

        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("the process did not start");
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            await SendAsync(ws, sendLock, 3, Encoding.UTF8.GetBytes(new JsonObject
            {
                ["metadata"] = new JsonObject(), ["status"] = "Failure", ["reason"] = "InternalError",
                ["message"] = $"failed to exec in container: exec: \"{command[0]}\": executable file not found in $PATH",
            }.ToJsonString())).ConfigureAwait(false);
            await CloseAsync(ws, null).ConfigureAwait(false);
            _execs.Enqueue(new ExecRecord(ns, podName, containerName, command, protocol, null, 0, 0));
            return;
        }

        _running[process.Id] = process;
        bool dropped = false, recorded = false;
        try
        {
            var stdin = process.StandardInput.BaseStream;
            bool stdinClosed = false;
            void CloseStdin()
            {
                if (!stdinClosed)
                {
                    stdinClosed = true;
                    try
                    {
                        stdin.Dispose();
                    }
                    catch (IOException)
                    {
                    }
                }
            }

            if (!wantStdin)
            {
                CloseStdin();
            }

            // The receive loop is never cancelled: cancelling a pending receive makes Kestrel reset the connection and
            // frames still queued would be lost. It ends when the client closes or the connection goes.
            var receive = Task.Run(async () =>
            {
                var buffer = new byte[64 * 1024];
                int channel = -1;
                try
                {
                    while (true)
                    {
                        var r = await ws.ReceiveAsync(buffer, CancellationToken.None).ConfigureAwait(false);
                        if (r.MessageType == WebSocketMessageType.Close)
                        {
                            break;
                        }

                        int offset = 0;
                        if (channel < 0)
                        {
                            if (r.Count == 0)
                            {
                                continue;
                            }

                            channel = buffer[0];
                            offset = 1;
                        }

                        var payload = buffer.AsMemory(offset, r.Count - offset);
                        if (channel == 0 && wantStdin && !stdinClosed)
                        {
                            try
                            {
                                await stdin.WriteAsync(payload).ConfigureAwait(false);
                                await stdin.FlushAsync().ConfigureAwait(false);
                                stdinBytes += payload.Length;
                            }
                            catch (IOException)
                            {
                                // The process stopped reading (exited); what is left of stdin goes nowhere, as in a container.
                                CloseStdin();
                            }
                        }
                        else if (channel == 255 && protocol.StartsWith("v5", StringComparison.Ordinal) && payload.Length > 0 && payload.Span[0] == 0)
                        {
                            CloseStdin();
                        }

                        if (r.EndOfMessage)
                        {
                            channel = -1;
                        }
                    }
                }
                catch (WebSocketException)
                {
                }
                catch (ObjectDisposedException)
                {
                }
                finally
                {
                    CloseStdin();
                }
            });

            using var dropCts = new CancellationTokenSource();
            async Task PumpAsync(Stream source, byte ch, bool forward, bool count)
            {
                var buffer = new byte[32 * 1024];
                while (true)
                {
                    int n = await source.ReadAsync(buffer).ConfigureAwait(false);
                    if (n == 0)
                    {
                        return;
                    }

                    if (count && fault is { } f)
                    {
                        long before = Interlocked.Read(ref stdoutBytes);
                        if (before + n >= f.AfterStdoutBytes)
                        {
                            n = (int)Math.Max(0, f.AfterStdoutBytes - before);
                            if (n > 0)
                            {
                                await SendAsync(ws, sendLock, ch, buffer.AsMemory(0, n)).ConfigureAwait(false);
                                Interlocked.Add(ref stdoutBytes, n);
                            }

                            fault = null;
                            if (f.Mode == ExecFaultMode.Kill)
                            {
                                process.Kill(entireProcessTree: true);
                                await source.CopyToAsync(Stream.Null).ConfigureAwait(false);
                                return;
                            }

                            dropped = true;
                            await dropCts.CancelAsync().ConfigureAwait(false);
                            return;
                        }
                    }

                    if (forward)
                    {
                        await SendAsync(ws, sendLock, ch, buffer.AsMemory(0, n)).ConfigureAwait(false);
                    }

                    if (count)
                    {
                        Interlocked.Add(ref stdoutBytes, n);
                    }
                }
            }

            var pumps = Task.WhenAll(
                PumpAsync(process.StandardOutput.BaseStream, 1, wantStdout, count: true),
                PumpAsync(process.StandardError.BaseStream, 2, wantStderr, count: false));
            await Task.WhenAny(pumps, Task.Delay(Timeout.Infinite, dropCts.Token).ContinueWith(_ => { }, TaskScheduler.Default)).ConfigureAwait(false);
            if (dropped)
            {
                process.Kill(entireProcessTree: true);
                ctx.Abort();
                return;
            }

            await pumps.ConfigureAwait(false);
            await process.WaitForExitAsync().ConfigureAwait(false);
            exitCode = process.ExitCode;
            var status = exitCode == 0
                ? new JsonObject { ["metadata"] = new JsonObject(), ["status"] = "Success" }
                : new JsonObject
                {
                    ["metadata"] = new JsonObject(),
                    ["status"] = "Failure",
                    ["message"] = $"command terminated with non-zero exit code: error executing command [{string.Join(" ", command)}], exit code {exitCode}",
                    ["reason"] = "NonZeroExitCode",
                    ["details"] = new JsonObject
                    {
                        ["causes"] = new JsonArray(new JsonObject { ["reason"] = "ExitCode", ["message"] = exitCode.Value.ToString(CultureInfo.InvariantCulture) }),
                    },
                };
            await SendAsync(ws, sendLock, 3, Encoding.UTF8.GetBytes(status.ToJsonString())).ConfigureAwait(false);
            _execs.Enqueue(new ExecRecord(ns, podName, containerName, command, protocol, exitCode, stdinBytes, Interlocked.Read(ref stdoutBytes)));
            recorded = true;
            await CloseAsync(ws, receive).ConfigureAwait(false);
        }
        catch (WebSocketException)
        {
            // The client went away; the process is killed below.
        }
        finally
        {
            _running.TryRemove(process.Id, out _);
            if (!process.HasExited)
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                }
            }

            if (!recorded)
            {
                _execs.Enqueue(new ExecRecord(ns, podName, containerName, command, protocol, dropped ? null : exitCode, stdinBytes, stdoutBytes));
            }

            process.Dispose();
        }
    }

    private static async Task SendAsync(WebSocket ws, SemaphoreSlim sendLock, byte channel, ReadOnlyMemory<byte> data)
    {
        var frame = new byte[data.Length + 1];
        frame[0] = channel;
        data.CopyTo(frame.AsMemory(1));
        await sendLock.WaitAsync().ConfigureAwait(false);
        try
        {
            await ws.SendAsync(frame, WebSocketMessageType.Binary, true, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            sendLock.Release();
        }
    }

    private static async Task CloseAsync(WebSocket ws, Task? receive)
    {
        try
        {
            await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None).ConfigureAwait(false);
        }
        catch (WebSocketException)
        {
        }

        if (receive is not null)
        {
            // The client may never answer the close; give it a moment, then let the request end.
            await Task.WhenAny(receive, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        }
    }

    private Dictionary<string, string> ResolveEnv(string ns, string pod, JsonObject container)
    {
        var env = new Dictionary<string, string>
        {
            ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin",
            ["HOSTNAME"] = pod,
            ["HOME"] = SandboxOf(ns, pod, (string?)container["name"] ?? ""),
            ["LANG"] = "C.UTF-8",
        };
        foreach (var e in container["env"] as JsonArray ?? [])
        {
            string? name = (string?)e?["name"];
            if (name is null)
            {
                continue;
            }

            if ((string?)e!["value"] is { } value)
            {
                env[name] = value;
            }
            else if (e["valueFrom"]?["secretKeyRef"] is JsonObject sref)
            {
                var secret = _server.Store.Get(_server.Registry.Find("", "v1", "secrets")!, ns, (string?)sref["name"] ?? "");
                var data = (string?)secret?["data"]?[(string?)sref["key"] ?? ""];
                if (data is not null)
                {
                    env[name] = Encoding.UTF8.GetString(Convert.FromBase64String(data));
                }
                else if ((string?)secret?["stringData"]?[(string?)sref["key"] ?? ""] is { } s)
                {
                    env[name] = s;
                }
            }
        }

        return env;
    }

    private static string MapPaths(string arg, List<(string MountPath, string HostPath)> mounts)
    {
        foreach (var (mount, host) in mounts)
        {
            string m = mount.TrimEnd('/');
            if (m.Length == 0)
            {
                continue;
            }

            arg = Regex.Replace(arg, "(?<=^|[\\s='\"(;|&])" + Regex.Escape(m) + "(?=$|[/\\s'\";|&)])", host.Replace("$", "$$", StringComparison.Ordinal));
        }

        return arg;
    }
}
