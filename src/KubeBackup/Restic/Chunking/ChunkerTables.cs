using System.Collections.Concurrent;

namespace KubeBackup.Restic.Chunking;

/// <summary>
/// The two lookup tables of the rolling Rabin fingerprint for one polynomial P of degree k. They are shared by every
/// chunker using P: a repository has one polynomial, so the cache holds one entry in practice.
/// </summary>
internal sealed class ChunkerTables
{
    /// <summary>The window the fingerprint covers, in bytes.</summary>
    internal const int WindowSize = 64;

    private static readonly ConcurrentDictionary<ulong, ChunkerTables> Cache = new();

    private ChunkerTables(ulong polynomial)
    {
        var degree = ChunkerPolynomial.Deg(polynomial);
        PolShift = degree - 8;

        // Out[b] = b·X^(8·63) mod P: the weight of a byte when it is the oldest of the window. XORing it in removes
        // that byte's contribution before the window moves on. Built the way restic builds it, by appending the byte
        // and then 63 zero bytes to an empty fingerprint.
        for (var b = 0; b < 256; b++)
        {
            var h = AppendByte(0, (byte)b, polynomial);
            for (var i = 0; i < WindowSize - 1; i++)
            {
                h = AppendByte(h, 0, polynomial);
            }

            Out[b] = h;
        }

        // Mod[t] = (t·X^k mod P) | (t·X^k), indexed by the 8 bits that overflow past degree k after a shift by 8:
        // one XOR both clears those bits (the second part) and adds their remainder (the first part).
        for (var t = 0UL; t < 256; t++)
        {
            Mod[t] = ChunkerPolynomial.Mod(t << degree, polynomial) | (t << degree);
        }
    }

    /// <summary>Per byte value: its contribution when it leaves the window.</summary>
    internal ulong[] Out { get; } = new ulong[256];

    /// <summary>Per value of the 8 overflow bits: the XOR that reduces them modulo P.</summary>
    internal ulong[] Mod { get; } = new ulong[256];

    /// <summary>deg(P) − 8: shifting the fingerprint right by this yields the index into <see cref="Mod"/>.</summary>
    internal int PolShift { get; }

    /// <summary>The tables for a polynomial, computed on first use and then shared (thread-safe).</summary>
    internal static ChunkerTables For(ulong polynomial) => Cache.GetOrAdd(polynomial, static p => new ChunkerTables(p));

    private static ulong AppendByte(ulong hash, byte b, ulong polynomial) =>
        ChunkerPolynomial.Mod((hash << 8) | b, polynomial);
}
