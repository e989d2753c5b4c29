using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace KubeBackup.Hooks;

/// <summary>Runs hooks on this machine: commands as child processes (argv, no shell), HTTP requests with an
/// <see cref="HttpClient"/>.</summary>
public sealed class LocalHookExecutor : IHookExecutor
{
    private static readonly HttpClient SharedClient = new() { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
    private readonly HttpClient _http;
    private readonly TimeProvider _time;

    /// <summary>Creates the executor.</summary>
    /// <param name="httpClient">The client for HTTP hooks; default: a shared one (timeouts come from each hook).</param>
    /// <param name="timeProvider">The clock for timeouts and durations.</param>
    public LocalHookExecutor(HttpClient? httpClient = null, TimeProvider? timeProvider = null)
    {
        _http = httpClient ?? SharedClient;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public Task<HookOutcome> RunAsync(HookInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        if (invocation.Hook.Container is not null)
        {
            return Task.FromResult(Failed(invocation, HookStep.Run, TimeSpan.Zero,
                $"the hook names container '{invocation.Hook.Container}', and this executor runs commands on the local machine only"));
        }

        return invocation.Hook.Kind switch
        {
            HookKind.Http => RunHttpAsync(invocation, cancellationToken),
            HookKind.Command => RunCommandAsync(invocation, cancellationToken),
            _ => throw new ArgumentException("A hold-open hook is started with StartHoldOpenAsync.", nameof(invocation)),
        };
    }

    /// <inheritdoc />
    public async Task<IHeldHook> StartHoldOpenAsync(HookInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var hook = invocation.Hook;
        if (hook.HoldOpen is null || hook.Command is not { Count: > 0 })
        {
            throw new ArgumentException("Not a hold-open command hook.", nameof(invocation));
        }

        if (hook.Container is not null)
        {
            return new HeldProcess(invocation, null, null, Failed(invocation, HookStep.Ready, TimeSpan.Zero,
                $"the hook names container '{hook.Container}', and this executor runs commands on the local machine only"), _time);
        }

        long start = _time.GetTimestamp();
        Process process;
        try
        {
            process = ChildProcess.Start(hook.Command, hook.Environment, hook.WorkingDirectory);
        }
        catch (Win32Exception ex)
        {
            return new HeldProcess(invocation, null, null, Failed(invocation, HookStep.Ready, TimeSpan.Zero, $"cannot start {hook.Command[0]}: {ex.Message}"), _time);
        }

        var tail = new OutputTail();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pattern = new Regex(hook.HoldOpen.ReadyPattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        var pumps = Task.WhenAll(
            tail.PumpAsync(process.StandardOutput, line =>
            {
                if (pattern.IsMatch(line))
                {
                    ready.TrySetResult();
                }
            }),
            tail.PumpAsync(process.StandardError));
        if (hook.HoldOpen.Input is { } input)
        {
            try
            {
                await process.StandardInput.WriteAsync(input.AsMemory(), cancellationToken).ConfigureAwait(false);
                await process.StandardInput.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The command ended already; the wait below reports how.
            }
        }

        using var timeout = new CancellationTokenSource(hook.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        var exited = process.WaitForExitAsync(linked.Token);
        try
        {
            await Task.WhenAny(ready.Task, exited).ConfigureAwait(false);
            if (!ready.Task.IsCompleted)
            {
                await exited.ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }

        var elapsed = _time.GetElapsedTime(start);
        if (ready.Task.IsCompleted && !process.HasExited)
        {
            var outcome = new HookOutcome
            {
                Name = hook.Name, Phase = invocation.Phase, Kind = HookKind.HoldOpen, Step = HookStep.Ready, Succeeded = true,
                Duration = elapsed, OutputTail = tail.ToString(), OnError = hook.OnError,
            };
            return new HeldProcess(invocation, process, (tail, pumps), outcome, _time);
        }

        cancellationToken.ThrowIfCancellationRequested();
        bool timedOut = !process.HasExited;
        ChildProcess.KillTree(process);
        await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        await pumps.ConfigureAwait(false);
        var failed = new HookOutcome
        {
            Name = hook.Name, Phase = invocation.Phase, Kind = HookKind.HoldOpen, Step = HookStep.Ready, Succeeded = false,
            ExitCode = timedOut ? null : process.ExitCode, TimedOut = timedOut, Duration = elapsed, OutputTail = tail.ToString(), OnError = hook.OnError,
            Error = timedOut ? $"no ready signal within {hook.Timeout}" : $"exited with code {process.ExitCode} before signalling ready",
        };
        process.Dispose();
        return new HeldProcess(invocation, null, null, failed, _time);
    }

    private async Task<HookOutcome> RunCommandAsync(HookInvocation invocation, CancellationToken cancellationToken)
    {
        var hook = invocation.Hook;
        long start = _time.GetTimestamp();
        Process process;
        try
        {
            process = ChildProcess.Start(hook.Command!, hook.Environment, hook.WorkingDirectory);
        }
        catch (Win32Exception ex)
        {
            return Failed(invocation, HookStep.Run, _time.GetElapsedTime(start), $"cannot start {hook.Command![0]}: {ex.Message}");
        }

        using (process)
        {
            // Nothing is ever typed into a hook: its input is closed at once so a command that reads it sees the end.
            process.StandardInput.Close();
            var tail = new OutputTail();
            var pumps = Task.WhenAll(tail.PumpAsync(process.StandardOutput), tail.PumpAsync(process.StandardError));
            using var timeout = new CancellationTokenSource(hook.Timeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
            bool timedOut = false;
            try
            {
                await process.WaitForExitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                ChildProcess.KillTree(process);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                timedOut = true;
            }

            await pumps.ConfigureAwait(false);
            int code = process.ExitCode;
            return new HookOutcome
            {
                Name = hook.Name, Phase = invocation.Phase, Kind = HookKind.Command, Succeeded = !timedOut && code == 0,
                ExitCode = timedOut ? null : code, TimedOut = timedOut, Duration = _time.GetElapsedTime(start), OutputTail = tail.ToString(),
                OnError = hook.OnError,
                Error = timedOut ? $"did not finish within {hook.Timeout}" : code != 0 ? $"exited with code {code}" : null,
            };
        }
    }

    private async Task<HookOutcome> RunHttpAsync(HookInvocation invocation, CancellationToken cancellationToken)
    {
        var hook = invocation.Hook;
        var http = hook.Http!;
        long start = _time.GetTimestamp();
        using var request = new HttpRequestMessage(http.Method.Equals("POST", StringComparison.OrdinalIgnoreCase) ? HttpMethod.Post : HttpMethod.Get, http.Url);
        if (request.Method == HttpMethod.Post)
        {
            request.Content = new StringContent(http.Body ?? "", Encoding.UTF8, http.ContentType);
        }

        foreach (var (k, v) in http.Headers)
        {
            request.Headers.TryAddWithoutValidation(k, v);
        }

        using var timeout = new CancellationTokenSource(hook.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            using var response = await _http.SendAsync(request, linked.Token).ConfigureAwait(false);
            string body = await response.Content.ReadAsStringAsync(linked.Token).ConfigureAwait(false);
            int status = (int)response.StatusCode;
            bool ok = status is >= 200 and < 300;
            return new HookOutcome
            {
                Name = hook.Name, Phase = invocation.Phase, Kind = HookKind.Http, Succeeded = ok, StatusCode = status,
                Duration = _time.GetElapsedTime(start), OutputTail = body.Length > 4096 ? body[^4096..] : body, OnError = hook.OnError,
                Error = ok ? null : $"answered HTTP {status}",
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Failed(invocation, HookStep.Run, _time.GetElapsedTime(start), $"no answer within {hook.Timeout}", timedOut: true);
        }
        catch (HttpRequestException ex)
        {
            return Failed(invocation, HookStep.Run, _time.GetElapsedTime(start), $"request failed: {ex.Message}");
        }
    }

    private static HookOutcome Failed(HookInvocation invocation, HookStep step, TimeSpan duration, string error, bool timedOut = false) => new()
    {
        Name = invocation.Hook.Name, Phase = invocation.Phase, Kind = invocation.Hook.Kind, Step = step, Succeeded = false,
        Duration = duration, Error = error, TimedOut = timedOut, OnError = invocation.Hook.OnError,
    };

    private sealed class HeldProcess : IHeldHook
    {
        private readonly HookInvocation _invocation;
        private readonly Process? _process;
        private readonly (OutputTail Tail, Task Pumps)? _output;
        private readonly TimeProvider _time;
        private readonly long _heldSince;

        public HeldProcess(HookInvocation invocation, Process? process, (OutputTail, Task)? output, HookOutcome ready, TimeProvider time)
        {
            _invocation = invocation;
            _process = process;
            _output = output;
            Ready = ready;
            _time = time;
            _heldSince = time.GetTimestamp();
        }

        public HookOutcome Ready { get; }

        public bool IsRunning => _process is not null && !ChildProcess.HasEnded(_process);

        public async Task<HookOutcome> ReleaseAsync(CancellationToken cancellationToken)
        {
            var hook = _invocation.Hook;
            var options = hook.HoldOpen!;
            if (_process is null)
            {
                return Ready;
            }

            if (ChildProcess.HasEnded(_process))
            {
                // Ended on its own: collect its exit (the runtime may not have reaped it yet) and say so.
                await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                await _output!.Value.Pumps.ConfigureAwait(false);
                return Outcome(false, _process.ExitCode, false,
                    $"ended with code {_process.ExitCode} before it was released: what it held did not span the data steps");
            }

            int signalSent = 0;
            try
            {
                if (options.ReleaseInput is { } text)
                {
                    await _process.StandardInput.WriteAsync(text.AsMemory(), cancellationToken).ConfigureAwait(false);
                    await _process.StandardInput.FlushAsync(cancellationToken).ConfigureAwait(false);
                }

                switch (options.Release)
                {
                    case HoldReleaseMode.CloseInput:
                        _process.StandardInput.Close();
                        break;
                    case HoldReleaseMode.Terminate:
                        signalSent = ChildProcess.SigTerm;
                        ChildProcess.Signal(_process, signalSent);
                        break;
                    default:
                        signalSent = ChildProcess.SigInt;
                        ChildProcess.Signal(_process, signalSent);
                        break;
                }
            }
            catch (IOException)
            {
                // It ended between the check and the release: the exit code below tells how.
            }

            using var timeout = new CancellationTokenSource(options.ReleaseTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
            try
            {
                await _process.WaitForExitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                ChildProcess.KillTree(_process);
                await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                await _output!.Value.Pumps.ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                return Outcome(false, null, true, $"did not end within {options.ReleaseTimeout} of its release");
            }

            await _output!.Value.Pumps.ConfigureAwait(false);
            int code = _process.ExitCode;
            // Ending by the very signal that released it is a clean release.
            bool ok = code == 0 || (signalSent != 0 && code == 128 + signalSent);
            return Outcome(ok, code, false, ok ? null : $"exited with code {code} after its release");
        }

        private HookOutcome Outcome(bool ok, int? code, bool timedOut, string? error) => new()
        {
            Name = _invocation.Hook.Name, Phase = _invocation.Phase, Kind = HookKind.HoldOpen, Step = HookStep.Release, Succeeded = ok,
            ExitCode = code, TimedOut = timedOut, Duration = _time.GetElapsedTime(_heldSince), OutputTail = _output?.Tail.ToString() ?? "",
            OnError = _invocation.Hook.OnError, Error = error,
        };

        public async ValueTask DisposeAsync()
        {
            if (_process is not null)
            {
                ChildProcess.KillTree(_process);
                try
                {
                    await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (InvalidOperationException)
                {
                }

                _process.Dispose();
            }
        }
    }
}
