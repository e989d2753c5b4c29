using System.Globalization;
using System.Text.Json;
using KubeBackup.Kubernetes.Exec;
using KubeBackup.Kubernetes.Targets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KubeBackup.Kubernetes.Hooks;

/// <summary>What a failed hook does to the backup.</summary>
public enum HookErrorPolicy
{
    /// <summary>The backup fails (and says which hook failed and why).</summary>
    Fail,

    /// <summary>The failure is recorded and the backup goes on.</summary>
    Continue,
}

/// <summary>A command run in a target's pod before or after a backup (freeze a database, flush a cache).</summary>
public sealed class PodExecHook
{
    /// <summary>A name for reports.</summary>
    public string Name { get; init; } = "hook";

    /// <summary>The container; null for the pod's backup container.</summary>
    public string? Container { get; init; }

    /// <summary>The argv (no shell unless you ask for one).</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>Time limit. Default 30 s (Velero's default).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>What a failure does. Default: fail the backup.</summary>
    public HookErrorPolicy OnError { get; init; } = HookErrorPolicy.Fail;

    /// <summary>Reads a hook from pod annotations in Velero's form: <c>{phase}.hook.backup.velero.io/command</c> (a JSON
    /// array), <c>/container</c>, <c>/on-error</c> (Fail|Continue), <c>/timeout</c> (Go duration such as 30s or 2m).</summary>
    /// <param name="annotations">The pod's annotations.</param>
    /// <param name="phase"><c>pre</c> or <c>post</c>.</param>
    /// <returns>The hook, or null if the pod declares none for the phase.</returns>
    public static PodExecHook? FromVeleroAnnotations(IDictionary<string, string>? annotations, string phase)
    {
        ArgumentException.ThrowIfNullOrEmpty(phase);
        string prefix = phase + ".hook.backup.velero.io/";
        if (annotations is null || !annotations.TryGetValue(prefix + "command", out var commandText))
        {
            return null;
        }

        IReadOnlyList<string> command;
        var trimmed = commandText.Trim();
        if (trimmed.StartsWith('['))
        {
            try
            {
                command = JsonSerializer.Deserialize(trimmed, HookJsonContext.Default.StringArray) ?? [];
            }
            catch (JsonException ex)
            {
                throw new ArgumentException($"{prefix}command is not a JSON array of strings: {ex.Message}", nameof(annotations), ex);
            }
        }
        else
        {
            command = [trimmed];
        }

        annotations.TryGetValue(prefix + "container", out var container);
        annotations.TryGetValue(prefix + "on-error", out var onError);
        annotations.TryGetValue(prefix + "timeout", out var timeout);
        return new PodExecHook
        {
            Name = $"{phase} hook",
            Command = command,
            Container = string.IsNullOrEmpty(container) ? null : container,
            OnError = string.Equals(onError, "Continue", StringComparison.OrdinalIgnoreCase) ? HookErrorPolicy.Continue : HookErrorPolicy.Fail,
            Timeout = string.IsNullOrEmpty(timeout) ? TimeSpan.FromSeconds(30) : ParseGoDuration(timeout),
        };
    }

    /// <summary>Parses a Go duration such as <c>90s</c>, <c>2m30s</c>, <c>1h</c>, <c>500ms</c>.</summary>
    internal static TimeSpan ParseGoDuration(string text)
    {
        var total = TimeSpan.Zero;
        int i = 0;
        while (i < text.Length)
        {
            int start = i;
            while (i < text.Length && (char.IsDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }

            if (start == i)
            {
                throw new FormatException($"'{text}' is not a duration");
            }

            double value = double.Parse(text[start..i], CultureInfo.InvariantCulture);
            int unitStart = i;
            while (i < text.Length && char.IsLetter(text[i]))
            {
                i++;
            }

            total += text[unitStart..i] switch
            {
                "h" => TimeSpan.FromHours(value),
                "m" => TimeSpan.FromMinutes(value),
                "s" => TimeSpan.FromSeconds(value),
                "ms" => TimeSpan.FromMilliseconds(value),
                _ => throw new FormatException($"'{text}' is not a duration"),
            };
        }

        return total;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class HookJsonContext : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>How a hook went in one pod.</summary>
/// <param name="Hook">The hook's name.</param>
/// <param name="Pod">The pod (namespace/name).</param>
/// <param name="Succeeded">Whether the command exited with 0.</param>
/// <param name="Reason">Why not, if it failed.</param>
/// <param name="Result">The command's result, if it ran.</param>
public sealed record PodHookOutcome(string Hook, string Pod, bool Succeeded, string? Reason, PodExecResult? Result);

/// <summary>A hook failed and its policy is <see cref="HookErrorPolicy.Fail"/>.</summary>
public sealed class PodHookFailedException : KubeBackupException
{
    /// <summary>Creates the exception.</summary>
    public PodHookFailedException(PodHookOutcome outcome, Exception? innerException = null)
        : base($"{outcome.Hook} failed in {outcome.Pod}: {outcome.Reason}", innerException)
    {
        Outcome = outcome;
    }

    /// <summary>The failed hook's outcome.</summary>
    public PodHookOutcome Outcome { get; }
}

/// <summary>Runs hooks in pods; the outcome of every hook is returned (and logged), so no failure hides in a log.</summary>
public sealed class PodHookRunner
{
    private readonly IPodExecutor _executor;
    private readonly ILogger _logger;

    /// <summary>Creates the runner.</summary>
    public PodHookRunner(IPodExecutor executor, ILogger<PodHookRunner>? logger = null)
    {
        _executor = executor ?? throw new ArgumentNullException(nameof(executor));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Runs a hook in a pod. A failure with policy <see cref="HookErrorPolicy.Fail"/> throws
    /// <see cref="PodHookFailedException"/>; with <see cref="HookErrorPolicy.Continue"/> it is returned.</summary>
    public async Task<PodHookOutcome> RunAsync(PodExecHook hook, ResolvedPod pod, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hook);
        ArgumentNullException.ThrowIfNull(pod);
        string podName = $"{pod.Namespace}/{pod.Name}";
        PodHookOutcome outcome;
        try
        {
            var result = await _executor.RunAsync(new PodExecRequest
            {
                Namespace = pod.Namespace, Pod = pod.Name, Container = hook.Container ?? pod.Container, Command = hook.Command, Timeout = hook.Timeout,
            }, cancellationToken).ConfigureAwait(false);
            outcome = new PodHookOutcome(hook.Name, podName, result.Succeeded, result.FailureReason, result);
        }
        catch (PodExecException ex)
        {
            outcome = new PodHookOutcome(hook.Name, podName, false, ex.Message, ex.Result);
        }

        if (outcome.Succeeded)
        {
            _logger.LogInformation("{Hook} succeeded in {Pod}", hook.Name, podName);
            return outcome;
        }

        _logger.LogWarning("{Hook} failed in {Pod}: {Reason}", hook.Name, podName, outcome.Reason);
        if (hook.OnError == HookErrorPolicy.Fail)
        {
            throw new PodHookFailedException(outcome);
        }

        return outcome;
    }
}
