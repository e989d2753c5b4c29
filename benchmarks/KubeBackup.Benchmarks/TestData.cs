using KubeBackup.Benchmarks.Data;

namespace KubeBackup.Benchmarks;

/// <summary>Inputs shared by the benchmarks, fixed by a seed so every run measures the same bytes.</summary>
internal static class TestData
{
    public const int KiB = 1024;
    public const int MiB = 1024 * 1024;
    private const ulong Seed = 20240101;

    /// <summary>Incompressible bytes (the xoshiro stream the dataset generator uses for its random files).</summary>
    public static byte[] Random(int length, string key = "micro")
    {
        var data = GC.AllocateUninitializedArray<byte>(length, pinned: true);
        Rng.For(Seed, key).Fill(data);
        return data;
    }

    /// <summary>Text of the dataset's kind (prose, logs, code, JSON lines), about 3x compressible with zstd -3.</summary>
    public static byte[] Text(int length)
    {
        var data = GC.AllocateUninitializedArray<byte>(length, pinned: true);
        new TextPool(Seed).Fill(data, "# micro benchmark text", Rng.For(Seed, "micro-text"));
        return data;
    }
}
