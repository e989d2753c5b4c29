using KubeBackup.Restic.Model;
using KubeBackup.Retention;

namespace KubeBackup.Tests.Retention;

/// <summary>A snapshot to be written: what retention looks at.</summary>
public sealed record PlannedSnapshot(GoTime Time, string Host, string[] Paths, string[] Tags);

/// <summary>
/// Deterministic snapshot histories that exercise every corner of restic's retention rules: irregular gaps from
/// minutes to months, UTC offsets from −12:00 to +14:00 including half- and three-quarter-hour ones, equal instants
/// (also in different offsets, so they fall into different calendar buckets), nanoseconds, tags, several hosts and
/// path sets (also the same set in another order), month ends and leap days (Go's AddDate normalisation), ISO week 53,
/// snapshots in the future, and snapshots exactly on and next to keep-within thresholds.
/// </summary>
public static class SnapshotHistories
{
    private static readonly int[] Offsets = [0, 60, 120, 330, 345, 570, -210, -570, 840, -720, -300, 525];

    /// <summary>Durations the comparison policies use, for the threshold snapshots of the "edge" history.</summary>
    public static readonly string[] ThresholdDurations =
        ["1d", "2d", "7d", "1m", "1m14d", "1y1d1m", "13d23h", "2m2h", "1y2m3d3h", "1h", "1m1d", "25h", "1y", "2y", "3m"];

    /// <summary>restic's own TestApplyPolicy input (see <see cref="ResticGoldenPolicyTests"/>), as a history of host "golden".</summary>
    public static IEnumerable<PlannedSnapshot> Golden() =>
        ResticGoldenPolicyTests.InputSubjects().Select(s => new PlannedSnapshot(s.Time, "golden",
            s.Paths.Count > 0 ? [.. s.Paths] : ["/golden"], [.. s.Tags]));

    public static List<(string Name, List<PlannedSnapshot> Snapshots)> All()
    {
        var result = new List<(string, List<PlannedSnapshot>)>
        {
            ("dense", Random(seed: 1, count: 150, hosts: ["dense"], pathSets: [["/srv"], ["/srv", "/home"], ["/home", "/srv"]],
                tagPool: ["daily", "manual", "foo", "bar"], start: new DateTime(2024, 12, 20), gapScale: 0.3, tieChance: 0.08)),
            ("long", Random(seed: 2, count: 90, hosts: ["long"], pathSets: [["/data"]], tagPool: ["foo", "bar"],
                start: new DateTime(2019, 11, 30), gapScale: 6, tieChance: 0.04)),
            ("fleet", Random(seed: 3, count: 120, hosts: ["web-1", "web-2", "db"], pathSets: [["/data"], ["/etc", "/data"], ["/data", "/etc"]],
                tagPool: ["daily", "foo", "bar", "weekly"], start: new DateTime(2025, 1, 25), gapScale: 0.5, tieChance: 0.1)),
            ("future", Future(seed: 4, count: 30, host: "future", allFuture: false)),
            ("all-future", Future(seed: 5, count: 30, host: "all-future", allFuture: true)),
            ("calendar", Calendar()),
            ("edge", Edge()),
            ("golden", [.. Golden()]),
        };
        return result;
    }

    private static GoTime Wall(int year, int month, int day, int hour, int minute, int second, int nanos, int offsetMinutes)
    {
        long wall = (long)(new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc) - DateTime.UnixEpoch).TotalSeconds;
        return new GoTime(wall - offsetMinutes * 60L, nanos, offsetMinutes * 60);
    }

    private static GoTime InOffset(GoTime t, int offsetMinutes) => new(t.UnixSeconds, t.Nanoseconds, offsetMinutes * 60);

    private static List<PlannedSnapshot> Random(int seed, int count, string[] hosts, string[][] pathSets, string[] tagPool,
        DateTime start, double gapScale, double tieChance)
    {
        var rng = new Random(seed);
        var list = new List<PlannedSnapshot>();
        long unix = (long)(start - DateTime.UnixEpoch).TotalSeconds;
        int nanos = 0;
        for (int i = 0; i < count; i++)
        {
            bool tie = i > 0 && rng.NextDouble() < tieChance;
            if (!tie)
            {
                double r = rng.NextDouble();
                double seconds = r < 0.3 ? rng.Next(60, 3600)
                    : r < 0.6 ? rng.Next(3600, 12 * 3600)
                    : r < 0.85 ? rng.Next(86_400, 3 * 86_400)
                    : rng.Next(7 * 86_400, 8 * 7 * 86_400);
                unix += Math.Max(1, (long)(seconds * gapScale));
                nanos = rng.NextDouble() < 0.5 ? 0 : rng.Next(0, 1_000_000_000);
            }

            int offset = Offsets[rng.Next(Offsets.Length)];
            var tags = tagPool.Where(_ => rng.NextDouble() < 0.25).ToArray();
            list.Add(new PlannedSnapshot(new GoTime(unix, nanos, offset * 60), hosts[rng.Next(hosts.Length)],
                pathSets[rng.Next(pathSets.Length)], tags));
        }

        return list;
    }

    private static List<PlannedSnapshot> Future(int seed, int count, string host, bool allFuture)
    {
        // Far enough ahead that no clock running these tests has reached them: they must never count as "latest".
        var rng = new Random(seed);
        var list = new List<PlannedSnapshot>();
        for (int i = 0; i < count; i++)
        {
            bool future = allFuture || i % 5 == 0;
            var day = future ? new DateTime(2090, 1, 1).AddDays(rng.Next(0, 800)) : new DateTime(2025, 1, 1).AddDays(rng.Next(0, 150));
            var t = Wall(day.Year, day.Month, day.Day, rng.Next(24), rng.Next(60), rng.Next(60), 0, Offsets[rng.Next(Offsets.Length)]);
            list.Add(new PlannedSnapshot(t, host, ["/future"], i % 3 == 0 ? ["foo"] : []));
        }

        return list;
    }

    /// <summary>Month ends, leap days, year ends and ISO week 53, in several offsets, so that the wall-clock buckets
    /// and the calendar arithmetic differ from UTC-based ones.</summary>
    private static List<PlannedSnapshot> Calendar()
    {
        var list = new List<PlannedSnapshot>();
        int k = 0;
        foreach (var (y, m, d) in new[]
        {
            (2019, 12, 30), (2019, 12, 31), (2020, 1, 1), (2020, 2, 28), (2020, 2, 29), (2020, 3, 1), (2020, 3, 31),
            (2020, 12, 31), (2021, 1, 1), (2021, 1, 3), (2021, 1, 4), (2021, 3, 31), (2021, 5, 31), (2021, 12, 31),
            (2022, 1, 2), (2022, 1, 3), (2023, 1, 1), (2023, 1, 2), (2023, 3, 31), (2024, 2, 29), (2024, 3, 31),
            (2024, 12, 29), (2024, 12, 30), (2024, 12, 31), (2025, 1, 1), (2025, 2, 28), (2025, 3, 1), (2025, 3, 31),
        })
        {
            // Just before and just after local midnight, in offsets on both sides of UTC.
            int offset = Offsets[k++ % Offsets.Length];
            list.Add(new PlannedSnapshot(Wall(y, m, d, 23, 59, 59, 999_999_999, offset), "calendar", ["/cal"], k % 4 == 0 ? ["foo"] : []));
            list.Add(new PlannedSnapshot(Wall(y, m, d, 0, 0, 0, 0, -offset), "calendar", ["/cal"], []));
        }

        return list;
    }

    /// <summary>A newest snapshot at a month start, present twice (the same instant at +02:00 and −09:30, which are on
    /// different calendar days), and for every duration the policies use, snapshots exactly on the keep-within
    /// threshold (not kept: restic keeps only times after it) and one nanosecond either side.</summary>
    private static List<PlannedSnapshot> Edge()
    {
        var latest = Wall(2025, 3, 1, 1, 0, 0, 0, 120);
        var twin = InOffset(latest, -570);
        var list = new List<PlannedSnapshot>
        {
            new(latest, "edge", ["/edge"], []),
            new(twin, "edge", ["/edge"], ["foo"]),
        };
        int k = 0;
        foreach (var text in ThresholdDurations)
        {
            var duration = RetentionDuration.Parse(text);
            foreach (var from in new[] { latest, twin })
            {
                var threshold = duration.SubtractFrom(from);
                int offset = Offsets[k++ % Offsets.Length];
                foreach (int delta in new[] { -1, 0, 1 })
                {
                    var t = new GoTime(threshold.UnixSeconds, threshold.Nanoseconds + delta, offset * 60);
                    list.Add(new PlannedSnapshot(t, "edge", ["/edge"], delta == 0 ? ["bar"] : []));
                }
            }
        }

        return list;
    }
}
