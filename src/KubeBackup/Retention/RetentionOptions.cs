namespace KubeBackup.Retention;

/// <summary>How <see cref="RetentionEvaluator"/> applies a policy.</summary>
public class RetentionOptions
{
    /// <summary>How items are grouped; restic's default is host and paths.</summary>
    public RetentionGrouping GroupBy { get; init; } = RetentionGrouping.Default;

    /// <summary>Whose semantics to reproduce; current restic's by default.</summary>
    public ResticCompatibility Compatibility { get; init; } = ResticCompatibility.Current;

    /// <summary>The clock. Only one thing depends on it: items dated in the future are not taken as the "latest" that
    /// <c>Within*</c> durations count back from.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Allow an empty policy, which then removes every item (restic's <c>--unsafe-allow-remove-all</c>;
    /// current semantics only, where an empty policy is refused otherwise).</summary>
    public bool AllowRemoveAll { get; init; }
}
