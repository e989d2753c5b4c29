namespace KubeBackup.Retention;

/// <summary>Which restic release's retention semantics to reproduce.</summary>
/// <remarks>
/// <see cref="Current"/> is the default: its safety rules (no empty policy, never the last snapshot of a group) guard
/// against deleting a whole history by mistake, and it is what users of any recent restic expect. <see cref="V0_14"/>
/// exists to make exactly the decisions of the restic that Debian bookworm ships (the compatibility tests compare
/// against it), for repositories also maintained by that restic.
/// </remarks>
public enum ResticCompatibility
{
    /// <summary>
    /// Current restic (0.17 and later), the default: counts may be <see cref="RetentionPolicy.Unlimited"/>; while a
    /// count rule still has room, the oldest item of a group is kept too ("oldest daily snapshot"); an empty policy
    /// is refused unless removing everything is allowed explicitly; a policy that would keep nothing of a group is
    /// refused.
    /// </summary>
    Current = 0,

    /// <summary>
    /// restic 0.14 (Debian bookworm's package): no unlimited counts (a negative count switches its rule off but still
    /// makes the policy non-empty), no "oldest" rule, an empty policy keeps everything ("policy is empty"), and a
    /// policy may remove every item of a group.
    /// </summary>
    V0_14 = 1,
}
