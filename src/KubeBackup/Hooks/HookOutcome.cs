namespace KubeBackup.Hooks;

/// <summary>What one hook did: exit code or HTTP status, duration and the tail of its output, recorded in the session
/// result so a failing hook is never only a line in a log.</summary>
public sealed class HookOutcome
{
    /// <summary>The hook's name.</summary>
    public required string Name { get; init; }

    /// <summary>The phase it ran in.</summary>
    public required HookPhase Phase { get; init; }

    /// <summary>Its kind.</summary>
    public required HookKind Kind { get; init; }

    /// <summary>Which part of the hook this is: running it, a hold-open hook's ready wait, or its release.</summary>
    public HookStep Step { get; init; } = HookStep.Run;

    /// <summary>Whether it succeeded.</summary>
    public required bool Succeeded { get; init; }

    /// <summary>Whether it was not run (its <c>when</c> did not match).</summary>
    public bool Skipped { get; init; }

    /// <summary>The command's exit code (128 + signal number when a signal ended it).</summary>
    public int? ExitCode { get; init; }

    /// <summary>The HTTP status code.</summary>
    public int? StatusCode { get; init; }

    /// <summary>Whether the timeout stopped it.</summary>
    public bool TimedOut { get; init; }

    /// <summary>How long it took.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>The last few KiB of its output (standard output and error interleaved, or the HTTP response body).</summary>
    public string OutputTail { get; init; } = "";

    /// <summary>Why it failed, in one sentence.</summary>
    public string? Error { get; init; }

    /// <summary>What its failure does.</summary>
    public HookErrorMode OnError { get; init; }

    /// <inheritdoc />
    public override string ToString() =>
        $"{Phase} hook {Name} ({Step}): {(Skipped ? "skipped" : Succeeded ? "succeeded" : "failed")}{(ExitCode is { } c ? $", exit code {c}" : "")}{(StatusCode is { } s ? $", HTTP {s}" : "")}";
}

/// <summary>The parts of a hook's life.</summary>
public enum HookStep
{
    /// <summary>A command or HTTP request ran.</summary>
    Run,

    /// <summary>A hold-open hook was started and signalled ready (or did not).</summary>
    Ready,

    /// <summary>A hold-open hook was released after the data steps.</summary>
    Release,
}
