using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using KubeBackup.Restic.Crypto;
using KubeBackup.Restic.Model;
using Microsoft.Win32.SafeHandles;

namespace KubeBackup.Restic.Packs;

/// <summary>
/// Assembles one pack in a temporary file: sealed blobs are appended as they come, the pack's SHA-256 (its future name)
/// is computed on the way, and <see cref="Finish"/> appends the sealed header. Keeping packs on disk rather than in
/// memory keeps a backup's memory flat however many packs are waiting for upload. Not thread-safe; one writer per pack.
/// </summary>
internal sealed class PackWriter : IDisposable
{
    private readonly FileStream _file;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly List<PackBlob> _blobs = [];
    private long _size;
    private bool _finished;

    /// <param name="type">The blob type of the pack.</param>
    /// <param name="tempDirectory">Where to stage the pack when <paramref name="stagingFile"/> is null.</param>
    /// <param name="stagingFile">An unnamed file the backend made on its own file system
    /// (<see cref="Storage.IStagingBackend"/>); the pack takes ownership.</param>
    public PackWriter(BlobType type, string tempDirectory, SafeFileHandle? stagingFile = null)
    {
        Type = type;
        IsStagedInBackend = stagingFile is not null;
        // The file is only a staging area. Unnamed (O_TMPFILE), it lives exactly as long as this handle, so not even
        // a kill -9 leaves it behind; where unnamed files are unsupported, a named one is unlinked right after creation.
        var handle = stagingFile ?? Platform.PosixFile.CreateUnnamedFile(tempDirectory);
        if (handle is null)
        {
            string path = Path.Combine(tempDirectory, $"kubebackup-pack-{Guid.NewGuid():N}.tmp");
            handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.None);
            File.Delete(path);
        }

        // Blobs can be small (a 4 KiB tree): buffer them into fewer writes. Below the large object heap's threshold, so
        // the buffer of each pack is collected young; large blobs bypass it.
        _file = new FileStream(handle, FileAccess.ReadWrite, bufferSize: 64 << 10);
    }

    /// <summary>Whether the pack is staged in a file of the backend's (commit it with
    /// <see cref="Storage.IStagingBackend.CommitStagingFile"/>) rather than in the temp folder.</summary>
    public bool IsStagedInBackend { get; }

    /// <summary>The staging file, complete once <see cref="Finish"/> returned.</summary>
    public SafeFileHandle StagingFile => _file.SafeFileHandle;

    /// <summary>The blob type this pack holds (packs never mix data and trees).</summary>
    public BlobType Type { get; }

    /// <summary>Bytes written so far (blobs only, before the header).</summary>
    public long Size => _size;

    /// <summary>The blobs in the pack, in order.</summary>
    public IReadOnlyList<PackBlob> Blobs => _blobs;

    /// <summary>Appends a sealed blob.</summary>
    public void Add(ResticId id, ReadOnlySpan<byte> sealedBlob, uint uncompressedLength) => Add(id, [], sealedBlob, [], uncompressedLength);

    /// <summary>Appends a blob sealed in three parts (IV, ciphertext, MAC: see <see cref="Crypto.CryptoKey.SealInPlace"/>),
    /// written one after the other.</summary>
    public void Add(ResticId id, ReadOnlySpan<byte> head, ReadOnlySpan<byte> body, ReadOnlySpan<byte> tail, uint uncompressedLength)
    {
        int length = head.Length + body.Length + tail.Length;
        if (_finished)
        {
            throw new InvalidOperationException("The pack is finished.");
        }

        if (_size + length > uint.MaxValue)
        {
            throw new InvalidOperationException("A pack cannot exceed 4 GiB.");
        }

        Append(head);
        Append(body);
        Append(tail);

        _blobs.Add(new PackBlob(id, Type, (uint)_size, (uint)length, uncompressedLength));
        _size += length;
    }

    private void Append(ReadOnlySpan<byte> part)
    {
        _file.Write(part);
        _hash.AppendData(part);
    }

    /// <summary>Appends the sealed header and its length and returns the pack's ID, with the file rewound for upload.</summary>
    public ResticId Finish(CryptoKey key)
    {
        if (_blobs.Count == 0)
        {
            throw new InvalidOperationException("An empty pack cannot be written.");
        }

        int entriesLength = PackHeader.EntriesLength(_blobs);
        int sealedLength = entriesLength + CryptoKey.Overhead;
        var buffer = ArrayPool<byte>.Shared.Rent(sealedLength + 4);
        try
        {
            PackHeader.WriteEntries(_blobs, buffer.AsSpan(CryptoKey.IvSize, entriesLength));
            key.Seal(buffer.AsSpan(CryptoKey.IvSize, entriesLength), buffer.AsSpan(0, sealedLength));
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(sealedLength), (uint)sealedLength);
            var tail = buffer.AsSpan(0, sealedLength + 4);
            _file.Write(tail);
            _hash.AppendData(tail);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        _finished = true;
        _file.Flush();
        _file.Position = 0;
        return ResticId.FromBytes(_hash.GetHashAndReset());
    }

    /// <summary>The finished pack's content, rewound; the stream belongs to this writer.</summary>
    public Stream Content => _finished ? _file : throw new InvalidOperationException("The pack is not finished.");

    /// <summary>The finished pack's size including its header.</summary>
    public long FileSize => _file.Length;

    public void Dispose()
    {
        _file.Dispose();
        _hash.Dispose();
    }
}
