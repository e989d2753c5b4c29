using KubeBackup.Restic.Model;

namespace KubeBackup.Retention;

/// <summary>
/// What the retention rules look at in an item: when it was taken (to the nanosecond, in the UTC offset it was
/// recorded in: the calendar buckets use that wall clock), and the host, paths and tags that grouping and
/// <c>--keep-tag</c> use. A restic snapshot maps to it directly; a CSI VolumeSnapshot maps its creation time, and
/// whatever identifies its source (cluster, namespace/claim, labels) to host, paths and tags.
/// </summary>
/// <param name="Time">The item's time with its UTC offset.</param>
/// <param name="Host">The host (null or empty: none).</param>
/// <param name="Paths">The item's paths (order does not matter).</param>
/// <param name="Tags">The item's tags (order does not matter).</param>
public sealed record RetentionSubject(GoTime Time, string? Host, IReadOnlyList<string> Paths, IReadOnlyList<string> Tags)
{
    /// <summary>Creates a subject from a <see cref="DateTimeOffset"/> (100 ns precision; its offset is kept).</summary>
    public RetentionSubject(DateTimeOffset time, string? host, IReadOnlyList<string> paths, IReadOnlyList<string> tags)
        : this(GoTime.FromDateTimeOffset(time), host, paths, tags)
    {
    }
}
