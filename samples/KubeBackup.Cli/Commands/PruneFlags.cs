using System.CommandLine;
using System.Globalization;
using KubeBackup.Restic.Pruning;

namespace KubeBackup.Cli.Commands;

/// <summary>The flags that shape a prune, shared by <c>prune</c> and <c>forget --prune</c> (restic takes them on both).</summary>
internal sealed class PruneFlags
{
    public Option<string> MaxUnused { get; } = new("--max-unused")
    {
        Description = "tolerate given limit of unused data: a percentage like '5%' or 'unlimited' (default: 5%)",
        DefaultValueFactory = _ => "5%",
    };

    public Option<string?> MaxRepackSize { get; } = new("--max-repack-size") { Description = "maximum size to repack (allowed suffixes: k/K, m/M, g/G, t/T)" };

    public Option<bool> RepackUncompressed { get; } = new("--repack-uncompressed")
    {
        Description = "repack all uncompressed data (format 2 repositories upgraded from format 1)",
    };

    public IEnumerable<Option> All => [MaxUnused, MaxRepackSize, RepackUncompressed];

    /// <summary>The options the flags give; invalid values are a <see cref="CliException"/>.</summary>
    public PruneOptions ToOptions(ParseResult parse, bool dryRun) => new()
    {
        MaxUnusedPercent = ParseMaxUnused(parse.GetValue(MaxUnused)!),
        MaxRepackBytes = parse.GetValue(MaxRepackSize) is { } size ? ParseSize(size) : null,
        RepackUncompressed = parse.GetValue(RepackUncompressed),
        DryRun = dryRun,
    };

    internal static double? ParseMaxUnused(string value)
    {
        if (value == "unlimited")
        {
            return null;
        }

        var v = value.TrimEnd('%');
        return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var percent) && percent >= 0
            ? percent
            : throw new CliException($"Invalid --max-unused '{value}': use a percentage like '5%' or 'unlimited'.");
    }

    internal static long ParseSize(string value)
    {
        long factor = char.ToLowerInvariant(value[^1]) switch { 'k' => 1L << 10, 'm' => 1L << 20, 'g' => 1L << 30, 't' => 1L << 40, _ => 1 };
        var digits = factor == 1 ? value : value[..^1];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n * factor
            : throw new CliException($"Invalid size '{value}'.");
    }
}
