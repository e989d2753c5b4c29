using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KubeBackup.Restic.Chunking;

/// <summary>
/// restic's content-defined chunker (a Rabin fingerprint over a 64-byte window): it finds the cut points restic finds for
/// the same polynomial, so identical content deduplicates across restic and KubeBackup. Push-based: the caller feeds the
/// bytes of a stream in any pieces and is told where each chunk ends. One instance per stream at a time; not thread-safe.
/// </summary>
/// <remarks>
/// <para>restic's rule, restated: a chunk's first <c>MinSize − 64</c> bytes are not hashed; from there on every byte is
/// slid into the window, and after each byte the chunk is cut if it has at least <see cref="MinSize"/> bytes and either
/// the low 20 bits of the fingerprint are zero or it has reached <see cref="MaxSize"/> bytes. restic starts every chunk
/// with a zeroed window into which it slides one byte of value 1.</para>
/// <para>The window fingerprint is Σ wᵢ·X^(8i) mod P over the 64 bytes in the window, so once 64 bytes have been slid in
/// it depends on those 64 bytes only. The first cut test happens exactly when the 64th hashed byte has gone in, which is
/// also when restic's initial 1 (and the zeros) leave the window. So instead of replaying that start state this
/// implementation hashes the first 64 bytes into an empty fingerprint without removing anything, and only then starts
/// removing bytes: every fingerprint that is ever tested equals restic's.</para>
/// </remarks>
internal sealed class ContentDefinedChunker
{
    /// <summary>The smallest chunk, except the last of a stream (512 KiB).</summary>
    public const int MinSize = 512 * 1024;

    /// <summary>The largest chunk (8 MiB).</summary>
    public const int MaxSize = 8 * 1024 * 1024;

    private const int WindowSize = ChunkerTables.WindowSize;

    // A cut where the low 20 bits are zero: chunks average MinSize + 1 MiB.
    private const ulong SplitMask = (1UL << 20) - 1;

    // The chunk offset of the first hashed byte.
    private const int HashStart = MinSize - WindowSize;

    // restic accepts degree ≤ 53 (and only ever generates 53): the fingerprint and the 8 bits shifted past it must fit in
    // 64 bits. Tiny degrees are refused as well; their fingerprints would match the split mask at almost every byte.
    private const int MinDegree = 9;
    private const int MaxDegree = 53;

    // Interleaved hashing (see Scan): the number of chains, and the lane lengths. Short lanes would spend too much on
    // the 64-byte warm-up of each; long ones make the single-chain finish after a cut longer.
    private const int Lanes = 4;
    private const int MinLaneLength = 256;
    private const int MaxLaneLength = 16 * 1024;

    private readonly ulong[] _out;
    private readonly ulong[] _mod;
    private readonly int _polShift;

    // The last bytes of the current chunk that are in the window, each at [chunk offset % 64]. Only read for the
    // first 64 bytes of a piece (the outgoing byte lies in an earlier piece); inside a piece it is read from the piece.
    private readonly byte[] _window = new byte[WindowSize];

    // Bytes of the current chunk seen so far.
    private int _count;

    // The fingerprint after the last hashed byte (0 until hashing starts).
    private ulong _digest;

    /// <summary>Creates a chunker for a polynomial (tables are computed once per polynomial and shared).</summary>
    /// <exception cref="ArgumentException">The polynomial's degree is not between 9 and 53.</exception>
    public ContentDefinedChunker(ChunkerPolynomial polynomial)
    {
        var degree = polynomial.Degree;
        if (degree is < MinDegree or > MaxDegree)
        {
            throw new ArgumentException(
                $"The chunker polynomial {polynomial} has degree {degree}; it must be between {MinDegree} and {MaxDegree}.",
                nameof(polynomial));
        }

        var tables = ChunkerTables.For(polynomial.Value);
        _out = tables.Out;
        _mod = tables.Mod;
        _polShift = tables.PolShift;
    }

    /// <summary>Starts a new stream: forgets any partial chunk.</summary>
    public void Reset()
    {
        _count = 0;
        _digest = 0;
    }

    /// <summary>
    /// Scans the next bytes of the current chunk. Returns the number of bytes from the start of <paramref name="data"/>
    /// that complete the chunk (the cut is after the last of them; the chunker then starts the next chunk by itself),
    /// or -1 if <paramref name="data"/> ended without a cut (all of it belongs to the current chunk).
    /// At the end of the stream, whatever was scanned since the last cut is the final chunk.
    /// </summary>
    public int FindBoundary(ReadOnlySpan<byte> data)
    {
        var length = data.Length;
        var start = _count; // chunk offset of data[0]
        var pos = 0;

        // The unhashed prefix: only counted, never read.
        if (start < HashStart)
        {
            pos = Math.Min(HashStart - start, length);
            if (pos == length)
            {
                _count = start + length;
                return -1;
            }
        }

        ref var src = ref MemoryMarshal.GetReference(data);
        ref var outTable = ref MemoryMarshal.GetArrayDataReference(_out);
        ref var modTable = ref MemoryMarshal.GetArrayDataReference(_mod);
        var shift = _polShift;
        var digest = _digest;

        // The first 64 hashed bytes: append only (see the remarks); the cut test comes after the 64th.
        if (start + pos < MinSize)
        {
            var end = Math.Min(length, pos + (MinSize - (start + pos)));
            for (; pos < end; pos++)
            {
                digest = Append<AnyDegree>(digest, Unsafe.Add(ref src, pos), ref modTable, shift);
            }

            if (start + pos < MinSize)
            {
                return Suspend(data, start, pos, digest);
            }

            if ((digest & SplitMask) == 0)
            {
                return Cut(pos, digest);
            }
        }

        // Sliding: each byte goes in and the byte 64 before it comes out. The limit stops at MaxSize.
        var limit = Math.Min(length, pos + (MaxSize - (start + pos)));

        // Bytes whose outgoing byte belongs to an earlier piece take it from the ring.
        var ringEnd = Math.Min(limit, WindowSize);
        for (; pos < ringEnd; pos++)
        {
            digest ^= Unsafe.Add(ref outTable, _window[(start + pos) & (WindowSize - 1)]);
            digest = Append<AnyDegree>(digest, Unsafe.Add(ref src, pos), ref modTable, shift);
            if ((digest & SplitMask) == 0)
            {
                return Cut(pos + 1, digest);
            }
        }

        // The hot part: the outgoing byte is read from the piece itself, so no ring is maintained.
        if (pos < limit)
        {
            var cut = Scan(ref src, pos, limit, ref digest);
            if (cut >= 0)
            {
                return Cut(cut, digest);
            }

            pos = limit;
        }

        if (start + pos == MaxSize)
        {
            return Cut(pos, digest);
        }

        return Suspend(data, start, pos, digest);
    }

    // Looks for the first cut in data[pos..limit) (pos ≥ 64, so every outgoing byte is in data). Returns the index after
    // it, with `digest` at the cut, or -1 with `digest` after data[limit − 1].
    // A hot loop: jitted fully optimized at once. Tiered compilation would run it as slow tier-0 code first, a
    // noticeable share of a short backup.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Scan(ref byte src, int pos, int limit, ref ulong digest)
    {
        // The fingerprint after a byte depends only on the 64 bytes ending there, so separate stretches can be hashed
        // independently. A single chain is bound by the latency of its table lookup (each lookup's index comes from the
        // previous result); four interleaved chains keep the CPU busy. Four lanes are scanned at a time: of a fixed
        // length while the piece is long (the JIT then folds the lane offsets into the addressing), shorter at its end.
        // restic's polynomials all have degree 53, which gets a constant shift.
        var degree53 = _polShift == 45;
        while (limit - pos >= Lanes * MaxLaneLength)
        {
            var cut = degree53
                ? ScanLanes<FixedLaneLength, Degree53>(ref src, pos, MaxLaneLength, ref digest)
                : ScanLanes<FixedLaneLength, AnyDegree>(ref src, pos, MaxLaneLength, ref digest);
            if (cut >= 0)
            {
                return cut;
            }

            pos += Lanes * MaxLaneLength;
        }

        if (limit - pos >= Lanes * MinLaneLength)
        {
            var laneLength = (limit - pos) / Lanes;
            var cut = degree53
                ? ScanLanes<VariableLaneLength, Degree53>(ref src, pos, laneLength, ref digest)
                : ScanLanes<VariableLaneLength, AnyDegree>(ref src, pos, laneLength, ref digest);
            if (cut >= 0)
            {
                return cut;
            }

            pos += Lanes * laneLength;
        }

        return ScanSerial(ref src, pos, limit, ref digest);
    }

    // One chain over data[pos..limit).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int ScanSerial(ref byte src, int pos, int limit, ref ulong digest)
    {
        ref var outTable = ref MemoryMarshal.GetArrayDataReference(_out);
        ref var modTable = ref MemoryMarshal.GetArrayDataReference(_mod);
        var shift = _polShift;
        var d = digest;
        for (; pos < limit; pos++)
        {
            d = Slide<AnyDegree>(d, Unsafe.Add(ref src, pos - WindowSize), Unsafe.Add(ref src, pos), ref outTable, ref modTable, shift);
            if ((d & SplitMask) == 0)
            {
                digest = d;
                return pos + 1;
            }
        }

        digest = d;
        return -1;
    }

    // Four chains over four consecutive lanes of `length` bytes from data[pos]. Lane 0 continues from `digest`; lanes
    // 1-3 start from the fingerprint of the 64 bytes before them. A cut in a later lane only counts if no earlier lane
    // has one, so on the first hit the earlier lanes are finished one chain at a time.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int ScanLanes<TLength, TIndex>(ref byte src, int pos, int length, ref ulong digest)
        where TLength : struct, ILaneLength
        where TIndex : struct, ITableIndex
    {
        ref var outTable = ref MemoryMarshal.GetArrayDataReference(_out);
        ref var modTable = ref MemoryMarshal.GetArrayDataReference(_mod);
        var shift = _polShift;
        nint n = TLength.Get(length);
        ref var lane0 = ref Unsafe.Add(ref src, pos);

        var d0 = digest;
        ulong d1 = 0, d2 = 0, d3 = 0;
        for (nint i = -WindowSize; i < 0; i++)
        {
            d1 = Append<TIndex>(d1, Unsafe.Add(ref lane0, i + n), ref modTable, shift);
            d2 = Append<TIndex>(d2, Unsafe.Add(ref lane0, i + (2 * n)), ref modTable, shift);
            d3 = Append<TIndex>(d3, Unsafe.Add(ref lane0, i + (3 * n)), ref modTable, shift);
        }

        for (nint i = 0; i < n; i++)
        {
            ref var at = ref Unsafe.Add(ref lane0, i);
            d0 = Slide<TIndex>(d0, Unsafe.Add(ref at, -WindowSize), at, ref outTable, ref modTable, shift);
            d1 = Slide<TIndex>(d1, Unsafe.Add(ref at, n - WindowSize), Unsafe.Add(ref at, n), ref outTable, ref modTable, shift);
            d2 = Slide<TIndex>(d2, Unsafe.Add(ref at, (2 * n) - WindowSize), Unsafe.Add(ref at, 2 * n), ref outTable, ref modTable, shift);
            d3 = Slide<TIndex>(d3, Unsafe.Add(ref at, (3 * n) - WindowSize), Unsafe.Add(ref at, 3 * n), ref outTable, ref modTable, shift);

            // A cut needs 20 trailing zero bits. OR-ing the four trailing-zero counts keeps bit 4 (or higher) set iff some
            // lane has at least 16: a cheap filter that lets through one false alarm in about 16 Ki steps.
            if ((BitOperations.TrailingZeroCount(d0) | BitOperations.TrailingZeroCount(d1)
                | BitOperations.TrailingZeroCount(d2) | BitOperations.TrailingZeroCount(d3)) >= 16
                && ((d0 & SplitMask) == 0 || (d1 & SplitMask) == 0 || (d2 & SplitMask) == 0 || (d3 & SplitMask) == 0))
            {
                return ResolveLanes(ref src, pos, (int)n, (int)i, d0, d1, d2, d3, ref digest);
            }
        }

        digest = d3;
        return -1;
    }

    // Some lane has a cut after its byte i. Returns the first cut of the four lanes in stream order.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private int ResolveLanes(ref byte src, int pos, int length, int i, ulong d0, ulong d1, ulong d2, ulong d3, ref ulong digest)
    {
        ReadOnlySpan<ulong> digests = [d0, d1, d2, d3];
        for (var lane = 0; lane < Lanes; lane++)
        {
            var laneStart = pos + (lane * length);
            var d = digests[lane];
            if ((d & SplitMask) == 0)
            {
                digest = d;
                return laneStart + i + 1;
            }

            var cut = ScanSerial(ref src, laneStart + i + 1, laneStart + length, ref d);
            if (cut >= 0)
            {
                digest = d;
                return cut;
            }
        }

        throw new UnreachableException("A lane reported a cut that none of them has.");
    }

    // Appends a byte to the fingerprint: multiply by X^8, add the byte, reduce the 8 bits that overflowed past the
    // degree with one table lookup.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Append<TIndex>(ulong digest, byte b, ref ulong modTable, int shift)
        where TIndex : struct, ITableIndex =>
        ((digest << 8) | b) ^ Unsafe.Add(ref modTable, TIndex.Of(digest, shift));

    // Removes the byte leaving the window (it is 64 bytes old, so its weight is fixed: the out table), then appends.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Slide<TIndex>(ulong digest, byte leaving, byte b, ref ulong outTable, ref ulong modTable, int shift)
        where TIndex : struct, ITableIndex =>
        Append<TIndex>(digest ^ Unsafe.Add(ref outTable, leaving), b, ref modTable, shift);

    // Compile-time choices for the scan loops: the JIT specializes generic methods per struct type argument, so these
    // become constants in the machine code.
    private interface ILaneLength
    {
        static abstract nint Get(int length);
    }

    private interface ITableIndex
    {
        // The mod-table index: the 8 bits above degree − 8. It is cast to a byte: the fingerprint stays below 2^deg,
        // and the cast keeps the unchecked table read inside the table even if it did not.
        static abstract nint Of(ulong digest, int shift);
    }

    private readonly struct FixedLaneLength : ILaneLength
    {
        public static nint Get(int length) => MaxLaneLength;
    }

    private readonly struct VariableLaneLength : ILaneLength
    {
        public static nint Get(int length) => length;
    }

    private readonly struct Degree53 : ITableIndex
    {
        public static nint Of(ulong digest, int shift) => (byte)(digest >> 45);
    }

    private readonly struct AnyDegree : ITableIndex
    {
        public static nint Of(ulong digest, int shift) => (byte)(digest >> shift);
    }

    /// <summary>The fingerprint at the last cut (restic reports it as <c>Chunk.Cut</c>); for tests.</summary>
    internal ulong LastCutFingerprint { get; private set; }

    // Ends the current chunk after `consumed` bytes of the piece and starts the next one from scratch.
    private int Cut(int consumed, ulong digest)
    {
        LastCutFingerprint = digest;
        _count = 0;
        _digest = 0;
        return consumed;
    }

    // The piece ended inside the chunk: keep the fingerprint and the window bytes the next piece will slide out.
    private int Suspend(ReadOnlySpan<byte> data, int start, int length, ulong digest)
    {
        var end = start + length;
        for (var offset = Math.Max(Math.Max(start, HashStart), end - WindowSize); offset < end; offset++)
        {
            _window[offset & (WindowSize - 1)] = data[offset - start];
        }

        _count = end;
        _digest = digest;
        return -1;
    }
}
