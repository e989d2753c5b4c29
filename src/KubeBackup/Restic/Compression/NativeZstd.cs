using System.Runtime.InteropServices;

namespace KubeBackup.Restic.Compression;

/// <summary>
/// The system's libzstd (Debian's libzstd1, present wherever apt is), used when it can be loaded: it compresses text
/// about three times as fast as the managed port and decompresses about twice as fast. Everything here falls back to
/// ZstdSharp when the library is missing or when <c>KUBEBACKUP_ZSTD=managed</c> is set, so the library is a speed-up,
/// never a requirement. Both produce standard zstd frames that either can read.
/// </summary>
internal static unsafe class NativeZstd
{
    private const int CompressionLevelParameter = 100;
    private const int ContentSizeFlagParameter = 200;
    private const int ChecksumFlagParameter = 201;

    private static readonly Api? s_api = Load();

    // Contexts are pooled, not per thread: a context holds megabytes once it has compressed a large blob, and a backup's
    // async steps run on whichever pool thread is free, so per-thread contexts multiplied with the thread count (a
    // million-file backup peaked 200 MiB higher). The pool keeps as many as were ever in use at once, up to a cap.
    private static readonly ContextPool s_compressors = new(compress: true);
    private static readonly ContextPool s_decompressors = new(compress: false);

    /// <summary>Whether the native library is in use.</summary>
    public static bool IsAvailable => s_api is not null;

    /// <summary>The loaded library's version (for example 10504), or 0.</summary>
    public static uint Version => s_api is { } api ? api.VersionNumber() : 0;

    private sealed class Api
    {
        public required delegate* unmanaged<nint> CreateCCtx;
        public required delegate* unmanaged<nint, nuint> FreeCCtx;
        public required delegate* unmanaged<nint, int, int, nuint> SetParameter;
        public required delegate* unmanaged<nint, byte*, nuint, byte*, nuint, nuint> Compress2;
        public required delegate* unmanaged<nint> CreateDCtx;
        public required delegate* unmanaged<nint, nuint> FreeDCtx;
        public required delegate* unmanaged<nint, byte*, nuint, byte*, nuint, nuint> DecompressDCtx;
        public required delegate* unmanaged<nuint, uint> IsError;
        public required delegate* unmanaged<nuint, byte*> GetErrorName;
        public required delegate* unmanaged<uint> VersionNumberPtr;

        public uint VersionNumber() => VersionNumberPtr();
    }

    private static Api? Load()
    {
        if (string.Equals(Environment.GetEnvironmentVariable("KUBEBACKUP_ZSTD"), "managed", StringComparison.OrdinalIgnoreCase)
            || !NativeLibrary.TryLoad("libzstd.so.1", out var lib))
        {
            return null;
        }

        try
        {
            var api = new Api
            {
                CreateCCtx = (delegate* unmanaged<nint>)NativeLibrary.GetExport(lib, "ZSTD_createCCtx"),
                FreeCCtx = (delegate* unmanaged<nint, nuint>)NativeLibrary.GetExport(lib, "ZSTD_freeCCtx"),
                SetParameter = (delegate* unmanaged<nint, int, int, nuint>)NativeLibrary.GetExport(lib, "ZSTD_CCtx_setParameter"),
                Compress2 = (delegate* unmanaged<nint, byte*, nuint, byte*, nuint, nuint>)NativeLibrary.GetExport(lib, "ZSTD_compress2"),
                CreateDCtx = (delegate* unmanaged<nint>)NativeLibrary.GetExport(lib, "ZSTD_createDCtx"),
                FreeDCtx = (delegate* unmanaged<nint, nuint>)NativeLibrary.GetExport(lib, "ZSTD_freeDCtx"),
                DecompressDCtx = (delegate* unmanaged<nint, byte*, nuint, byte*, nuint, nuint>)NativeLibrary.GetExport(lib, "ZSTD_decompressDCtx"),
                IsError = (delegate* unmanaged<nuint, uint>)NativeLibrary.GetExport(lib, "ZSTD_isError"),
                GetErrorName = (delegate* unmanaged<nuint, byte*>)NativeLibrary.GetExport(lib, "ZSTD_getErrorName"),
                VersionNumberPtr = (delegate* unmanaged<uint>)NativeLibrary.GetExport(lib, "ZSTD_versionNumber"),
            };
            // ZSTD_compress2 and the parameter API are stable from 1.4.0.
            return api.VersionNumber() >= 10400 ? api : null;
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
    }

    private sealed class ContextPool(bool compress)
    {
        private static readonly int Keep = Math.Max(4, Environment.ProcessorCount * 2);
        private readonly Stack<nint> _idle = new();
        private readonly Lock _lock = new();

        public nint Rent()
        {
            lock (_lock)
            {
                if (_idle.TryPop(out var context))
                {
                    return context;
                }
            }

            var api = s_api!;
            nint created = compress ? api.CreateCCtx() : api.CreateDCtx();
            if (created == 0)
            {
                throw new OutOfMemoryException(compress ? "ZSTD_createCCtx failed." : "ZSTD_createDCtx failed.");
            }

            if (compress)
            {
                Check(api, api.SetParameter(created, ChecksumFlagParameter, 0));
                Check(api, api.SetParameter(created, ContentSizeFlagParameter, 1));
            }

            return created;
        }

        public void Return(nint context)
        {
            lock (_lock)
            {
                if (_idle.Count < Keep)
                {
                    _idle.Push(context);
                    return;
                }
            }

            _ = compress ? s_api!.FreeCCtx(context) : s_api!.FreeDCtx(context);
        }
    }

    /// <summary>Compresses one frame; see <see cref="Zstd.Compress"/>.</summary>
    public static int Compress(ReadOnlySpan<byte> source, Span<byte> destination, int level)
    {
        var api = s_api!;
        nint context = s_compressors.Rent();
        try
        {
            Check(api, api.SetParameter(context, CompressionLevelParameter, level));
            fixed (byte* src = source)
            fixed (byte* dst = destination)
            {
                nuint n = api.Compress2(context, dst, (nuint)destination.Length, src, (nuint)source.Length);
                Check(api, n);
                return (int)n;
            }
        }
        finally
        {
            s_compressors.Return(context);
        }
    }

    /// <summary>Decompresses into exactly <paramref name="destination"/>; returns the byte count written.</summary>
    /// <exception cref="FormatException">The data is not valid zstd or does not fit.</exception>
    public static int Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var api = s_api!;
        nint context = s_decompressors.Rent();
        try
        {
            fixed (byte* src = source)
            fixed (byte* dst = destination)
            {
                nuint n = api.DecompressDCtx(context, dst, (nuint)destination.Length, src, (nuint)source.Length);
                if (api.IsError(n) != 0)
                {
                    throw new FormatException($"invalid zstd data: {ErrorName(api, n)}");
                }

                return (int)n;
            }
        }
        finally
        {
            s_decompressors.Return(context);
        }
    }

    private static void Check(Api api, nuint result)
    {
        if (api.IsError(result) != 0)
        {
            throw new InvalidOperationException($"zstd: {ErrorName(api, result)}");
        }
    }

    private static string ErrorName(Api api, nuint code) => Marshal.PtrToStringUTF8((nint)api.GetErrorName(code)) ?? "unknown error";
}
