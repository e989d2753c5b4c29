using System.Runtime.InteropServices;
using KubeBackup.Restic.Crypto;
using KubeBackup.Restic.Index;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Packs;

namespace KubeBackup.Restic.Checker;

/// <summary>
/// Every entry of every index file, as the checker needs them: unlike <see cref="MasterIndex"/>, which keeps one
/// location per blob, this keeps all of them, so that a blob stored twice, a pack listed by several index files, and
/// the exact set of entries of each pack are all visible.
/// </summary>
/// <remarks>
/// Memory is what bounds a check of a large repository, so an entry is a 48-byte struct in 64 Ki-entry chunks (no
/// object, no dictionary node per blob), plus two 4-byte permutations (by blob ID, by pack and offset) and 1 byte of
/// flags: 57 bytes per index entry. The chunks are filled while index files are read and never copied: sorting sorts
/// the permutations, so there is no moment with the entries held twice (copying them into one sorted array would
/// double the peak for a million entries from about 57 to over 100 MB). Lookups binary-search the ID permutation.
/// </remarks>
internal sealed class CheckerIndex
{
    private const int ChunkBits = 16;
    private const int ChunkSize = 1 << ChunkBits;

    /// <summary>The flag bits kept per entry.</summary>
    [Flags]
    public enum EntryFlags : byte
    {
        None = 0,
        /// <summary>(First entry of a blob) a snapshot uses the blob.</summary>
        Used = 1,
        /// <summary>(First entry of a tree) the tree walk has taken the tree.</summary>
        TreeQueued = 2,
        /// <summary>This copy of the blob is known to be damaged or unreachable.</summary>
        LocationBad = 4,
        /// <summary>(First entry of a tree) the damage walk has looked at the tree.</summary>
        ImpactVisited = 8,
        /// <summary>(First entry of a tree) the tree has damage at or below it.</summary>
        ImpactDirty = 16,
    }

    /// <summary>One index entry: blob ID, pack number and type, and position.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Entry
    {
        public ResticId Id;

        /// <summary>Pack number shifted left by one, with the low bit set for tree blobs.</summary>
        public int PackAndType;

        public uint Offset;
        public uint Length;
        public uint UncompressedLength;

        public readonly int Pack => PackAndType >> 1;

        public readonly BlobType Type => (PackAndType & 1) != 0 ? BlobType.Tree : BlobType.Data;

        public readonly bool IsCompressed => UncompressedLength != 0;
    }

    /// <summary>What the index says about one pack.</summary>
    public sealed class PackInfo(ResticId id, int firstIndexFile)
    {
        public ResticId Id { get; } = id;

        public int FirstIndexFile { get; } = firstIndexFile;

        /// <summary>Further index files listing the pack; null in the normal case of one.</summary>
        public List<int>? MoreIndexFiles { get; set; }

        /// <summary>36 + Σ length + Σ header entry size over the pack's distinct entries.</summary>
        public long ExpectedSize { get; set; }

        /// <summary>Where the pack's entries start in <see cref="ByPack"/>.</summary>
        public int Start { get; set; }

        /// <summary>How many distinct entries the pack has.</summary>
        public int Count { get; set; }

        public bool HasData { get; set; }

        public bool HasTree { get; set; }

        /// <summary>Whether the entries, by offset, leave gaps or overlap.</summary>
        public bool HasGapsOrOverlaps { get; set; }

        /// <summary>The pack file's size in storage, or -1 if the file does not exist (or was not listed yet).</summary>
        public long ActualSize { get; set; } = -1;

        public IEnumerable<int> IndexFiles => MoreIndexFiles is null ? [FirstIndexFile] : [FirstIndexFile, .. MoreIndexFiles];
    }

    private readonly Lock _lock = new();
    private readonly List<Entry[]> _chunks = [];
    private readonly List<ResticId> _indexFiles = [];
    private readonly List<PackInfo> _packs = [];
    private readonly Dictionary<ResticId, int> _packNumbers = [];
    private int _entryCount;
    private Entry[][] _entries = [];
    private int[] _sorted = [];
    private int _blobPositions;
    private byte[] _flags = [];
    private int[] _byPack = [];

    /// <summary>The index files read, by number.</summary>
    public IReadOnlyList<ResticId> IndexFiles => _indexFiles;

    /// <summary>The packs the index lists, by number.</summary>
    public IReadOnlyList<PackInfo> Packs => _packs;

    /// <summary>The number of distinct entries (after <see cref="Seal"/>): positions 0 to Count − 1 in ID order.</summary>
    public int Count => _blobPositions;

    /// <summary>One entry by its number (after <see cref="Seal"/>).</summary>
    public Entry this[int entry] => _entries[entry >> ChunkBits][entry & (ChunkSize - 1)];

    /// <summary>Entry numbers sorted by pack, then offset (after <see cref="Seal"/>).</summary>
    public ReadOnlySpan<int> ByPack => _byPack;

    /// <summary>Adds the entries of one index file. Thread-safe; not after <see cref="Seal"/>.</summary>
    public int AddIndexFile(ResticId indexFileId, IndexDocument document)
    {
        lock (_lock)
        {
            int file = _indexFiles.Count;
            _indexFiles.Add(indexFileId);
            foreach (var pack in document.Packs)
            {
                if (!_packNumbers.TryGetValue(pack.Id, out int number))
                {
                    number = _packs.Count;
                    _packs.Add(new PackInfo(pack.Id, file));
                    _packNumbers.Add(pack.Id, number);
                }
                else
                {
                    var info = _packs[number];
                    if (info.FirstIndexFile != file && !(info.MoreIndexFiles?.Contains(file) ?? false))
                    {
                        (info.MoreIndexFiles ??= []).Add(file);
                    }
                }

                foreach (var b in pack.Blobs)
                {
                    Append(new Entry
                    {
                        Id = b.Id,
                        PackAndType = (number << 1) | (b.Type == BlobType.Tree ? 1 : 0),
                        Offset = b.Offset,
                        Length = b.Length,
                        UncompressedLength = b.UncompressedLength,
                    });
                }
            }

            return file;
        }
    }

    private void Append(in Entry entry)
    {
        int inChunk = _entryCount & (ChunkSize - 1);
        if (inChunk == 0)
        {
            _chunks.Add(new Entry[ChunkSize]);
        }

        _chunks[^1][inChunk] = entry;
        _entryCount++;
    }

    /// <summary>Sorts and merges the entries and computes per-pack sizes. Entries that are identical in every field
    /// (the same pack listed by two index files) count once, as restic merges them; anything else stays.</summary>
    public void Seal()
    {
        var entries = _chunks.ToArray();
        _chunks.Clear();
        _entries = entries;
        int total = _entryCount;
        var sorted = new int[total];
        for (int i = 0; i < total; i++)
        {
            sorted[i] = i;
        }

        sorted.AsSpan().Sort(new EntryOrder(entries));
        int count = 0;
        for (int k = 0; k < total; k++)
        {
            if (count > 0 && EntryOrder.Same(this[sorted[count - 1]], this[sorted[k]]))
            {
                continue; // an identical entry from another index file: the copy left in the chunks is never used
            }

            sorted[count++] = sorted[k];
        }

        // The unused tail of the permutation is not worth a copy of the rest.
        _sorted = sorted;
        _blobPositions = count;
        _flags = new byte[total];

        // Pack order: a counting sort on the pack number, then each pack's slice by offset.
        var starts = new int[_packs.Count + 1];
        for (int k = 0; k < count; k++)
        {
            starts[this[sorted[k]].Pack + 1]++;
        }

        for (int p = 0; p < _packs.Count; p++)
        {
            starts[p + 1] += starts[p];
        }

        var byPack = new int[count];
        var fill = (int[])starts.Clone();
        for (int k = 0; k < count; k++)
        {
            int i = sorted[k];
            byPack[fill[this[i].Pack]++] = i;
        }

        _byPack = byPack;
        for (int p = 0; p < _packs.Count; p++)
        {
            var info = _packs[p];
            info.Start = starts[p];
            info.Count = starts[p + 1] - starts[p];
            var slice = byPack.AsSpan(info.Start, info.Count);
            slice.Sort(new OffsetOrder(entries));

            long size = CryptoKey.Overhead + 4;
            long end = 0;
            foreach (int i in slice)
            {
                var e = this[i];
                size += e.Length + PackHeader.EntrySize(e.IsCompressed);
                if (e.Offset != end)
                {
                    info.HasGapsOrOverlaps = true;
                }

                end = (long)e.Offset + e.Length;
                if (e.Type == BlobType.Tree)
                {
                    info.HasTree = true;
                }
                else
                {
                    info.HasData = true;
                }
            }

            info.ExpectedSize = size;
        }
    }

    /// <summary>The number of the pack with this ID, or -1.</summary>
    public int PackNumber(ResticId id) => _packNumbers.TryGetValue(id, out int n) ? n : -1;

    /// <summary>The position (in ID order) of a blob, or -1 if the index does not list it.</summary>
    public int Find(ResticId id, BlobType type)
    {
        int lo = 0, hi = _blobPositions;
        while (lo < hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            if (EntryOrder.CompareKey(this[_sorted[mid]], id, type) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo < _blobPositions && EntryOrder.CompareKey(this[_sorted[lo]], id, type) == 0 ? lo : -1;
    }

    /// <summary>The position after the last copy of the blob at <paramref name="position"/>, i.e. of the next blob.</summary>
    public int NextBlob(int position)
    {
        var first = this[_sorted[position]];
        int k = position + 1;
        while (k < _blobPositions && this[_sorted[k]].Id == first.Id && this[_sorted[k]].Type == first.Type)
        {
            k++;
        }

        return k;
    }

    /// <summary>The entry numbers of every copy of the blob at <paramref name="position"/>.</summary>
    public ReadOnlySpan<int> Copies(int position) => _sorted.AsSpan(position, NextBlob(position) - position);

    /// <summary>The entry that carries the blob-wide flags (used, queued, damage walk) of the blob at <paramref name="position"/>.</summary>
    public int Primary(int position) => _sorted[position];

    /// <summary>The entry's location in the form the repository's blob loader takes.</summary>
    public BlobLocation Location(int entry)
    {
        var e = this[entry];
        return new BlobLocation(_packs[e.Pack].Id, e.Type, e.Offset, e.Length, e.UncompressedLength);
    }

    public bool HasFlag(int entry, EntryFlags flag) => (Volatile.Read(ref _flags[entry]) & (byte)flag) != 0;

    /// <summary>Sets a flag atomically; true if this call set it (it was clear before).</summary>
    public bool SetFlag(int entry, EntryFlags flag)
    {
        ref byte cell = ref _flags[entry];
        while (true)
        {
            byte old = Volatile.Read(ref cell);
            if ((old & (byte)flag) != 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref cell, (byte)(old | (byte)flag), old) == old)
            {
                return true;
            }
        }
    }

    /// <summary>Whether every copy of the blob at <paramref name="position"/> is known to be bad.</summary>
    public bool AllCopiesBad(int position)
    {
        foreach (int entry in Copies(position))
        {
            if (!HasFlag(entry, EntryFlags.LocationBad))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The bytes held per entry once sealed: the entry, two permutations, flags.</summary>
    public static int BytesPerEntry => Marshal.SizeOf<Entry>() + 2 * sizeof(int) + sizeof(byte);

    /// <summary>Orders entry numbers by blob ID and type (the lookup key), then by every other field so exact
    /// duplicates are adjacent.</summary>
    private readonly struct EntryOrder(Entry[][] chunks) : IComparer<int>
    {
        public static int CompareKey(in Entry e, ResticId id, BlobType type)
        {
            int c = e.Id.CompareTo(id);
            return c != 0 ? c : ((int)e.Type).CompareTo((int)type);
        }

        public static bool Same(in Entry a, in Entry b) =>
            a.Id == b.Id && a.PackAndType == b.PackAndType && a.Offset == b.Offset && a.Length == b.Length
            && a.UncompressedLength == b.UncompressedLength;

        public int Compare(int x, int y)
        {
            ref readonly var a = ref chunks[x >> ChunkBits][x & (ChunkSize - 1)];
            ref readonly var b = ref chunks[y >> ChunkBits][y & (ChunkSize - 1)];
            int c = a.Id.CompareTo(b.Id);
            if (c != 0) return c;
            c = (a.PackAndType & 1).CompareTo(b.PackAndType & 1);
            if (c != 0) return c;
            c = a.PackAndType.CompareTo(b.PackAndType);
            if (c != 0) return c;
            c = a.Offset.CompareTo(b.Offset);
            if (c != 0) return c;
            c = a.Length.CompareTo(b.Length);
            return c != 0 ? c : a.UncompressedLength.CompareTo(b.UncompressedLength);
        }
    }

    /// <summary>Orders the entry numbers of one pack by offset, then length.</summary>
    private readonly struct OffsetOrder(Entry[][] chunks) : IComparer<int>
    {
        public int Compare(int x, int y)
        {
            ref readonly var a = ref chunks[x >> ChunkBits][x & (ChunkSize - 1)];
            ref readonly var b = ref chunks[y >> ChunkBits][y & (ChunkSize - 1)];
            int c = a.Offset.CompareTo(b.Offset);
            return c != 0 ? c : a.Length.CompareTo(b.Length);
        }
    }
}
