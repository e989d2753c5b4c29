namespace KubeBackup.Restic.Chunking;

/// <summary>
/// restic's content-defined chunker (a Rabin fingerprint over a 64-byte window): it finds the cut points restic finds for
/// the same polynomial, so identical content deduplicates across restic and KubeBackup. Push-based: the caller feeds the
/// bytes of a stream in any pieces and is told where each chunk ends. One instance per stream at a time; not thread-safe.
/// </summary>
public sealed class ContentDefinedChunker
{
    /// <summary>The smallest chunk, except the last of a stream (512 KiB).</summary>
    public const int MinSize = 512 * 1024;

    /// <summary>The largest chunk (8 MiB).</summary>
    public const int MaxSize = 8 * 1024 * 1024;

    /// <summary>Creates a chunker for a polynomial (tables are computed once per polynomial and shared).</summary>
    public ContentDefinedChunker(ChunkerPolynomial polynomial) => throw new NotImplementedException();

    /// <summary>Starts a new stream: forgets any partial chunk.</summary>
    public void Reset() => throw new NotImplementedException();

    /// <summary>
    /// Scans the next bytes of the current chunk. Returns the number of bytes from the start of <paramref name="data"/>
    /// that complete the chunk (the cut is after the last of them; the chunker then starts the next chunk by itself),
    /// or -1 if <paramref name="data"/> ended without a cut (all of it belongs to the current chunk).
    /// At the end of the stream, whatever was scanned since the last cut is the final chunk.
    /// </summary>
    public int FindBoundary(ReadOnlySpan<byte> data) => throw new NotImplementedException();
}
