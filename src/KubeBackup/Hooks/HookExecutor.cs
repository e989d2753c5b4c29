namespace KubeBackup.Hooks;

/// <summary>
/// Runs hooks. Core runs them on this machine (<see cref="LocalHookExecutor"/>); the Kubernetes package runs commands
/// in a pod's container instead. The session runner only talks to this interface.
/// </summary>
public interface IHookExecutor
{
    /// <summary>Runs a command or HTTP hook to its end. Never throws for a failing hook: the outcome says it failed.</summary>
    Task<HookOutcome> RunAsync(HookInvocation invocation, CancellationToken cancellationToken);

    /// <summary>Starts a hold-open hook and waits for its ready signal (or its failure); the handle releases it.</summary>
    Task<IHeldHook> StartHoldOpenAsync(HookInvocation invocation, CancellationToken cancellationToken);
}

/// <summary>A hold-open hook that was started.</summary>
public interface IHeldHook : IAsyncDisposable
{
    /// <summary>The start: succeeded when the ready signal came.</summary>
    HookOutcome Ready { get; }

    /// <summary>Whether the hook is still running (held).</summary>
    bool IsRunning { get; }

    /// <summary>Releases the hook and waits for it to end. A hook that ended before its release has failed: whatever it
    /// held (a backup mode, a lock) did not span the data steps.</summary>
    Task<HookOutcome> ReleaseAsync(CancellationToken cancellationToken);
}

/// <summary>One hook to run, with its variables resolved.</summary>
/// <param name="Hook">The hook (commands, URLs, bodies and environment values already resolved).</param>
/// <param name="Phase">The phase.</param>
/// <param name="ConfigurationName">The configuration.</param>
/// <param name="TargetName">The target.</param>
public sealed record HookInvocation(HookDefinition Hook, HookPhase Phase, string ConfigurationName, string TargetName);
