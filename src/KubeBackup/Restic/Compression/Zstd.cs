using ZstdSharp;
using ZstdSharp.Unsafe;

namespace KubeBackup.Restic.Compression;

/// <summary>
/// zstd as restic uses it: one frame per blob or file, with the content size and without a checksum (the MAC and the
/// blob hash already guard the data). Compressor contexts are expensive to create and not thread-safe, so each thread
/// keeps its own per level.
/// </summary>
internal static class Zstd
{
    /// <summary>restic's default ("auto") is klauspost's SpeedDefault, comparable to zstd level 3.</summary>
    public const int DefaultLevel = 3;

    /// <summary>restic's "max" is klauspost's SpeedBestCompression, comparable to zstd level 11.</summary>
    public const int MaxLevel = 11;

    [ThreadStatic] private static Compressor? s_default;
    [ThreadStatic] private static Compressor? s_max;
    [ThreadStatic] private static Decompressor? s_decompressor;

    public static int LevelFor(CompressionMode mode) => mode == CompressionMode.Max ? MaxLevel : DefaultLevel;

    /// <summary>The largest possible compressed size of <paramref name="length"/> bytes.</summary>
    public static int CompressBound(int length) => (int)Methods.ZSTD_compressBound((nuint)length);

    /// <summary>Compresses into <paramref name="destination"/> (at least <see cref="CompressBound"/> bytes); returns the length.</summary>
    public static int Compress(ReadOnlySpan<byte> source, Span<byte> destination, int level)
    {
        if (NativeZstd.IsAvailable)
        {
            return NativeZstd.Compress(source, destination, level);
        }

        var compressor = level == MaxLevel ? (s_max ??= Create(MaxLevel)) : (s_default ??= Create(level));
        return compressor.Wrap(source, destination);
    }

    private static Compressor Create(int level)
    {
        var c = new Compressor(level);
        c.SetParameter(ZSTD_cParameter.ZSTD_c_checksumFlag, 0);
        c.SetParameter(ZSTD_cParameter.ZSTD_c_contentSizeFlag, 1);
        return c;
    }

    /// <summary>Decompresses a frame whose plaintext length is known exactly (blobs: the index's uncompressed length).</summary>
    /// <exception cref="FormatException">The frame is invalid or does not decompress to exactly <paramref name="destination"/>.Length bytes.</exception>
    public static void DecompressExact(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int n;
        if (NativeZstd.IsAvailable)
        {
            n = NativeZstd.Decompress(source, destination);
        }
        else
        {
            var d = s_decompressor ??= new Decompressor();
            try
            {
                n = d.Unwrap(source, destination);
            }
            catch (ZstdException ex)
            {
                throw new FormatException($"invalid zstd data: {ex.Message}", ex);
            }
        }

        if (n != destination.Length)
        {
            throw new FormatException($"zstd data decompressed to {n} bytes, expected {destination.Length}");
        }
    }

    /// <summary>Decompresses one or more frames of unknown size (metadata files), refusing to produce more than
    /// <paramref name="maxLength"/> bytes so a hostile file cannot exhaust memory.</summary>
    public static byte[] Decompress(ReadOnlySpan<byte> source, int maxLength)
    {
        ulong declared;
        try
        {
            declared = Decompressor.GetDecompressedSize(source);
        }
        catch (ZstdException)
        {
            declared = 0;
        }

        if (declared > 0 && declared <= (ulong)maxLength)
        {
            var exact = new byte[declared];
            try
            {
                var d = s_decompressor ??= new Decompressor();
                int n = d.Unwrap(source, exact);
                if ((ulong)n == declared)
                {
                    // A single frame with its size: the common case (restic writes exactly this).
                    return exact;
                }
            }
            catch (ZstdException)
            {
                // Several frames, or a lying header: fall back to streaming.
            }
        }

        using var input = new MemoryStream(source.ToArray(), writable: false);
        using var stream = new DecompressionStream(input);
        using var output = new MemoryStream();
        var buffer = new byte[81920];
        try
        {
            int n;
            while ((n = stream.Read(buffer)) > 0)
            {
                if (output.Length + n > maxLength)
                {
                    throw new FormatException($"zstd data decompresses to more than {maxLength} bytes");
                }

                output.Write(buffer, 0, n);
            }
        }
        catch (ZstdException ex)
        {
            throw new FormatException($"invalid zstd data: {ex.Message}", ex);
        }

        return output.ToArray();
    }
}
