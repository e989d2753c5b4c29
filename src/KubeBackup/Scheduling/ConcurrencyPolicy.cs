namespace KubeBackup.Scheduling;

/// <summary>What a schedule does when a run is due while the previous run is still going.</summary>
public enum ConcurrencyPolicy
{
    /// <summary>The due run is skipped (recorded as a Skipped session).</summary>
    Skip,

    /// <summary>The due run starts as soon as the previous one ends; at most one run waits.</summary>
    Queue,
}
