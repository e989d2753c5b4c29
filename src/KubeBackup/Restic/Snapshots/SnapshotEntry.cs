using KubeBackup.Restic.Model;

namespace KubeBackup.Restic.Snapshots;

/// <summary>An item of a snapshot as <c>ls</c> lists it: its path in the snapshot and its node.</summary>
/// <param name="Path">Slash-separated path from the snapshot root, starting with '/'.</param>
/// <param name="Node">The node with its metadata.</param>
public sealed record SnapshotEntry(string Path, Node Node);
