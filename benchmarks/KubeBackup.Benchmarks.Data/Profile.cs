namespace KubeBackup.Benchmarks.Data;

/// <summary>The shape of a dataset. Sizes are bytes.</summary>
internal sealed record Profile(
    string Name,
    int LargeCount,
    long LargeSize,
    int MediumCount,
    int MediumMin,
    int MediumMax,
    int SmallCount,
    int SmallMin,
    int SmallMax,
    long SparseSize,
    long ZeroSize,
    int DuplicateMedium,
    int DuplicateSmall,
    int EmptyFiles,
    int EmptyDirs,
    // The mutation's byte sizes are divided by this and its file counts multiplied by MutateCountScale.
    int MutateSizeDivisor,
    double MutateCountScale)
{
    private const int KiB = 1024;
    private const int MiB = 1024 * 1024;

    /// <summary>About 1.1 GB: the profile the published tables use.</summary>
    public static readonly Profile Standard = new(
        "standard", LargeCount: 4, LargeSize: 128L * MiB, MediumCount: 96, MediumMin: 256 * KiB, MediumMax: 4 * MiB,
        SmallCount: 20_000, SmallMin: 1 * KiB, SmallMax: 16 * KiB, SparseSize: 64L * MiB, ZeroSize: 16L * MiB,
        DuplicateMedium: 8, DuplicateSmall: 100, EmptyFiles: 50, EmptyDirs: 20, MutateSizeDivisor: 1, MutateCountScale: 1.0);

    /// <summary>About 100 MiB, same shape: quick runs while developing.</summary>
    public static readonly Profile Small = new(
        "small", LargeCount: 4, LargeSize: 12L * MiB, MediumCount: 24, MediumMin: 64 * KiB, MediumMax: 1 * MiB,
        SmallCount: 2_000, SmallMin: 1 * KiB, SmallMax: 16 * KiB, SparseSize: 8L * MiB, ZeroSize: 4L * MiB,
        DuplicateMedium: 4, DuplicateSmall: 20, EmptyFiles: 10, EmptyDirs: 5, MutateSizeDivisor: 8, MutateCountScale: 0.1);

    /// <summary>One million small files and nothing large: per-file costs (metadata, tree building, index growth)
    /// dominate. Files are 128 B to 2 KiB so the tree stays about 1 GB apparent.</summary>
    public static readonly Profile Million = new(
        "million", LargeCount: 0, LargeSize: 0, MediumCount: 0, MediumMin: 0, MediumMax: 0,
        SmallCount: 1_000_000, SmallMin: 128, SmallMax: 2 * KiB, SparseSize: 0, ZeroSize: 0,
        DuplicateMedium: 0, DuplicateSmall: 1000, EmptyFiles: 50, EmptyDirs: 20, MutateSizeDivisor: 1, MutateCountScale: 10.0);

    public static Profile? Find(string name) => name switch
    {
        "standard" => Standard,
        "small" => Small,
        "million" => Million,
        _ => null,
    };

    /// <summary>The relative path of small file <paramref name="i"/>: nested two to four folders deep, about a fifth of
    /// them in the deeper f*/g folders, so trees of several depths are exercised.</summary>
    public string SmallPath(int i)
    {
        string[] ext = [".txt", ".log", ".rs", ".json", ".md"];
        if (SmallCount > 100_000)
        {
            string dm = $"small/d{i / 10_000:D3}/e{i / 1000 % 10}";
            if (i % 1000 >= 800)
            {
                dm += $"/f{i / 100 % 2}/g";
            }

            return $"{dm}/x{i:D7}{ext[i % 5]}";
        }

        string d = $"small/d{i / 1000:D2}/e{i / 100 % 10:D2}";
        if (i % 100 >= 80)
        {
            d += $"/f{i / 10 % 2}/g";
        }

        return $"{d}/x{i:D5}{ext[i % 5]}";
    }
}
