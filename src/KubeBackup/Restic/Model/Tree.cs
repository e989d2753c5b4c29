namespace KubeBackup.Restic.Model;

/// <summary>The content of one folder: its nodes, sorted by the raw bytes of their names with no duplicates.</summary>
public sealed class Tree
{
    /// <summary>The nodes, sorted by name.</summary>
    public List<Node> Nodes { get; } = [];
}
