namespace KubeBackup.Restic.Model;

/// <summary>The two kinds of blob a pack holds.</summary>
public enum BlobType : byte
{
    /// <summary>A chunk of file content (<c>"data"</c>).</summary>
    Data = 0,
    /// <summary>A tree: the JSON of one folder (<c>"tree"</c>).</summary>
    Tree = 1,
}
