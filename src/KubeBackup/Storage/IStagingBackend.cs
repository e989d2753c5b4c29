using Microsoft.Win32.SafeHandles;

namespace KubeBackup.Storage;

/// <summary>
/// A backend whose files live on a file system this process writes to directly. The engine stages a pack in an
/// unnamed file on that same file system and, once the pack is complete, the backend gives it its final name by
/// linking it: the pack is written once instead of once to a temp folder and again into the repository.
/// </summary>
internal interface IStagingBackend
{
    /// <summary>Creates an unnamed file, open for reading and writing, on the repository's file system; it vanishes with
    /// its handle however the process ends. Null when the file system cannot do this (the engine then stages in the
    /// temp folder and saves the usual way).</summary>
    SafeFileHandle? CreateStagingFile();

    /// <summary>Makes a complete staging file the repository file <paramref name="handle"/>, atomically and, when the
    /// backend is durable, durably. The caller still owns (and closes) <paramref name="file"/>.</summary>
    void CommitStagingFile(SafeFileHandle file, FileHandle handle);
}
