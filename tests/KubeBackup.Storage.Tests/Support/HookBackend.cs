using System.Runtime.CompilerServices;

namespace KubeBackup.Storage.Tests.Support;

/// <summary>A backend that passes everything to another one and lets a test act after each save.</summary>
public sealed class HookBackend(IBackend inner) : IBackend
{
    public Func<FileHandle, Task>? AfterSave { get; set; }

    public string Location => inner.Location;
    public int MaxConcurrency => inner.MaxConcurrency;
    public Task CreateAsync(CancellationToken cancellationToken = default) => inner.CreateAsync(cancellationToken);

    public async Task SaveAsync(FileHandle handle, Stream content, CancellationToken cancellationToken = default)
    {
        await inner.SaveAsync(handle, content, cancellationToken);
        if (AfterSave is { } hook)
        {
            await hook(handle);
        }
    }

    public ValueTask ReadAsync(FileHandle handle, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(handle, offset, destination, cancellationToken);

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

    public Task RemoveAsync(FileHandle handle, CancellationToken cancellationToken = default) => inner.RemoveAsync(handle, cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
