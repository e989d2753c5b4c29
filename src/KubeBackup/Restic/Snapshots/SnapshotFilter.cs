using KubeBackup.Restic.Model;
using KubeBackup.Retention;

namespace KubeBackup.Restic.Snapshots;

/// <summary>Selects snapshots as restic's <c>--host</c>, <c>--tag</c> and <c>--path</c> do.</summary>
public sealed class SnapshotFilter
{
    /// <summary>Snapshots of any of these hosts (empty: any host).</summary>
    public IList<string> Hosts { get; } = [];

    /// <summary>Tag lists: a snapshot matches if it has every tag of at least one list (restic's <c>--tag a,b --tag c</c>).
    /// Empty: any tags.</summary>
    public IList<IReadOnlyList<string>> Tags { get; } = [];

    /// <summary>Snapshots whose paths include all of these (empty: any paths).</summary>
    public IList<string> Paths { get; } = [];

    /// <summary>Whether a snapshot passes the filter.</summary>
    public bool Matches(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (Hosts.Count > 0 && !Hosts.Contains(snapshot.Hostname ?? ""))
        {
            return false;
        }

        // restic's matching, including its rule that the empty tag selects untagged snapshots (--tag '').
        if (!RetentionTags.HasAny(snapshot.Tags, Tags))
        {
            return false;
        }

        if (Paths.Count > 0)
        {
            var paths = snapshot.Paths.Select(WithoutTrailingSlash).ToHashSet(StringComparer.Ordinal);
            if (!Paths.All(p => paths.Contains(WithoutTrailingSlash(p))))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>"/data/" and "/data" name the same folder; the root stays "/" however many slashes it is written with.</summary>
    private static string WithoutTrailingSlash(string path)
    {
        var trimmed = path.TrimEnd('/');
        return trimmed.Length == 0 && path.Length > 0 ? "/" : trimmed;
    }

    /// <summary>Picks one snapshot from a list: <c>latest</c> (the newest passing the filter), or a unique ID prefix.</summary>
    /// <exception cref="SnapshotNotFoundException">Nothing matches, or a prefix is ambiguous.</exception>
    public Snapshot Select(IReadOnlyList<Snapshot> snapshots, string idOrLatest)
    {
        ArgumentNullException.ThrowIfNull(snapshots);
        ArgumentException.ThrowIfNullOrEmpty(idOrLatest);
        if (idOrLatest == "latest")
        {
            return snapshots.Where(Matches).OrderByDescending(s => s.Time).FirstOrDefault()
                ?? throw new SnapshotNotFoundException("No snapshot matches the filter.");
        }

        var candidates = snapshots.Where(s => s.Id.HasPrefix(idOrLatest)).ToList();
        return candidates.Count switch
        {
            0 => throw new SnapshotNotFoundException($"No snapshot has an ID starting with '{idOrLatest}'."),
            1 => candidates[0],
            _ => throw new SnapshotNotFoundException($"The prefix '{idOrLatest}' is ambiguous: {candidates.Count} snapshots start with it."),
        };
    }
}
