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
public sealed class ContentDefinedChunker
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

    // restic's digest arithmetic needs deg(P) + 8 ≤ 61 bits; below 9 the table index shift would not be positive.
    private const int MinDegree = 9;
    private const int MaxDegree = 53;

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
                // The index is cast to a byte: the fingerprint stays below 2^deg, and the cast keeps the unchecked table
                // read inside the table even if it did not.
                digest = ((digest << 8) | Unsafe.Add(ref src, pos)) ^ Unsafe.Add(ref modTable, (byte)(digest >> shift));
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
            digest = ((digest << 8) | Unsafe.Add(ref src, pos)) ^ Unsafe.Add(ref modTable, (byte)(digest >> shift));
            if ((digest & SplitMask) == 0)
            {
                return Cut(pos + 1, digest);
            }
        }

        // The hot loop: the outgoing byte is read from the piece itself, so no ring is maintained.
        for (; pos < limit; pos++)
        {
            digest ^= Unsafe.Add(ref outTable, Unsafe.Add(ref src, pos - WindowSize));
            digest = ((digest << 8) | Unsafe.Add(ref src, pos)) ^ Unsafe.Add(ref modTable, (byte)(digest >> shift));
            if ((digest & SplitMask) == 0)
            {
                return Cut(pos + 1, digest);
            }
        }

        if (start + pos == MaxSize)
        {
            return Cut(pos, digest);
        }

        return Suspend(data, start, pos, digest);
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
