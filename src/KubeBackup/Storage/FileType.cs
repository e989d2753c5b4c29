namespace KubeBackup.Storage;

/// <summary>The kinds of file a restic repository holds. Each maps to a fixed place in the backend's layout.</summary>
public enum FileType
{
    /// <summary>The repository configuration (<c>config</c>), encrypted with the master key.</summary>
    Config,
    /// <summary>A key file (<c>keys/ID</c>): plain JSON holding the master key sealed with a password-derived key.</summary>
    Key,
    /// <summary>A lock file (<c>locks/ID</c>).</summary>
    Lock,
    /// <summary>A snapshot (<c>snapshots/ID</c>).</summary>
    Snapshot,
    /// <summary>An index file (<c>index/ID</c>).</summary>
    Index,
    /// <summary>A pack of data or tree blobs (<c>data/XX/ID</c>).</summary>
    Pack,
}
