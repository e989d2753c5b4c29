namespace KubeBackup.Sessions;

/// <summary>
/// What an incomplete backup means. Each condition maps to an action; when several occur, the strongest action wins
/// (Fail over TagPartial over Warn). The default never reports a partial backup as Succeeded and never leaves an
/// untagged snapshot of a stream that may have ended early (the failure mode behind the "backup succeeded but the
/// dump was empty" reports of K8up and Velero users).
/// </summary>
public sealed class CompletenessPolicy
{
    /// <summary>The tag a kept incomplete snapshot gets.</summary>
    public const string DefaultPartialTag = "partial";

    /// <summary>A stream's command exited with a non-zero code after its output ended normally. Default: Fail.</summary>
    public CompletenessAction NonZeroExit { get; set; } = CompletenessAction.Fail;

    /// <summary>A stream ended early: its command was killed (exit by signal), its end marker is missing, or reading it
    /// failed. Default: Fail. Warn is not allowed: a stream that ended early never becomes an untagged, Succeeded snapshot.</summary>
    public CompletenessAction ShortStream { get; set; } = CompletenessAction.Fail;

    /// <summary>A stream delivered no bytes at all. Default: Fail.</summary>
    public CompletenessAction EmptyStream { get; set; } = CompletenessAction.Fail;

    /// <summary>Some files could not be read (the snapshot holds everything else, like restic's exit code 3).
    /// Default: TagPartial.</summary>
    public CompletenessAction UnreadableFiles { get; set; } = CompletenessAction.TagPartial;

    /// <summary>A file backup found nothing to back up. Default: Fail.</summary>
    public CompletenessAction ZeroItems { get; set; } = CompletenessAction.Fail;

    /// <summary>The tag for kept incomplete snapshots.</summary>
    public string PartialTag { get; set; } = DefaultPartialTag;

    /// <summary>The action for a condition.</summary>
    public CompletenessAction ActionFor(CompletenessCondition condition) => condition switch
    {
        CompletenessCondition.NonZeroExit => NonZeroExit,
        CompletenessCondition.ShortStream => ShortStream,
        CompletenessCondition.EmptyStream => EmptyStream,
        CompletenessCondition.UnreadableFiles => UnreadableFiles,
        CompletenessCondition.ZeroItems => ZeroItems,
        _ => throw new ArgumentOutOfRangeException(nameof(condition)),
    };

    /// <summary>The strongest action among the conditions; null when there are none.</summary>
    public CompletenessAction? Decide(IEnumerable<CompletenessCondition> conditions)
    {
        ArgumentNullException.ThrowIfNull(conditions);
        CompletenessAction? worst = null;
        foreach (var c in conditions)
        {
            var action = ActionFor(c);
            if (worst is null || Severity(action) > Severity(worst.Value))
            {
                worst = action;
            }
        }

        return worst;
    }

    internal static int Severity(CompletenessAction action) => action switch
    {
        CompletenessAction.Warn => 0,
        CompletenessAction.TagPartial => 1,
        _ => 2,
    };

    internal IEnumerable<string> Problems()
    {
        if (ShortStream == CompletenessAction.Warn)
        {
            yield return "completeness.shortStream cannot be Warn: a stream that ended early is never kept as an untagged, successful snapshot (use TagPartial or Fail).";
        }

        if (string.IsNullOrWhiteSpace(PartialTag) || PartialTag.Contains(',', StringComparison.Ordinal))
        {
            yield return "completeness.partialTag must be a non-empty tag without commas.";
        }
    }
}

/// <summary>What an incomplete backup leads to.</summary>
public enum CompletenessAction
{
    /// <summary>The target fails and the data is not kept as a snapshot (a stream's snapshot is never written; a file
    /// backup's is removed again).</summary>
    Fail,

    /// <summary>The snapshot is kept with the partial tag; the target ends PartiallyFailed.</summary>
    TagPartial,

    /// <summary>The snapshot is kept as it is; the condition is recorded as a warning and the target can succeed.</summary>
    Warn,
}

/// <summary>The ways a backup can be incomplete.</summary>
public enum CompletenessCondition
{
    /// <summary>The producing command exited with a non-zero code.</summary>
    NonZeroExit,

    /// <summary>The stream ended early.</summary>
    ShortStream,

    /// <summary>The stream was empty.</summary>
    EmptyStream,

    /// <summary>Files could not be read.</summary>
    UnreadableFiles,

    /// <summary>Nothing was backed up.</summary>
    ZeroItems,
}
