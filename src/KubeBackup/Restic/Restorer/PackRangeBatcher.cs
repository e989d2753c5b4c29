using KubeBackup.Restic.Index;

namespace KubeBackup.Restic.Restorer;

/// <summary>One blob a restore needs: its ID, where it is stored, and what to do with it.</summary>
internal readonly record struct BlobRead<T>(ResticId Id, BlobLocation Location, T Item);

/// <summary>A stretch of one pack fetched with one read, and the blobs in it that are needed, by offset (the same blob
/// needed twice is adjacent).</summary>
internal sealed record PackRange<T>(ResticId Pack, long Offset, int Length, BlobRead<T>[] Reads);

/// <summary>
/// Gathers the reads of small blobs (files of one blob) by pack and hands them out as ranges of a pack, so a restore
/// of many small files makes one request per few dozen files instead of one per file: against object storage, where
/// each request costs a round trip and often money, that is most of the time such a restore takes. A backup stores
/// files in the order it walks them, so the files a restore walks in the same order sit close together in the same few
/// packs. What a batch may hold is bounded (reads per range, bytes per range, reads waiting): every waiting read is a
/// file the restore keeps open.
/// </summary>
internal sealed class PackRangeBatcher<T>
{
    /// <summary>The most blobs one range serves.</summary>
    public const int MaxReadsPerRange = 16;

    /// <summary>The most bytes one range spans (a single larger blob gets a range of its own).</summary>
    public const int MaxRangeBytes = 4 << 20;

    /// <summary>Unneeded bytes between two needed blobs that are still read through rather than split into two
    /// requests: less than a request's round trip costs on any remote store.</summary>
    public const int MaxGapBytes = 256 << 10;

    /// <summary>The most reads waiting across all packs before the fullest pack is sent anyway.</summary>
    public const int MaxWaiting = 64;

    private readonly Dictionary<ResticId, List<BlobRead<T>>> _byPack = [];
    private int _waiting;

    /// <summary>Reads waiting for their pack's batch to fill.</summary>
    public int Waiting => _waiting;

    /// <summary>Adds a read; returns the ranges now due (its pack has a full range, or too many reads wait), often
    /// none.</summary>
    public IReadOnlyList<PackRange<T>> Add(BlobRead<T> read)
    {
        if (!_byPack.TryGetValue(read.Location.PackId, out var reads))
        {
            reads = [];
            _byPack[read.Location.PackId] = reads;
        }

        reads.Add(read);
        _waiting++;
        if (reads.Count >= MaxReadsPerRange)
        {
            return Take(read.Location.PackId);
        }

        if (_waiting >= MaxWaiting)
        {
            var fullest = _byPack.MaxBy(p => p.Value.Count).Key;
            return Take(fullest);
        }

        return [];
    }

    /// <summary>Every read still waiting, as ranges.</summary>
    public IReadOnlyList<PackRange<T>> Flush()
    {
        var ranges = new List<PackRange<T>>();
        foreach (var pack in _byPack.Keys.ToArray())
        {
            ranges.AddRange(Take(pack));
        }

        return ranges;
    }

    private List<PackRange<T>> Take(ResticId pack)
    {
        var reads = _byPack[pack];
        _byPack.Remove(pack);
        _waiting -= reads.Count;
        return Cut(pack, reads);
    }

    /// <summary>Cuts one pack's reads into ranges: in offset order (the same blob's reads adjacent), a new range where
    /// the gap to the next blob, the span or the count would exceed the limits.</summary>
    internal static List<PackRange<T>> Cut(ResticId pack, List<BlobRead<T>> reads)
    {
        reads.Sort(static (a, b) =>
        {
            int c = a.Location.Offset.CompareTo(b.Location.Offset);
            return c != 0 ? c : a.Id.CompareTo(b.Id);
        });

        var ranges = new List<PackRange<T>>();
        int first = 0;
        long start = 0, end = 0;
        for (int i = 0; i < reads.Count; i++)
        {
            long offset = reads[i].Location.Offset, blobEnd = offset + reads[i].Location.Length;
            if (i > first && (i - first >= MaxReadsPerRange || offset > end + MaxGapBytes || Math.Max(end, blobEnd) - start > MaxRangeBytes))
            {
                ranges.Add(new PackRange<T>(pack, start, (int)(end - start), reads.GetRange(first, i - first).ToArray()));
                first = i;
            }

            if (i == first)
            {
                start = offset;
                end = blobEnd;
            }
            else
            {
                end = Math.Max(end, blobEnd);
            }
        }

        if (first < reads.Count)
        {
            ranges.Add(new PackRange<T>(pack, start, (int)(end - start), reads.GetRange(first, reads.Count - first).ToArray()));
        }

        return ranges;
    }
}
