namespace KubeBackup.Storage;

/// <summary>Conveniences over <see cref="IBackend"/> that every backend and caller can share.</summary>
public static class BackendExtensions
{
    /// <summary>The size of a file, or null where there is no such file (every other failure still throws).</summary>
    public static async Task<StorageFileInfo?> TryStatAsync(this IBackend backend, FileHandle handle, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backend);
        try
        {
            return await backend.StatAsync(handle, cancellationToken).ConfigureAwait(false);
        }
        catch (StorageFileNotFoundException)
        {
            return null;
        }
    }
}
