using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace KubeBackup.Benchmarks;

/// <summary>
/// Marks a benchmark as processing a known number of bytes per operation, so <see cref="ThroughputColumn"/> can show
/// MB/s. Either a constant (<see cref="Bytes"/>) or the name of an integer parameter holding the size.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ThroughputAttribute : Attribute
{
    public long Bytes { get; set; }

    public string? Parameter { get; set; }
}

/// <summary>Throughput in MB/s (10^6 bytes per second) from the mean time of one operation. Primitives are compared by
/// rate rather than by time because their inputs differ in size.</summary>
public sealed class ThroughputColumn : IColumn
{
    public string Id => nameof(ThroughputColumn);

    public string ColumnName => "MB/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Throughput: bytes processed per operation / mean time, in 10^6 bytes per second";

    public static long? BytesOf(BenchmarkCase benchmarkCase)
    {
        var attribute = benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<ThroughputAttribute>();
        if (attribute is null)
        {
            return null;
        }

        return attribute.Parameter is { } name
            ? Convert.ToInt64(benchmarkCase.Parameters[name], CultureInfo.InvariantCulture)
            : attribute.Bytes;
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var bytes = BytesOf(benchmarkCase);
        var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (bytes is null || mean is null or <= 0)
        {
            return "-";
        }

        // Mean is nanoseconds per operation (already divided by OperationsPerInvoke).
        return (bytes.Value / (mean.Value / 1e9) / 1e6).ToString("N0", CultureInfo.InvariantCulture);
    }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
