using System.Runtime.CompilerServices;
using KubeBackup.Platform;
using KubeBackup.Restic;
using Microsoft.Win32.SafeHandles;

namespace KubeBackup.Storage.Local;

/// <summary>Options of the local file-system backend.</summary>
public sealed class LocalBackendOptions
{
    /// <summary>The repository folder.</summary>
    public required string Path { get; set; }

    /// <summary>Whether saves are flushed to stable storage (file and folder <c>fsync</c>) before they count as done.
    /// On by default: a backup reported as complete must survive a power cut. Tests may turn it off for speed. A
    /// flushed pack also leaves the page cache (it is not read again by the backup that wrote it).</summary>
    public bool Durable { get; set; } = true;

    /// <summary>How many files may be read or written at once. Default: 2 per core, at least 4.</summary>
    public int MaxConcurrency { get; set; } = Math.Max(4, Environment.ProcessorCount * 2);
}

/// <summary>
/// The embedded default backend: a repository in a local folder, in restic's layout (<c>data/XX/ID</c>), written as
/// restic's own local backend writes it — temp file, fsync, rename, fsync of the folder, then read-only — so a crash
/// never leaves a partial file under a final name.
/// </summary>
public sealed class LocalBackend : IBackend, IStagingBackend
{
    private const int CopyBufferSize = 1 << 20;
    private readonly LocalBackendOptions _options;
    private readonly string _root;

    /// <summary>Creates the backend for a folder (which need not exist yet; <see cref="CreateAsync"/> makes it).</summary>
    public LocalBackend(string path) : this(new LocalBackendOptions { Path = path })
    {
    }

    /// <summary>Creates the backend with options.</summary>
    public LocalBackend(LocalBackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.Path);
        _options = options;
        _root = System.IO.Path.GetFullPath(options.Path);
    }

    /// <inheritdoc />
    public string Location => _root;

    /// <inheritdoc />
    public int MaxConcurrency => _options.MaxConcurrency;

    /// <inheritdoc />
    /// <remarks>True on the file systems of local disks and memory, where a renamed file is in every later listing;
    /// false on network and FUSE file systems (NFS, SMB, CephFS, s3fs...), whose clients cache folder listings.</remarks>
    public bool ListsSavedFilesAtOnce
    {
        get
        {
            if (_listsSavedFilesAtOnce is { } known)
            {
                return known;
            }

            // Remembered once the folder could be asked about; before it exists (or if statfs fails) the answer is the
            // safe one, and it is asked again next time.
            var type = PosixFile.FileSystemType(_root);
            bool local = IsLocalFileSystem(type);
            if (type is not null)
            {
                _listsSavedFilesAtOnce = local;
            }

            return local;
        }
    }

    private bool? _listsSavedFilesAtOnce;

    /// <summary>Whether a statfs type is a local disk or memory file system (linux/magic.h; ZFS's from OpenZFS).</summary>
    internal static bool IsLocalFileSystem(long? type) => type switch
    {
        0xEF53 => true,      // ext2, ext3, ext4
        0x58465342 => true,  // XFS
        0x9123683E => true,  // Btrfs
        0x01021994 => true,  // tmpfs
        0x858458F6 => true,  // ramfs
        0xF2F52010 => true,  // F2FS
        0x2FC12FC1 => true,  // ZFS
        0xCA451A4E => true,  // bcachefs
        0x794C7630 => true,  // overlayfs (a container's own file system, over local layers)
        _ => false,
    };

    /// <summary>The full path of a file in this repository.</summary>
    public string PathOf(FileHandle handle) => System.IO.Path.Combine(_root, handle.RelativePath);

    /// <inheritdoc />
    public Task CreateAsync(CancellationToken cancellationToken = default)
    {
        if (File.Exists(PathOf(FileHandle.Config)))
        {
            throw new RepositoryException($"{_root} already holds a repository (it has a config file).");
        }

        try
        {
            // restic creates all 256 data/XX folders up front; readers do not need them, but restic's own tools expect them.
            foreach (var dir in new[] { "keys", "locks", "snapshots", "index", "data" })
            {
                CreateDirectory(System.IO.Path.Combine(_root, dir));
            }

            for (int i = 0; i < 256; i++)
            {
                CreateDirectory(System.IO.Path.Combine(_root, "data", i.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StorageException($"Cannot create the repository folders in {_root}: {ex.Message}", ex);
        }

        return Task.CompletedTask;
    }

    private static void CreateDirectory(string path)
    {
        // 0700: a repository is private to its owner, as restic makes it.
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <inheritdoc />
    public async Task SaveAsync(FileHandle handle, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        string final = PathOf(handle);
        string dir = System.IO.Path.GetDirectoryName(final)!;
        // The temp name is not an ID, so listings skip it, and it lives in the target folder so rename is atomic.
        string temp = System.IO.Path.Combine(dir, $"{System.IO.Path.GetFileName(final)}-tmp-{Guid.NewGuid():N}");
        try
        {
            if (!Directory.Exists(dir))
            {
                CreateDirectory(dir);
            }

            await using (var fs = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                BufferSize = 0,
                Options = FileOptions.Asynchronous,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                PreallocationSize = content.CanSeek ? content.Length - content.Position : 0,
            }))
            {
                await content.CopyToAsync(fs, CopyBufferSize, cancellationToken).ConfigureAwait(false);
                if (_options.Durable)
                {
                    fs.Flush(flushToDisk: true);
                    if (handle.Type == FileType.Pack)
                    {
                        // As for a staged pack (CommitStagingFile): flushed, not read again, so out of the cache.
                        PosixFile.DropCachedPages(fs.SafeFileHandle);
                    }
                }
            }

            File.Move(temp, final, overwrite: true);
            if (_options.Durable)
            {
                SyncDirectory(dir);
            }

            // Files in a repository never change; read-only protects them from accidents.
            File.SetUnixFileMode(final, UnixFileMode.UserRead);
        }
        catch (Exception ex)
        {
            TryDelete(temp);
            if (ex is OperationCanceledException)
            {
                throw;
            }

            if (ex is IOException or UnauthorizedAccessException)
            {
                throw new StorageException($"Cannot save {handle.RelativePath} in {_root}: {ex.Message}", ex);
            }

            throw;
        }
    }

    SafeFileHandle? IStagingBackend.CreateStagingFile()
    {
        try
        {
            // data/ is where packs end up, so the link that names the file later stays on one file system.
            return PosixFile.CreateUnnamedFile(System.IO.Path.Combine(_root, "data"));
        }
        catch (PosixException)
        {
            return null;
        }
    }

    void IStagingBackend.CommitStagingFile(SafeFileHandle file, FileHandle handle)
    {
        string final = PathOf(handle);
        string dir = System.IO.Path.GetDirectoryName(final)!;
        try
        {
            // Read-only before it has a name, so the file is never visible writable; data before the name, so a
            // crash never leaves a name on missing data.
            PosixFile.ChangeMode(file, UnixFileMode.UserRead);
            if (_options.Durable)
            {
                PosixFile.Sync(file);
                // Written, flushed, and not read again by this process: its pages would only push other files (the
                // workload's own) out of the cache, and a backup writes gigabytes of them.
                PosixFile.DropCachedPages(file);
            }

            if (!Directory.Exists(dir))
            {
                CreateDirectory(dir);
            }

            if (!PosixFile.LinkUnnamedFile(file, final))
            {
                // The name exists (a retried save: the name is the content's hash). Replace it atomically, as a save
                // over an existing file does.
                string temp = System.IO.Path.Combine(dir, $"{System.IO.Path.GetFileName(final)}-tmp-{Guid.NewGuid():N}");
                PosixFile.LinkUnnamedFile(file, temp);
                try
                {
                    File.Move(temp, final, overwrite: true);
                }
                catch
                {
                    TryDelete(temp);
                    throw;
                }
            }

            if (_options.Durable)
            {
                SyncDirectory(dir);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StorageException($"Cannot save {handle.RelativePath} in {_root}: {ex.Message}", ex);
        }
    }

    private static void SyncDirectory(string dir)
    {
        // .NET cannot open a folder as a file; the POSIX layer can, and fsync on it makes the rename durable.
        using var handle = Platform.DirectoryHandle.Open(dir);
        handle.Sync();
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <inheritdoc />
    public async ValueTask ReadAsync(FileHandle handle, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        using var file = OpenHandle(handle);
        int done = 0;
        while (done < destination.Length)
        {
            int n;
            try
            {
                n = await RandomAccess.ReadAsync(file, destination[done..], offset + done, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new StorageException($"Cannot read {handle.RelativePath}: {ex.Message}", ex);
            }

            if (n == 0)
            {
                throw new StorageException($"{handle.RelativePath} is shorter than expected: wanted {destination.Length} bytes at offset {offset}, got {done}.");
            }

            done += n;
        }
    }

    /// <inheritdoc />
    public Task<Stream> OpenReadAsync(FileHandle handle, long offset = 0, long length = -1, CancellationToken cancellationToken = default)
    {
        var file = OpenHandle(handle);
        long size = RandomAccess.GetLength(file);
        if (offset > size)
        {
            file.Dispose();
            throw new StorageException($"{handle.RelativePath} has {size} bytes; cannot read from offset {offset}.");
        }

        var stream = new FileStream(file, FileAccess.Read, bufferSize: 0, isAsync: true);
        stream.Position = offset;
        long available = size - offset;
        return Task.FromResult<Stream>(length < 0 ? stream : new BoundedReadStream(stream, Math.Min(length, available)));
    }

    private Microsoft.Win32.SafeHandles.SafeFileHandle OpenHandle(FileHandle handle)
    {
        string path = PathOf(handle);
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new StorageFileNotFoundException(handle, ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StorageException($"Cannot open {handle.RelativePath}: {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    public Task<StorageFileInfo> StatAsync(FileHandle handle, CancellationToken cancellationToken = default)
    {
        var info = new FileInfo(PathOf(handle));
        if (!info.Exists)
        {
            throw new StorageFileNotFoundException(handle);
        }

        return Task.FromResult(new StorageFileInfo(handle.Name, info.Length));
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<StorageFileInfo> ListAsync(FileType type, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (type == FileType.Config)
        {
            var config = new FileInfo(PathOf(FileHandle.Config));
            if (config.Exists)
            {
                yield return new StorageFileInfo(string.Empty, config.Length);
            }

            yield break;
        }

        string dir = System.IO.Path.Combine(_root, FileHandle.DirectoryOf(type)!);
        if (!Directory.Exists(dir))
        {
            yield break;
        }

        var enumeration = new EnumerationOptions
        {
            RecurseSubdirectories = type == FileType.Pack,
            MaxRecursionDepth = 1,
            AttributesToSkip = 0,
            IgnoreInaccessible = false,
        };
        foreach (var file in new DirectoryInfo(dir).EnumerateFiles("*", enumeration))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!ResticId.IsIdName(file.Name))
            {
                continue;
            }

            long length;
            try
            {
                length = file.Length;
            }
            catch (FileNotFoundException)
            {
                // Removed between the directory read and the stat (a lock released while another process looked for
                // conflicting locks, say): it is not there any more, so it is not listed.
                continue;
            }

            yield return new StorageFileInfo(file.Name, length);
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task RemoveAsync(FileHandle handle, CancellationToken cancellationToken = default)
    {
        string path = PathOf(handle);
        if (!File.Exists(path))
        {
            throw new StorageFileNotFoundException(handle);
        }

        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StorageException($"Cannot remove {handle.RelativePath}: {ex.Message}", ex);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <inheritdoc />
    public override string ToString() => $"local:{_root}";
}
