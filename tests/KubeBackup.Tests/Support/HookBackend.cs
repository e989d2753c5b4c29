using System.Runtime.CompilerServices;
using KubeBackup.Storage;

namespace KubeBackup.Tests.Support;

/// <summary>A backend that passes everything to another one and lets a test act before each save, read or removal (count, cancel, fail).</summary>
public sealed class HookBackend(IBackend inner) : IBackend
{
    public Func<FileHandle, Task>? BeforeSave { get; set; }

    public Func<FileHandle, Task>? BeforeRemove { get; set; }

    /// <summary>Overrides the inner backend's <see cref="IBackend.ListsSavedFilesAtOnce"/> (which decides whether
    /// taking a lock pauses before its second look); null passes it through.</summary>
    public bool? ListsAtOnce { get; set; }

    public bool ListsSavedFilesAtOnce => ListsAtOnce ?? inner.ListsSavedFilesAtOnce;

    public string Location => inner.Location;
    public int MaxConcurrency => inner.MaxConcurrency;
    public Task CreateAsync(CancellationToken cancellationToken = default) => inner.CreateAsync(cancellationToken);

    public async Task SaveAsync(FileHandle handle, Stream content, CancellationToken cancellationToken = default)
    {
        if (BeforeSave is { } hook)
        {
            await hook(handle);
        }

        await inner.SaveAsync(handle, content, cancellationToken);
    }

    /// <summary>Called before each ranged read (count them).</summary>
    public Action<FileHandle, long, int>? BeforeRead { get; set; }

    public ValueTask ReadAsync(FileHandle handle, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        BeforeRead?.Invoke(handle, offset, destination.Length);
        return inner.ReadAsync(handle, offset, destination, cancellationToken);
    }

    public Task<Stream> OpenReadAsync(FileHandle handle, long offset = 0, long length = -1, CancellationToken cancellationToken = default) =>
        inner.OpenReadAsync(handle, offset, length, cancellationToken);

    public Task<StorageFileInfo> StatAsync(FileHandle handle, CancellationToken cancellationToken = default) => inner.StatAsync(handle, cancellationToken);

    public async IAsyncEnumerable<StorageFileInfo> ListAsync(FileType type, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var f in inner.ListAsync(type, cancellationToken))
        {
            yield return f;
        }
    }

    public async Task RemoveAsync(FileHandle handle, CancellationToken cancellationToken = default)
    {
        if (BeforeRemove is { } hook)
        {
            await hook(handle);
        }

        await inner.RemoveAsync(handle, cancellationToken);
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
