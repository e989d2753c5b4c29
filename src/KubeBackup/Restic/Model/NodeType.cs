namespace KubeBackup.Restic.Model;

/// <summary>The kind of a node in a tree (restic's <c>type</c> field).</summary>
public enum NodeType
{
    /// <summary><c>file</c></summary>
    File,
    /// <summary><c>dir</c></summary>
    Dir,
    /// <summary><c>symlink</c></summary>
    Symlink,
    /// <summary><c>dev</c>: a block device.</summary>
    Dev,
    /// <summary><c>chardev</c></summary>
    CharDev,
    /// <summary><c>fifo</c></summary>
    Fifo,
    /// <summary><c>socket</c></summary>
    Socket,
    /// <summary><c>irregular</c>: read only; never written, since <c>restic check</c> rejects it.</summary>
    Irregular,
}
