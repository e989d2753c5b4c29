using System.Buffers;
using System.Collections.Concurrent;
using KubeBackup.Restic.Chunking;
using KubeBackup.Restic.Compression;
using KubeBackup.Restic.Crypto;
using KubeBackup.Restic.Index;
using KubeBackup.Restic.Json;
using KubeBackup.Restic.Model;
using KubeBackup.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KubeBackup.Restic.Repository;

/// <summary>
/// An open restic repository: its configuration, its master key and its index, over a <see cref="IBackend"/>.
/// Everything a restic repository holds is reachable from here — snapshots, trees, blobs — and the archiver and the
/// restorer work through it. Thread-safe.
/// </summary>
public sealed partial class ResticRepository : IAsyncDisposable
{
    /// <summary>The largest metadata file (snapshot, index, lock) we decompress; restic's own are far smaller.</summary>
    private const int MaxMetadataSize = 512 * 1024 * 1024;

    private readonly ILogger _logger;

    private ResticRepository(IBackend backend, CryptoKey key, ResticId keyId, RepositoryConfig config, ResticRepositoryOptions options)
    {
        Backend = backend;
        Key = key;
        KeyId = keyId;
        Config = config;
        Options = options;
        _logger = options.LoggerFactory?.CreateLogger<ResticRepository>() ?? NullLogger<ResticRepository>.Instance;
    }

    /// <summary>The storage the repository lives in.</summary>
    public IBackend Backend { get; }

    /// <summary>The repository's configuration (format version, ID, chunker polynomial).</summary>
    public RepositoryConfig Config { get; }

    /// <summary>The key file the password opened.</summary>
    public ResticId KeyId { get; private set; }

    /// <summary>The options the repository was opened with.</summary>
    public ResticRepositoryOptions Options { get; }

    /// <summary>The merged index; filled by <see cref="LoadIndexAsync"/>.</summary>
    internal MasterIndex Index { get; } = new();

    /// <summary>The exclusive lock this object holds, if any; exclusive operations run under it (see
    /// <see cref="Locking.RepositoryLock.AcquireExclusiveForOperationAsync"/>).</summary>
    internal Locking.RepositoryLock? HeldExclusiveLock;

    internal CryptoKey Key { get; }

    internal ILogger Logger => _logger;

    /// <summary>Whether blobs and metadata may be compressed (format 2).</summary>
    public bool SupportsCompression => Config.Version >= 2;

    /// <summary>Creates a new repository in an empty location and opens it.</summary>
    /// <exception cref="RepositoryException">The location already holds a repository, or the options are invalid.</exception>
    public static async Task<ResticRepository> InitAsync(IBackend backend, string password, RepositoryInitOptions? initOptions = null,
        ResticRepositoryOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentException.ThrowIfNullOrEmpty(password);
        initOptions ??= new RepositoryInitOptions();
        options ??= new ResticRepositoryOptions();
        options.Validate();
        if (initOptions.Version is not (1 or 2))
        {
            throw new RepositoryException($"Repository format {initOptions.Version} is not supported; use 1 or 2.");
        }

        try
        {
            await backend.StatAsync(FileHandle.Config, cancellationToken).ConfigureAwait(false);
            throw new RepositoryException($"{backend.Location} already holds a repository.");
        }
        catch (StorageFileNotFoundException)
        {
        }

        var polynomial = initOptions.ChunkerPolynomial ?? ChunkerPolynomial.CreateRandom();
        if (!polynomial.IsIrreducible || polynomial.Degree > 53)
        {
            throw new RepositoryException("The chunker polynomial must be irreducible and of degree at most 53.");
        }

        var config = new RepositoryConfig { Version = (uint)initOptions.Version, Id = ResticId.Random(), ChunkerPolynomial = polynomial };
        var master = CryptoKey.CreateRandom();
        await backend.CreateAsync(cancellationToken).ConfigureAwait(false);
        var keyId = await KeyFiles.AddAsync(backend, master, password, initOptions.KeyDerivation, options.Hostname, options.Username, cancellationToken).ConfigureAwait(false);

        // The config is sealed whole and never compressed, even in format 2.
        var json = new ArrayBufferWriter<byte>(256);
        ResticJson.WriteConfig(config, json);
        using (var ms = new MemoryStream(master.Seal(json.WrittenSpan), writable: false))
        {
            await backend.SaveAsync(FileHandle.Config, ms, cancellationToken).ConfigureAwait(false);
        }

        var repo = new ResticRepository(backend, master, keyId, config, options);
        repo._logger.LogInformation("Created repository {RepositoryId} (format {Version}) at {Location}", config.Id.ToShortString(), config.Version, backend.Location);
        return repo;
    }

    /// <summary>Opens an existing repository with a password. The index is not loaded yet: call <see cref="LoadIndexAsync"/>
    /// (the archiver, restorer and checker do it themselves).</summary>
    /// <exception cref="RepositoryNotFoundException">No repository is at the location.</exception>
    /// <exception cref="WrongPasswordException">The password opens no key.</exception>
    /// <exception cref="IntegrityException">The config file is damaged.</exception>
    public static async Task<ResticRepository> OpenAsync(IBackend backend, string password, ResticRepositoryOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(password);
        options ??= new ResticRepositoryOptions();
        options.Validate();

        StorageFileInfo configInfo;
        try
        {
            configInfo = await backend.StatAsync(FileHandle.Config, cancellationToken).ConfigureAwait(false);
        }
        catch (StorageFileNotFoundException ex)
        {
            throw new RepositoryNotFoundException($"There is no repository at {backend.Location} (no config file).", ex);
        }

        var (master, keyId) = await KeyFiles.OpenAsync(backend, password, cancellationToken).ConfigureAwait(false);
        var sealedConfig = new byte[configInfo.Size];
        await backend.ReadAsync(FileHandle.Config, 0, sealedConfig, cancellationToken).ConfigureAwait(false);
        if (sealedConfig.Length < CryptoKey.Overhead)
        {
            throw new IntegrityException("file is too short", "config");
        }

        var plain = master.Open(sealedConfig, "config");
        RepositoryConfig config;
        try
        {
            config = ResticJson.ReadConfig(plain);
        }
        catch (FormatException ex)
        {
            throw new IntegrityException($"config is malformed: {ex.Message}", "config", ex);
        }

        if (config.Version is not (1 or 2))
        {
            throw new RepositoryException($"Repository format {config.Version} is not supported (this library reads formats 1 and 2).");
        }

        if (config.ChunkerPolynomial.Degree > 53 || !config.ChunkerPolynomial.IsIrreducible)
        {
            throw new RepositoryException("The repository's chunker polynomial is not irreducible; restic refuses such a repository too.");
        }

        return new ResticRepository(backend, master, keyId, config, options);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    // ---------------------------------------------------------------------------------------------------------------
    // Metadata files: snapshots, index and locks are sealed JSON; format 2 may zstd-compress them.

    /// <summary>Reads, verifies and decodes a snapshot, index or lock file.</summary>
    /// <exception cref="IntegrityException">The content does not hash to the name, fails its MAC, or is malformed.</exception>
    internal async Task<byte[]> LoadJsonFileAsync(FileHandle handle, CancellationToken cancellationToken)
    {
        var info = await Backend.StatAsync(handle, cancellationToken).ConfigureAwait(false);
        if (info.Size < CryptoKey.Overhead)
        {
            throw new IntegrityException($"file is too short ({info.Size} bytes)", handle.RelativePath);
        }

        if (info.Size > MaxMetadataSize)
        {
            throw new IntegrityException($"file is implausibly large ({info.Size} bytes)", handle.RelativePath);
        }

        var data = new byte[info.Size];
        await Backend.ReadAsync(handle, 0, data, cancellationToken).ConfigureAwait(false);
        if (ResticId.Hash(data) != ResticId.Parse(handle.Name))
        {
            throw new IntegrityException("content does not match its name (SHA-256 differs)", handle.RelativePath);
        }

        var plain = Key.Open(data, handle.RelativePath);
        return DecodePayload(plain, handle.RelativePath);
    }

    private byte[] DecodePayload(byte[] plain, string fileName)
    {
        if (Config.Version < 2 || plain.Length == 0 || plain[0] is (byte)'{' or (byte)'[')
        {
            return plain;
        }

        if (plain[0] != 2)
        {
            throw new IntegrityException($"unsupported encoding format {plain[0]}", fileName);
        }

        try
        {
            return Zstd.Decompress(plain.AsSpan(1), MaxMetadataSize);
        }
        catch (FormatException ex)
        {
            throw new IntegrityException(ex.Message, fileName, ex);
        }
    }

    /// <summary>Seals JSON (compressed in format 2) and saves it under its hash; returns the ID.</summary>
    internal async Task<ResticId> SaveJsonFileAsync(FileType type, ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
    {
        // Compressed (format 2) and sealed in one pooled buffer, laid out as the file is: IV, body, MAC. The body is
        // encrypted in place, so an eight-megabyte index file costs one rented buffer instead of three new arrays.
        int bodyCapacity = SupportsCompression ? 1 + Zstd.CompressBound(json.Length) : json.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(bodyCapacity + CryptoKey.Overhead);
        try
        {
            var body = buffer.AsSpan(CryptoKey.IvSize, bodyCapacity);
            int n;
            if (SupportsCompression)
            {
                body[0] = 2;
                n = 1 + Zstd.Compress(json.Span, body[1..], Zstd.DefaultLevel);
            }
            else
            {
                json.Span.CopyTo(body);
                n = json.Length;
            }

            int sealedLength = n + CryptoKey.Overhead;
            Key.Seal(body[..n], buffer.AsSpan(0, sealedLength));
            var id = ResticId.Hash(buffer.AsSpan(0, sealedLength));
            using var ms = new MemoryStream(buffer, 0, sealedLength, writable: false);
            await Backend.SaveAsync(new FileHandle(type, id.ToString()), ms, cancellationToken).ConfigureAwait(false);
            return id;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Index

    /// <summary>Reads every index file into <see cref="Index"/>, several at once. Index files already loaded are skipped,
    /// so calling it again picks up what other writers added.</summary>
    public async Task LoadIndexAsync(CancellationToken cancellationToken = default)
    {
        var known = Index.IndexFiles.ToHashSet();
        var files = new List<StorageFileInfo>();
        await foreach (var f in Backend.ListAsync(FileType.Index, cancellationToken).ConfigureAwait(false))
        {
            if (!known.Contains(ResticId.Parse(f.Name)))
            {
                files.Add(f);
            }
        }

        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Backend.MaxConcurrency), CancellationToken = cancellationToken },
            async (f, ct) =>
            {
                var handle = new FileHandle(FileType.Index, f.Name);
                var json = await LoadJsonFileAsync(handle, ct).ConfigureAwait(false);
                IndexDocument doc;
                try
                {
                    doc = ResticJson.ReadIndex(json);
                }
                catch (FormatException ex)
                {
                    throw new IntegrityException($"index is malformed: {ex.Message}", handle.RelativePath, ex);
                }

                if (!SupportsCompression && doc.Packs.Any(p => p.Blobs.Any(b => b.IsCompressed)))
                {
                    throw new IntegrityException("index uses compression, which repository format 1 does not support", handle.RelativePath);
                }

                Index.Add(ResticId.Parse(f.Name), doc);
            }).ConfigureAwait(false);
        _logger.LogDebug("Loaded {IndexFiles} index files: {Blobs} blobs in {Packs} packs", files.Count, Index.Count, Index.PackCount);
    }

    /// <summary>Writes index files for freshly uploaded packs, at most <paramref name="maxBlobsPerFile"/> blobs each.</summary>
    internal async Task<List<ResticId>> SaveIndexAsync(IReadOnlyList<IndexPack> packs, int maxBlobsPerFile, CancellationToken cancellationToken, bool addToIndex = true)
    {
        var written = new List<ResticId>();
        var current = new IndexDocument();
        int blobs = 0;
        foreach (var pack in packs)
        {
            if (blobs > 0 && blobs + pack.Blobs.Count > maxBlobsPerFile)
            {
                written.Add(await WriteIndexFileAsync(current, addToIndex, cancellationToken).ConfigureAwait(false));
                current = new IndexDocument();
                blobs = 0;
            }

            current.Packs.Add(pack);
            blobs += pack.Blobs.Count;
        }

        if (current.Packs.Count > 0)
        {
            written.Add(await WriteIndexFileAsync(current, addToIndex, cancellationToken).ConfigureAwait(false));
        }

        return written;
    }

    private async Task<ResticId> WriteIndexFileAsync(IndexDocument doc, bool addToIndex, CancellationToken cancellationToken)
    {
        using var json = new PooledBufferWriter(ArrayPool<byte>.Shared, doc.Packs.Sum(p => 64 + p.Blobs.Count * 160));
        ResticJson.WriteIndex(doc, json);
        var id = await SaveJsonFileAsync(FileType.Index, json.WrittenMemory, cancellationToken).ConfigureAwait(false);
        if (addToIndex)
        {
            Index.Add(id, doc);
        }

        return id;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Blobs

    /// <summary>Loads a blob, verifying its MAC and that its plaintext hashes to its ID.</summary>
    /// <exception cref="NotFoundException">The blob is not in the index.</exception>
    /// <exception cref="IntegrityException">The stored blob is damaged.</exception>
    public async Task<byte[]> LoadBlobAsync(BlobType type, ResticId id, CancellationToken cancellationToken = default)
    {
        if (!Index.TryGet(id, type, out var location))
        {
            throw new NotFoundException($"{type.ToString().ToLowerInvariant()} blob {id} is not in the index");
        }

        var result = new byte[location.PlaintextLength];
        await LoadBlobAsync(id, location, result, cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>Loads a blob at a known location into <paramref name="destination"/> (exactly its plaintext length).</summary>
    /// <param name="id">The blob.</param>
    /// <param name="location">Where the index says it is.</param>
    /// <param name="destination">Exactly the blob's plaintext length.</param>
    /// <param name="cancellationToken">Stops the read.</param>
    internal async Task LoadBlobAsync(ResticId id, BlobLocation location, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var handle = new FileHandle(FileType.Pack, location.PackId.ToString());
        var pool = ArrayPool<byte>.Shared;
        var stored = pool.Rent((int)location.Length);
        try
        {
            await Backend.ReadAsync(handle, location.Offset, stored.AsMemory(0, (int)location.Length), cancellationToken).ConfigureAwait(false);
            OpenBlob(id, location, stored.AsSpan(0, (int)location.Length), destination.Span, handle.RelativePath);
        }
        finally
        {
            pool.Return(stored);
        }
    }

    /// <summary>Reads part of a pack: the restorer fetches the blobs of several small files in one read.</summary>
    internal ValueTask ReadPackRangeAsync(ResticId pack, long offset, Memory<byte> destination, CancellationToken cancellationToken) =>
        Backend.ReadAsync(new FileHandle(FileType.Pack, pack.ToString()), offset, destination, cancellationToken);

    /// <summary>Decrypts (in place), decompresses and verifies one stored blob into <paramref name="destination"/>.</summary>
    internal void OpenBlob(ResticId id, BlobLocation location, Span<byte> stored, Span<byte> destination, string fileName)
    {
        var plaintext = OpenBlobInPlace(id, location, stored, location.IsCompressed ? destination : [], fileName);
        if (!location.IsCompressed)
        {
            if (plaintext.Length != destination.Length)
            {
                throw new IntegrityException($"blob {id.ToShortString()} has {plaintext.Length} bytes, the index says {destination.Length}", fileName);
            }

            plaintext.CopyTo(destination);
        }
    }

    /// <summary>Decrypts one stored blob in place and verifies it, keeping no plaintext: only a compressed blob needs a
    /// buffer to decompress into, rented from <paramref name="pool"/> and given back (check and prune verify blobs this
    /// way).</summary>
    /// <exception cref="IntegrityException">The blob fails authentication, decompression or its ID.</exception>
    internal void VerifyBlobInPlace(ResticId id, BlobLocation location, Span<byte> stored, string fileName, ArrayPool<byte> pool)
    {
        byte[]? plaintext = location.IsCompressed ? pool.Rent((int)location.PlaintextLength) : null;
        try
        {
            OpenBlobInPlace(id, location, stored, plaintext.AsSpan(0, plaintext is null ? 0 : (int)location.PlaintextLength), fileName);
        }
        finally
        {
            if (plaintext is not null)
            {
                pool.Return(plaintext);
            }
        }
    }

    /// <summary>
    /// Decrypts one stored blob in place and verifies it. An uncompressed blob's plaintext is returned where it lies
    /// (a slice of <paramref name="stored"/>; <paramref name="destination"/> is not used); a compressed one is
    /// decompressed into <paramref name="destination"/> (exactly its plaintext length), which is returned.
    /// </summary>
    internal ReadOnlySpan<byte> OpenBlobInPlace(ResticId id, BlobLocation location, Span<byte> stored, Span<byte> destination, string fileName)
    {
        if (stored.Length < CryptoKey.Overhead)
        {
            throw new IntegrityException($"blob {id.ToShortString()} is too short", fileName);
        }

        var plain = stored.Slice(CryptoKey.IvSize, stored.Length - CryptoKey.Overhead);
        if (!Key.TryOpen(stored, plain))
        {
            throw new IntegrityException($"blob {id.ToShortString()} failed authentication (MAC mismatch)", fileName);
        }

        ReadOnlySpan<byte> plaintext;
        if (location.IsCompressed)
        {
            try
            {
                Zstd.DecompressExact(plain, destination);
            }
            catch (FormatException ex)
            {
                throw new IntegrityException($"blob {id.ToShortString()}: {ex.Message}", fileName, ex);
            }

            plaintext = destination;
        }
        else
        {
            plaintext = plain;
        }

        if (ResticId.Hash(plaintext) != id)
        {
            throw new IntegrityException($"blob {id.ToShortString()} does not match its ID (SHA-256 differs)", fileName);
        }

        return plaintext;
    }

    /// <summary>Loads and decodes a tree blob.</summary>
    public async Task<Tree> LoadTreeAsync(ResticId id, CancellationToken cancellationToken = default)
    {
        var bytes = await LoadBlobAsync(BlobType.Tree, id, cancellationToken).ConfigureAwait(false);
        try
        {
            return ResticJson.ReadTree(bytes);
        }
        catch (FormatException ex)
        {
            throw new IntegrityException($"tree {id.ToShortString()} is malformed: {ex.Message}", null, ex);
        }
    }

    /// <summary>Seals a blob's plaintext for a pack: compresses it where the format and policy say so, then encrypts.
    /// Returns the stored length; <paramref name="uncompressedLength"/> is the plaintext length if compressed, else 0.</summary>
    /// <param name="type">Data or tree.</param>
    /// <param name="plaintext">The blob.</param>
    /// <param name="destination">At least <see cref="MaxSealedLength"/> bytes.</param>
    /// <param name="uncompressedLength">Set to the plaintext length if the blob was compressed, else 0.</param>
    /// <param name="keepCompressed">Store the compressed form even if it is not smaller (prune's recompression, which
    /// must not find the blob uncompressed again next time).</param>
    internal int SealBlob(BlobType type, ReadOnlySpan<byte> plaintext, Span<byte> destination, out uint uncompressedLength, bool keepCompressed = false)
    {
        uncompressedLength = 0;
        if (TriesCompression(type, plaintext.Length))
        {
            var body = destination[CryptoKey.IvSize..^CryptoKey.MacSize];
            int n = Zstd.Compress(plaintext, body, Zstd.LevelFor(Options.Compression));
            // Data that does not shrink is stored as it is: restoring and checking it then skips decompression.
            // Trees stay compressed, as restic's format 2 requires of tree packs.
            if (n < plaintext.Length || type == BlobType.Tree || keepCompressed)
            {
                uncompressedLength = (uint)plaintext.Length;
                Key.Seal(body[..n], destination[..(n + CryptoKey.Overhead)]);
                return n + CryptoKey.Overhead;
            }
        }

        Key.Seal(plaintext, destination[..(plaintext.Length + CryptoKey.Overhead)]);
        return plaintext.Length + CryptoKey.Overhead;
    }

    /// <summary>Whether <see cref="SealBlob"/> tries to compress a blob of this type and length; if not, it is sealed
    /// as it is.</summary>
    internal bool TriesCompression(BlobType type, int length) =>
        SupportsCompression && length > 0 && (type == BlobType.Tree || Options.Compression != CompressionMode.Off);

    /// <summary>The largest sealed size of a blob of <paramref name="plaintextLength"/> bytes.</summary>
    internal static int MaxSealedLength(int plaintextLength) => Math.Max(plaintextLength, Zstd.CompressBound(plaintextLength)) + CryptoKey.Overhead;

    // ---------------------------------------------------------------------------------------------------------------
    // Snapshots

    /// <summary>Loads every snapshot, several at once, sorted oldest first.</summary>
    public async Task<IReadOnlyList<Snapshot>> ListSnapshotsAsync(CancellationToken cancellationToken = default)
    {
        var files = new List<StorageFileInfo>();
        await foreach (var f in Backend.ListAsync(FileType.Snapshot, cancellationToken).ConfigureAwait(false))
        {
            files.Add(f);
        }

        var snapshots = new ConcurrentBag<Snapshot>();
        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Backend.MaxConcurrency), CancellationToken = cancellationToken },
            async (f, ct) => snapshots.Add(await LoadSnapshotAsync(ResticId.Parse(f.Name), ct).ConfigureAwait(false))).ConfigureAwait(false);
        return [.. snapshots.OrderBy(s => s.Time).ThenBy(s => s.Id)];
    }

    /// <summary>Loads one snapshot by its full ID.</summary>
    public async Task<Snapshot> LoadSnapshotAsync(ResticId id, CancellationToken cancellationToken = default)
    {
        var handle = new FileHandle(FileType.Snapshot, id.ToString());
        byte[] json;
        try
        {
            json = await LoadJsonFileAsync(handle, cancellationToken).ConfigureAwait(false);
        }
        catch (StorageFileNotFoundException)
        {
            throw new SnapshotNotFoundException($"snapshot {id.ToShortString()} does not exist");
        }

        try
        {
            var snapshot = ResticJson.ReadSnapshot(json);
            snapshot.Id = id;
            return snapshot;
        }
        catch (FormatException ex)
        {
            throw new IntegrityException($"snapshot is malformed: {ex.Message}", handle.RelativePath, ex);
        }
    }

    /// <summary>Writes a snapshot and returns it with its new ID.</summary>
    internal async Task<Snapshot> SaveSnapshotAsync(Snapshot snapshot, CancellationToken cancellationToken)
    {
        var json = new ArrayBufferWriter<byte>(1024);
        ResticJson.WriteSnapshot(snapshot, json);
        snapshot.Id = await SaveJsonFileAsync(FileType.Snapshot, json.WrittenMemory, cancellationToken).ConfigureAwait(false);
        return snapshot;
    }
}
