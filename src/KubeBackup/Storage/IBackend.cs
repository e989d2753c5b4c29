namespace KubeBackup.Storage;

/// <summary>
/// Where a repository's files live. A backend stores whole files by <see cref="FileHandle"/> and knows nothing of their
/// content: encryption, packing and indexing happen above it. Implementations must be safe for concurrent use.
/// </summary>
/// <remarks>
/// Contract, shared with restic's backends:
/// <list type="bullet">
/// <item>A saved file becomes visible whole or not at all; a failed or cancelled save leaves no partial file under the final name.</item>
/// <item>Files are never modified in place. Saving a name that exists either fails or replaces it with identical content
/// (names are content hashes, so retrying a save is safe).</item>
/// <item>A missing file raises <see cref="StorageFileNotFoundException"/>; every other failure raises another
/// <see cref="StorageException"/> (or <see cref="OperationCanceledException"/>).</item>
/// <item>Listing skips names that are not restic IDs (for example temporary files).</item>
/// </list>
/// </remarks>
public interface IBackend : IAsyncDisposable
{
    /// <summary>A description of the location safe to show and log (no credentials).</summary>
    string Location { get; }

    /// <summary>How many operations the backend is happy to run at once; the engine uses it to size upload and download concurrency.</summary>
    int MaxConcurrency { get; }

    /// <summary>Whether a listing shows every file whose save has returned, to every process, at once (read-after-write
    /// consistency of listings). Taking a lock relies on it to skip restic's 200 ms pause before the second look for
    /// conflicting locks: the pause gives late-showing files time to appear, and where none show late, two processes
    /// that each write their lock before looking cannot both miss the other. False unless the backend knows better.</summary>
    bool ListsSavedFilesAtOnce => false;

    /// <summary>Creates the repository's folder structure. Fails with <see cref="RepositoryException"/> if a config file already exists.</summary>
    Task CreateAsync(CancellationToken cancellationToken = default);

    /// <summary>Saves a file atomically.</summary>
    /// <param name="handle">The file to write.</param>
    /// <param name="content">The content, read from its current position to its end. It must be seekable: the backend may rewind it to retry.</param>
    /// <param name="cancellationToken">Cancels the save; nothing is left under the final name.</param>
    Task SaveAsync(FileHandle handle, Stream content, CancellationToken cancellationToken = default);

    /// <summary>Reads <paramref name="destination"/>.Length bytes from <paramref name="offset"/>. A file too short to fill the buffer raises <see cref="StorageException"/>.</summary>
    ValueTask ReadAsync(FileHandle handle, long offset, Memory<byte> destination, CancellationToken cancellationToken = default);

    /// <summary>Opens a stream over part of a file, for reads too large to buffer. <paramref name="length"/> of <c>-1</c> reads to the end.</summary>
    Task<Stream> OpenReadAsync(FileHandle handle, long offset = 0, long length = -1, CancellationToken cancellationToken = default);

    /// <summary>Returns the size of a file, or raises <see cref="StorageFileNotFoundException"/>.</summary>
    Task<StorageFileInfo> StatAsync(FileHandle handle, CancellationToken cancellationToken = default);

    /// <summary>Lists the files of one type with their sizes, in no particular order.</summary>
    IAsyncEnumerable<StorageFileInfo> ListAsync(FileType type, CancellationToken cancellationToken = default);

    /// <summary>Removes a file. Removing a missing file raises <see cref="StorageFileNotFoundException"/>.</summary>
    Task RemoveAsync(FileHandle handle, CancellationToken cancellationToken = default);
}
