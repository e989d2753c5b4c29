using System.Globalization;

namespace KubeBackup.Restic.Checker;

/// <summary>What a repository check does beyond the structural checks it always runs.</summary>
public sealed class CheckOptions
{
    /// <summary>Read every pack and verify every blob (restic's <c>--read-data</c>). Exclusive with <see cref="ReadDataSubset"/>.</summary>
    public bool ReadData { get; set; }

    /// <summary>Read only some packs (restic's <c>--read-data-subset</c>): a fixed group <c>n/m</c>, a random
    /// percentage, or a random amount of bytes. Null reads no pack data unless <see cref="ReadData"/> is set.</summary>
    public ReadDataSubset? ReadDataSubset { get; set; }

    /// <summary>How many packs are read and verified at once. Default: the backend's concurrency, capped at the
    /// number of cores (verifying is CPU-bound once the data is local), at least 2.</summary>
    public int? Concurrency { get; set; }

    /// <summary>Do not take a lock (restic's <c>--no-lock</c>), for repositories on read-only storage. A check that runs
    /// while another process prunes may then report errors that are not there.</summary>
    public bool NoLock { get; set; }

    /// <summary>Seed for the random choice of packs of a percentage or size subset; null picks a new one each time,
    /// as restic does.</summary>
    public int? RandomSeed { get; set; }

    /// <summary>At most this many affected snapshot paths are listed in the result (a missing pack can touch millions
    /// of files across many snapshots); <see cref="CheckResult.AffectedPathsTruncated"/> says when more exist. The set of
    /// affected snapshots is always complete.</summary>
    public int MaxAffectedPaths { get; set; } = 10_000;

    /// <summary>At most this many IDs are listed in the unused-blob and duplicate-blob hints; their counts are always exact.</summary>
    public int MaxBlobIdsPerHint { get; set; } = 1_000;

    internal void Validate()
    {
        if (ReadData && ReadDataSubset is not null)
        {
            throw new ArgumentException("ReadData and ReadDataSubset cannot be used together.");
        }

        if (Concurrency is < 1)
        {
            throw new ArgumentException("Concurrency must be at least 1.");
        }

        if (MaxAffectedPaths < 0 || MaxBlobIdsPerHint < 0)
        {
            throw new ArgumentException("Limits must not be negative.");
        }
    }
}

/// <summary>How a subset of packs is chosen for reading.</summary>
public enum ReadDataSubsetKind
{
    /// <summary><c>n/m</c>: the packs whose first ID byte modulo m is n−1. Running 1/m … m/m reads every pack once.</summary>
    Group,

    /// <summary><c>x%</c>: that share of the packs, chosen at random.</summary>
    Percentage,

    /// <summary>A size such as <c>500M</c>: random packs making up that share of the repository's bytes.</summary>
    Size,
}

/// <summary>A subset of packs to read, in restic's <c>--read-data-subset</c> forms: <c>n/m</c>, <c>x%</c> or a size.</summary>
public sealed class ReadDataSubset
{
    /// <summary>restic selects groups by the first byte of the pack ID, so there are at most 256 groups.</summary>
    public const int MaxGroups = 256;

    private ReadDataSubset(ReadDataSubsetKind kind, int group, int groups, double percentage, long bytes)
    {
        Kind = kind;
        Group = group;
        Groups = groups;
        Percentage = percentage;
        Bytes = bytes;
    }

    /// <summary>How packs are chosen.</summary>
    public ReadDataSubsetKind Kind { get; }

    /// <summary>For <see cref="ReadDataSubsetKind.Group"/>: n, from 1 to <see cref="Groups"/>.</summary>
    public int Group { get; }

    /// <summary>For <see cref="ReadDataSubsetKind.Group"/>: m, from 1 to 256.</summary>
    public int Groups { get; }

    /// <summary>For <see cref="ReadDataSubsetKind.Percentage"/>: above 0, at most 100.</summary>
    public double Percentage { get; }

    /// <summary>For <see cref="ReadDataSubsetKind.Size"/>: how many bytes of packs to read.</summary>
    public long Bytes { get; }

    /// <summary>Group <paramref name="n"/> of <paramref name="m"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not 1 ≤ n ≤ m ≤ 256.</exception>
    public static ReadDataSubset OfGroup(int n, int m)
    {
        if (m is < 1 or > MaxGroups || n < 1 || n > m)
        {
            throw new ArgumentOutOfRangeException(nameof(n), $"A group n/m needs 1 <= n <= m <= {MaxGroups}.");
        }

        return new ReadDataSubset(ReadDataSubsetKind.Group, n, m, 0, 0);
    }

    /// <summary>A random <paramref name="percent"/> of the packs.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not above 0 and at most 100.</exception>
    public static ReadDataSubset OfPercentage(double percent)
    {
        if (!(percent > 0 && percent <= 100))
        {
            throw new ArgumentOutOfRangeException(nameof(percent), "The percentage must be above 0 and at most 100.");
        }

        return new ReadDataSubset(ReadDataSubsetKind.Percentage, 0, 0, percent, 0);
    }

    /// <summary>Random packs making up about <paramref name="bytes"/> of the repository.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive.</exception>
    public static ReadDataSubset OfSize(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        return new ReadDataSubset(ReadDataSubsetKind.Size, 0, 0, 0, bytes);
    }

    /// <summary>Parses restic's notation: <c>n/m</c>, <c>x%</c> or <c>x.y%</c>, or a byte count with an optional
    /// suffix b, k, m, g or t (powers of 1024, either case).</summary>
    /// <exception cref="FormatException">The text is none of these, or out of range.</exception>
    public static ReadDataSubset Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.Trim();
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            if (!int.TryParse(text.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out int n)
                || !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int m))
            {
                throw new FormatException($"'{text}' is not a group n/m.");
            }

            if (m < 1 || n < 1 || n > m)
            {
                throw new FormatException("In a group n/m, n and m must be positive integers and n <= m, for example 1/2.");
            }

            if (m > MaxGroups)
            {
                throw new FormatException($"In a group n/m, m must be at most {MaxGroups}.");
            }

            return OfGroup(n, m);
        }

        if (text.EndsWith('%'))
        {
            if (!double.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out double percent))
            {
                throw new FormatException($"'{text}' is not a percentage.");
            }

            if (!(percent > 0 && percent <= 100))
            {
                throw new FormatException("The percentage must be above 0% and at most 100%.");
            }

            return OfPercentage(percent);
        }

        if (text.Length == 0)
        {
            throw new FormatException("A subset is n/m, x% or a size.");
        }

        long unit = char.ToLowerInvariant(text[^1]) switch
        {
            'b' => 1,
            'k' => 1L << 10,
            'm' => 1L << 20,
            'g' => 1L << 30,
            't' => 1L << 40,
            _ => 0,
        };
        var number = unit == 0 ? text.AsSpan() : text.AsSpan(0, text.Length - 1);
        if (!long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
        {
            throw new FormatException($"'{text}' is not n/m, x% or a size.");
        }

        long bytes;
        try
        {
            bytes = checked(value * Math.Max(unit, 1));
        }
        catch (OverflowException)
        {
            throw new FormatException($"'{text}' is too large.");
        }

        if (bytes <= 0)
        {
            throw new FormatException("The size must be above 0.");
        }

        return OfSize(bytes);
    }

    /// <summary>restic's notation of this subset.</summary>
    public override string ToString() => Kind switch
    {
        ReadDataSubsetKind.Group => string.Create(CultureInfo.InvariantCulture, $"{Group}/{Groups}"),
        ReadDataSubsetKind.Percentage => string.Create(CultureInfo.InvariantCulture, $"{Percentage}%"),
        _ => Bytes.ToString(CultureInfo.InvariantCulture),
    };
}
