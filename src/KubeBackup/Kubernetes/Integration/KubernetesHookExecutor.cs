using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using KubeBackup.Hooks;
using KubeBackup.Kubernetes.Exec;
using KubeBackup.Kubernetes.Targets;

namespace KubeBackup.Kubernetes.Integration;

/// <summary>
/// The session runner's <see cref="IHookExecutor"/> for Kubernetes targets: command hooks run in the target's pods
/// (every pod the target resolves to: each replica of a StatefulSet, each pod of a DaemonSet, the one chosen pod of a
/// Deployment), in the hook's container or the pod's backup container. HTTP hooks, and hooks of targets that are not
/// Kubernetes objects, go to the inner (local) executor. Hook environment variables and the working folder are handed
/// to the command through its stdin, never through argv (the exec API has no other way, and argv is visible to
/// everyone); that needs <c>sh</c> in the container.
/// </summary>
public sealed class KubernetesHookExecutor : IHookExecutor
{
    private const int TailBytes = 4096;
    private readonly IPodExecutor _executor;
    private readonly ITargetResolver _resolver;
    private readonly IKubernetesTargetLookup _targets;
    private readonly IHookExecutor _local;

    /// <summary>Creates the executor.</summary>
    public KubernetesHookExecutor(IPodExecutor executor, ITargetResolver resolver, IKubernetesTargetLookup targets, IHookExecutor? local = null)
    {
        _executor = executor ?? throw new ArgumentNullException(nameof(executor));
        _resolver = resolver ?? throw new ArgumentNullException(nameof(resolver));
        _targets = targets ?? throw new ArgumentNullException(nameof(targets));
        _local = local ?? new LocalHookExecutor();
    }

    /// <inheritdoc />
    public async Task<HookOutcome> RunAsync(HookInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var hook = invocation.Hook;
        var target = _targets.Find(invocation.ConfigurationName, invocation.TargetName);
        if (hook.Kind != HookKind.Command || target is null)
        {
            return await _local.RunAsync(invocation, cancellationToken).ConfigureAwait(false);
        }

        var clock = Stopwatch.StartNew();
        ResolvedTarget resolved;
        try
        {
            resolved = await _resolver.ResolveAsync(target, new TargetResolveOptions { Container = null }, cancellationToken).ConfigureAwait(false);
        }
        catch (TargetResolutionException ex)
        {
            return Failed(invocation, HookStep.Run, clock.Elapsed, ex.Message);
        }

        var tail = new StringBuilder();
        int? exitCode = 0;
        bool timedOut = false;
        string? error = null;
        foreach (var pod in resolved.Pods)
        {
            var (request, stdin) = Build(hook, pod, stdout: ExecOutputMode.Capture);
            PodExecResult result;
            try
            {
                await using var session = await _executor.StartAsync(request, cancellationToken).ConfigureAwait(false);
                if (stdin is not null)
                {
                    await session.WriteStdinAsync(stdin, cancellationToken).ConfigureAwait(false);
                    if (session.CanCloseStdin)
                    {
                        await session.CloseStdinAsync(cancellationToken).ConfigureAwait(false);
                    }
                }

                result = await session.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PodExecException ex)
            {
                error ??= $"{pod.Namespace}/{pod.Name}: {ex.Message}";
                exitCode = null;
                continue;
            }

            AppendTail(tail, resolved.Pods.Count > 1 ? pod.Name : null, result);
            if (!result.Succeeded)
            {
                exitCode = exitCode == 0 ? result.ExitCode : exitCode;
                timedOut |= result.ExitCode is null && (result.FailureReason?.Contains("did not finish within", StringComparison.Ordinal) ?? false);
                error ??= $"{pod.Namespace}/{pod.Name}: {result.FailureReason}";
            }
        }

        return new HookOutcome
        {
            Name = hook.Name, Phase = invocation.Phase, Kind = HookKind.Command, Step = HookStep.Run, Succeeded = error is null,
            ExitCode = exitCode, TimedOut = timedOut, Duration = clock.Elapsed, OutputTail = Tail(tail), Error = error, OnError = hook.OnError,
        };
    }

    /// <inheritdoc />
    public async Task<IHeldHook> StartHoldOpenAsync(HookInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var hook = invocation.Hook;
        var target = _targets.Find(invocation.ConfigurationName, invocation.TargetName);
        if (target is null)
        {
            return await _local.StartHoldOpenAsync(invocation, cancellationToken).ConfigureAwait(false);
        }

        var clock = Stopwatch.StartNew();
        if (hook.HoldOpen is not { } hold || hook.Command is not { Count: > 0 })
        {
            throw new ArgumentException("Not a hold-open command hook.", nameof(invocation));
        }

        if (hold.Release != HoldReleaseMode.CloseInput)
        {
            // The exec API cannot deliver signals to a command.
            return new HeldPodHook(Failed(invocation, HookStep.Ready, TimeSpan.Zero, $"release mode {hold.Release} needs a signal, which the Kubernetes exec API cannot send; use CloseInput"), [], invocation);
        }

        ResolvedTarget resolved;
        try
        {
            resolved = await _resolver.ResolveAsync(target, null, cancellationToken).ConfigureAwait(false);
        }
        catch (TargetResolutionException ex)
        {
            return new HeldPodHook(Failed(invocation, HookStep.Ready, clock.Elapsed, ex.Message), [], invocation);
        }

        var held = new List<HeldSession>();
        var pattern = new Regex(hold.ReadyPattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        foreach (var pod in resolved.Pods)
        {
            var (request, stdin) = Build(hook, pod, stdout: ExecOutputMode.Stream, holdOpen: true);
            try
            {
                var session = await _executor.StartAsync(request, cancellationToken).ConfigureAwait(false);
                var entry = new HeldSession(pod, session);
                held.Add(entry);
                if (!session.CanCloseStdin)
                {
                    return new HeldPodHook(Failed(invocation, HookStep.Ready, clock.Elapsed, "the API server speaks only exec v4, which cannot close stdin to release the hook"), held, invocation);
                }

                var input = new StringBuilder();
                if (stdin is not null)
                {
                    input.Append(Encoding.UTF8.GetString(stdin));
                }

                input.Append(hold.Input);
                if (input.Length > 0)
                {
                    await session.WriteStdinAsync(Encoding.UTF8.GetBytes(input.ToString()), cancellationToken).ConfigureAwait(false);
                }

                entry.Reader = Task.Run(() => entry.ReadLinesAsync(pattern), CancellationToken.None);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(hook.Timeout);
                try
                {
                    await entry.Ready.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return new HeldPodHook(Failed(invocation, HookStep.Ready, clock.Elapsed, $"{pod.Name}: no ready signal within {hook.Timeout}", timedOut: true, tail: entry.Output), held, invocation);
                }

                if (!entry.Ready.Task.Result)
                {
                    var result = await session.WaitAsync(cancellationToken).ConfigureAwait(false);
                    return new HeldPodHook(Failed(invocation, HookStep.Ready, clock.Elapsed, $"{pod.Name}: ended before signalling ready: {result.FailureReason ?? "exit code 0"}", tail: entry.Output), held, invocation);
                }
            }
            catch (PodExecException ex)
            {
                return new HeldPodHook(Failed(invocation, HookStep.Ready, clock.Elapsed, $"{pod.Name}: {ex.Message}"), held, invocation);
            }
        }

        var ready = new HookOutcome
        {
            Name = hook.Name, Phase = invocation.Phase, Kind = HookKind.HoldOpen, Step = HookStep.Ready, Succeeded = true, Duration = clock.Elapsed,
            OutputTail = string.Join("\n", held.Select(h => h.Output)), OnError = hook.OnError,
        };
        return new HeldPodHook(ready, held, invocation);
    }

    /// <summary>The exec request of a hook, and what goes to its stdin first (environment, working folder).</summary>
    private static (PodExecRequest Request, byte[]? Stdin) Build(HookDefinition hook, ResolvedPod pod, ExecOutputMode stdout, bool holdOpen = false)
    {
        var argv = hook.Command!;
        byte[]? stdin = null;
        if (hook.Environment.Count > 0 || hook.WorkingDirectory is not null)
        {
            // "NAME=value" lines up to an empty line, read by the shell and exported; then the command replaces the shell.
            var preamble = new StringBuilder();
            foreach (var (k, v) in hook.Environment)
            {
                if (v.Contains('\n', StringComparison.Ordinal) || k.Contains('=', StringComparison.Ordinal))
                {
                    throw new ArgumentException($"Environment variable {k} of hook {hook.Name} cannot be passed to a pod (a name with '=' or a value with a newline).");
                }

                preamble.Append(k).Append('=').Append(v).Append('\n');
            }

            if (hook.WorkingDirectory is not null)
            {
                preamble.Append("KUBEBACKUP_HOOK_CWD=").Append(hook.WorkingDirectory).Append('\n');
            }

            preamble.Append('\n');
            stdin = Encoding.UTF8.GetBytes(preamble.ToString());
            const string script = "while IFS= read -r kv && [ -n \"$kv\" ]; do export \"$kv\"; done; "
                + "if [ -n \"$KUBEBACKUP_HOOK_CWD\" ]; then cd \"$KUBEBACKUP_HOOK_CWD\" || exit 126; fi; unset KUBEBACKUP_HOOK_CWD; exec \"$@\"";
            argv = ["sh", "-c", script, "kubebackup-hook", .. argv];
        }

        var request = new PodExecRequest
        {
            Namespace = pod.Namespace, Pod = pod.Name, Container = hook.Container ?? pod.Container, Command = argv,
            Stdin = stdin is not null || holdOpen, Stdout = stdout, Timeout = holdOpen ? null : hook.Timeout,
        };
        return (request, stdin);
    }

    private static void AppendTail(StringBuilder tail, string? pod, PodExecResult result)
    {
        var text = (result.StdoutText + result.StderrText).TrimEnd();
        if (text.Length == 0)
        {
            return;
        }

        if (tail.Length > 0)
        {
            tail.Append('\n');
        }

        tail.Append(pod is null ? text : $"[{pod}] {text}");
    }

    private static string Tail(StringBuilder tail) => tail.Length <= TailBytes ? tail.ToString() : tail.ToString(tail.Length - TailBytes, TailBytes);

    private static HookOutcome Failed(HookInvocation invocation, HookStep step, TimeSpan elapsed, string error, bool timedOut = false, string tail = "") => new()
    {
        Name = invocation.Hook.Name, Phase = invocation.Phase, Kind = invocation.Hook.Kind, Step = step, Succeeded = false, TimedOut = timedOut,
        Duration = elapsed, Error = error, OutputTail = tail, OnError = invocation.Hook.OnError,
    };

    private sealed class HeldSession(ResolvedPod pod, PodExecSession session)
    {
        private readonly StringBuilder _output = new();

        public ResolvedPod Pod { get; } = pod;

        public PodExecSession Session { get; } = session;

        public TaskCompletionSource<bool> Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Reader { get; set; } = Task.CompletedTask;

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.Length <= TailBytes ? _output.ToString() : _output.ToString(_output.Length - TailBytes, TailBytes);
                }
            }
        }

        public async Task ReadLinesAsync(Regex pattern)
        {
            // The output is read to its end all the time the hook is held, so the command never blocks on a full pipe.
            using var reader = new StreamReader(Session.StandardOutput!, Encoding.UTF8);
            string? line;
            while ((line = await reader.ReadLineAsync().ConfigureAwait(false)) is not null)
            {
                lock (_output)
                {
                    _output.Append(line).Append('\n');
                }

                if (pattern.IsMatch(line))
                {
                    Ready.TrySetResult(true);
                }
            }

            Ready.TrySetResult(false);
        }
    }

    private sealed class HeldPodHook(HookOutcome ready, List<HeldSession> sessions, HookInvocation invocation) : IHeldHook
    {
        private int _released;

        public HookOutcome Ready { get; } = ready;

        public bool IsRunning => Ready.Succeeded && sessions.All(s => !s.Session.Completion.IsCompleted);

        public async Task<HookOutcome> ReleaseAsync(CancellationToken cancellationToken)
        {
            var clock = Stopwatch.StartNew();
            var hold = invocation.Hook.HoldOpen!;
            string? error = null;
            int? exitCode = 0;
            foreach (var s in sessions)
            {
                if (s.Session.Completion.IsCompleted)
                {
                    error ??= $"{s.Pod.Name}: the hook ended before it was released: whatever it held did not span the data steps";
                }

                try
                {
                    if (hold.ReleaseInput is { } release && !s.Session.Completion.IsCompleted)
                    {
                        await s.Session.WriteStdinAsync(Encoding.UTF8.GetBytes(release), cancellationToken).ConfigureAwait(false);
                    }

                    if (!s.Session.Completion.IsCompleted)
                    {
                        await s.Session.CloseStdinAsync(cancellationToken).ConfigureAwait(false);
                    }

                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timeout.CancelAfter(hold.ReleaseTimeout);
                    var result = await s.Session.WaitAsync(timeout.Token).ConfigureAwait(false);
                    await s.Reader.ConfigureAwait(false);
                    if (!result.Succeeded)
                    {
                        exitCode = result.ExitCode;
                        error ??= $"{s.Pod.Name}: {result.FailureReason}";
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    exitCode = null;
                    error ??= $"{s.Pod.Name}: did not exit within {hold.ReleaseTimeout} of its release";
                }
                catch (PodExecException ex)
                {
                    error ??= $"{s.Pod.Name}: {ex.Message}";
                }
            }

            await DisposeAsync().ConfigureAwait(false);
            return new HookOutcome
            {
                Name = invocation.Hook.Name, Phase = invocation.Phase, Kind = HookKind.HoldOpen, Step = HookStep.Release, Succeeded = error is null,
                ExitCode = exitCode, Duration = clock.Elapsed, Error = error, OutputTail = string.Join("\n", sessions.Select(s => s.Output)), OnError = invocation.Hook.OnError,
            };
        }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
            {
                return;
            }

            foreach (var s in sessions)
            {
                await s.Session.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
