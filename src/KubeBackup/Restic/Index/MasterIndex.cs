using System.Runtime.InteropServices;
using KubeBackup.Restic.Model;

namespace KubeBackup.Restic.Index;

/// <summary>
/// Every blob the repository's index files know of, merged: blob → pack, offset and lengths. Packs are kept in a table
/// and entries refer to them by number, which keeps an entry at 16 bytes plus its key. Thread-safe.
/// </summary>
internal sealed class MasterIndex
{
    private readonly Lock _lock = new();
    private readonly List<ResticId> _packs = [];
    private readonly Dictionary<ResticId, int> _packNumbers = [];
    private readonly Dictionary<BlobKey, Entry> _blobs = [];
    private readonly HashSet<ResticId> _indexFiles = [];

    [StructLayout(LayoutKind.Auto)]
    private readonly record struct Entry(int Pack, uint Offset, uint Length, uint UncompressedLength);

    /// <summary>How many distinct blobs are known.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _blobs.Count;
            }
        }
    }

    /// <summary>How many packs are known.</summary>
    public int PackCount
    {
        get
        {
            lock (_lock)
            {
                return _packs.Count;
            }
        }
    }

    /// <summary>The IDs of the index files merged so far.</summary>
    public IReadOnlyCollection<ResticId> IndexFiles
    {
        get
        {
            lock (_lock)
            {
                return [.. _indexFiles];
            }
        }
    }

    /// <summary>Merges an index file's content.</summary>
    public void Add(ResticId indexFileId, IndexDocument document)
    {
        lock (_lock)
        {
            _indexFiles.Add(indexFileId);
            foreach (var pack in document.Packs)
            {
                AddPackLocked(pack.Id, pack.Blobs);
            }
        }
    }

    /// <summary>Adds the blobs of one pack (for example a pack this process just uploaded).</summary>
    public void AddPack(ResticId packId, IEnumerable<IndexBlob> blobs)
    {
        lock (_lock)
        {
            AddPackLocked(packId, blobs);
        }
    }

    private void AddPackLocked(ResticId packId, IEnumerable<IndexBlob> blobs)
    {
        if (!_packNumbers.TryGetValue(packId, out int pack))
        {
            pack = _packs.Count;
            _packs.Add(packId);
            _packNumbers.Add(packId, pack);
        }

        foreach (var b in blobs)
        {
            // The same blob may be in several packs (two concurrent backups, or an interrupted prune); any copy will do.
            _blobs.TryAdd(new BlobKey(b.Id, b.Type), new Entry(pack, b.Offset, b.Length, b.UncompressedLength));
        }
    }

    /// <summary>Whether the blob is known.</summary>
    public bool Contains(ResticId id, BlobType type)
    {
        lock (_lock)
        {
            return _blobs.ContainsKey(new BlobKey(id, type));
        }
    }

    /// <summary>Finds a blob.</summary>
    public bool TryGet(ResticId id, BlobType type, out BlobLocation location)
    {
        lock (_lock)
        {
            if (_blobs.TryGetValue(new BlobKey(id, type), out var e))
            {
                location = new BlobLocation(_packs[e.Pack], type, e.Offset, e.Length, e.UncompressedLength);
                return true;
            }
        }

        location = default;
        return false;
    }

    /// <summary>Forgets everything, for example after prune rewrote the index files.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _packs.Clear();
            _packNumbers.Clear();
            _blobs.Clear();
            _indexFiles.Clear();
        }
    }

    /// <summary>Whether any blob is in the given pack.</summary>
    public bool ContainsPack(ResticId packId)
    {
        lock (_lock)
        {
            return _packNumbers.ContainsKey(packId);
        }
    }
}
