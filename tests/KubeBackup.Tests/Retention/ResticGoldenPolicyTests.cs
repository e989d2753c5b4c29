using System.Globalization;
using KubeBackup.Restic.Model;
using KubeBackup.Retention;

namespace KubeBackup.Tests.Retention;

/// <summary>
/// Current restic's own expectations (the golden files policy_keep_snapshots_0…39 of its TestApplyPolicy, restic at
/// HEAD, internal/data/snapshot_policy_test.go), restated as facts: for each of the 40 policies how many of the 103
/// snapshots are kept, and for a selection of them which ones, with restic's reasons and counters. They check our
/// default (<see cref="ResticCompatibility.Current"/>) semantics, including unlimited counts and the "oldest" rule.
/// </summary>
public class ResticGoldenPolicyTests
{
    // The input of restic's TestApplyPolicy (internal/data/snapshot_policy_test.go), in its order: UTC times,
    // [tags], {paths}. Order matters: five snapshots share 2015-10-22 10:20:30 and the sort is stable.
    private static readonly string[] Input =
    [
        "2014-09-01 10:20:30",
        "2014-09-02 10:20:30",
        "2014-09-05 10:20:30",
        "2014-09-06 10:20:30",
        "2014-09-08 10:20:30",
        "2014-09-09 10:20:30",
        "2014-09-10 10:20:30",
        "2014-09-11 10:20:30",
        "2014-09-20 10:20:30",
        "2014-09-22 10:20:30",
        "2014-08-08 10:20:30",
        "2014-08-10 10:20:30",
        "2014-08-12 10:20:30",
        "2014-08-13 10:20:30",
        "2014-08-13 10:20:30.1",
        "2014-08-15 10:20:30",
        "2014-08-18 10:20:30",
        "2014-08-20 10:20:30",
        "2014-08-21 10:20:30",
        "2014-08-22 10:20:30",
        "2014-10-01 10:20:30 [foo]",
        "2014-10-02 10:20:30 [foo]",
        "2014-10-05 10:20:30 [foo]",
        "2014-10-06 10:20:30 [foo]",
        "2014-10-08 10:20:30 [foo]",
        "2014-10-09 10:20:30 [foo]",
        "2014-10-10 10:20:30 [foo]",
        "2014-10-11 10:20:30 [foo]",
        "2014-10-20 10:20:30 [foo]",
        "2014-10-22 10:20:30 [foo]",
        "2014-11-08 10:20:30 [foo]",
        "2014-11-10 10:20:30 [foo]",
        "2014-11-12 10:20:30 [foo]",
        "2014-11-13 10:20:30 [foo]",
        "2014-11-13 10:20:30.1 [bar]",
        "2014-11-15 10:20:30 [foo,bar]",
        "2014-11-18 10:20:30",
        "2014-11-20 10:20:30",
        "2014-11-21 10:20:30",
        "2014-11-22 10:20:30",
        "2015-09-01 10:20:30",
        "2015-09-02 10:20:30",
        "2015-09-05 10:20:30",
        "2015-09-06 10:20:30",
        "2015-09-08 10:20:30",
        "2015-09-09 10:20:30",
        "2015-09-10 10:20:30",
        "2015-09-11 10:20:30",
        "2015-09-20 10:20:30",
        "2015-09-22 10:20:30",
        "2015-08-08 10:20:30",
        "2015-08-10 10:20:30",
        "2015-08-12 10:20:30",
        "2015-08-13 10:20:30",
        "2015-08-13 10:20:30.1",
        "2015-08-15 10:20:30",
        "2015-08-18 10:20:30",
        "2015-08-20 10:20:30",
        "2015-08-21 10:20:30",
        "2015-08-22 10:20:30",
        "2015-10-01 10:20:30",
        "2015-10-02 10:20:30",
        "2015-10-05 10:20:30",
        "2015-10-06 10:20:30",
        "2015-10-08 10:20:30",
        "2015-10-09 10:20:30",
        "2015-10-10 10:20:30",
        "2015-10-11 10:20:30",
        "2015-10-20 10:20:30",
        "2015-10-22 10:20:30",
        "2015-10-22 10:20:30",
        "2015-10-22 10:20:30 [foo,bar]",
        "2015-10-22 10:20:30 [foo,bar]",
        "2015-10-22 10:20:30 [foo,bar] {path1,path2}",
        "2015-11-08 10:20:30",
        "2015-11-10 10:20:30",
        "2015-11-12 10:20:30",
        "2015-11-13 10:20:30",
        "2015-11-13 10:20:30.1",
        "2015-11-15 10:20:30",
        "2015-11-18 10:20:30",
        "2015-11-20 10:20:30",
        "2015-11-21 10:20:30",
        "2015-11-22 10:20:30",
        "2016-01-01 01:02:03",
        "2016-01-01 01:03:03",
        "2016-01-01 07:08:03",
        "2016-01-03 07:02:03",
        "2016-01-04 10:23:03",
        "2016-01-04 11:23:03",
        "2016-01-04 12:23:03",
        "2016-01-04 12:24:03",
        "2016-01-04 12:28:03",
        "2016-01-04 12:30:03",
        "2016-01-04 16:23:03",
        "2016-01-05 09:02:03",
        "2016-01-06 08:02:03",
        "2016-01-07 10:02:03",
        "2016-01-08 20:02:03",
        "2016-01-09 21:02:03",
        "2016-01-12 21:02:03",
        "2016-01-12 21:08:03",
        "2016-01-18 12:02:03",
    ];

    /// <summary>The input as subjects; restic's test gives no paths except to one snapshot.</summary>
    public static List<RetentionSubject> InputSubjects() => [.. Input.Select(ParseEntry)];

    // The 40 policies, in the order of restic's test (ResticForgetComparisonTests.GoldenPolicies holds the same list
    // as restic flags).
    internal static RetentionPolicy Policy(int index) =>
        index < 36 || index > 39
            ? ResticForgetComparisonTests.ParseFlags(ResticForgetComparisonTests.GoldenPolicies[index].Split(' ', StringSplitOptions.RemoveEmptyEntries)).Policy
            : index switch
            {
                36 => new RetentionPolicy { Last = RetentionPolicy.Unlimited },
                37 => new RetentionPolicy { Last = RetentionPolicy.Unlimited, Hourly = RetentionPolicy.Unlimited },
                38 => new RetentionPolicy { Hourly = RetentionPolicy.Unlimited },
                _ => new RetentionPolicy { Daily = 3, Weekly = 2, Monthly = RetentionPolicy.Unlimited, Yearly = RetentionPolicy.Unlimited },
            };

    /// <summary>How many snapshots restic keeps under each of the 40 policies.</summary>
    private static readonly int[] KeepCounts = [0, 10, 15, 99, 103, 20, 3, 10, 30, 6, 10, 2, 4, 4, 6, 7, 4, 11, 18, 4, 19, 1, 1, 3, 19, 19, 63, 9, 23, 68, 57, 53, 19, 6, 3, 10, 103, 103, 90, 12];

    /// <summary>For a selection of the policies, what restic keeps, newest first: time (UTC) [tags] {paths} | the
    /// reasons | the counters left (zero counters omitted, as in restic's JSON).</summary>
    private static readonly Dictionary<int, string[]> Expected = new()
    {
        [1] =
        [
            "2016-01-18 12:02:03 | last snapshot | last=9",
            "2016-01-12 21:08:03 | last snapshot | last=8",
            "2016-01-12 21:02:03 | last snapshot | last=7",
            "2016-01-09 21:02:03 | last snapshot | last=6",
            "2016-01-08 20:02:03 | last snapshot | last=5",
            "2016-01-07 10:02:03 | last snapshot | last=4",
            "2016-01-06 08:02:03 | last snapshot | last=3",
            "2016-01-05 09:02:03 | last snapshot | last=2",
            "2016-01-04 16:23:03 | last snapshot | last=1",
            "2016-01-04 12:30:03 | last snapshot",
        ],
        [5] =
        [
            "2016-01-18 12:02:03 | hourly snapshot | hourly=19",
            "2016-01-12 21:08:03 | hourly snapshot | hourly=18",
            "2016-01-09 21:02:03 | hourly snapshot | hourly=17",
            "2016-01-08 20:02:03 | hourly snapshot | hourly=16",
            "2016-01-07 10:02:03 | hourly snapshot | hourly=15",
            "2016-01-06 08:02:03 | hourly snapshot | hourly=14",
            "2016-01-05 09:02:03 | hourly snapshot | hourly=13",
            "2016-01-04 16:23:03 | hourly snapshot | hourly=12",
            "2016-01-04 12:30:03 | hourly snapshot | hourly=11",
            "2016-01-04 11:23:03 | hourly snapshot | hourly=10",
            "2016-01-04 10:23:03 | hourly snapshot | hourly=9",
            "2016-01-03 07:02:03 | hourly snapshot | hourly=8",
            "2016-01-01 07:08:03 | hourly snapshot | hourly=7",
            "2016-01-01 01:03:03 | hourly snapshot | hourly=6",
            "2015-11-22 10:20:30 | hourly snapshot | hourly=5",
            "2015-11-21 10:20:30 | hourly snapshot | hourly=4",
            "2015-11-20 10:20:30 | hourly snapshot | hourly=3",
            "2015-11-18 10:20:30 | hourly snapshot | hourly=2",
            "2015-11-15 10:20:30 | hourly snapshot | hourly=1",
            "2015-11-13 10:20:30.1 | hourly snapshot",
        ],
        [6] =
        [
            "2016-01-18 12:02:03 | daily snapshot | daily=2",
            "2016-01-12 21:08:03 | daily snapshot | daily=1",
            "2016-01-09 21:02:03 | daily snapshot",
        ],
        [7] =
        [
            "2016-01-18 12:02:03 | daily snapshot | daily=9",
            "2016-01-12 21:08:03 | daily snapshot | daily=8",
            "2016-01-09 21:02:03 | daily snapshot | daily=7",
            "2016-01-08 20:02:03 | daily snapshot | daily=6",
            "2016-01-07 10:02:03 | daily snapshot | daily=5",
            "2016-01-06 08:02:03 | daily snapshot | daily=4",
            "2016-01-05 09:02:03 | daily snapshot | daily=3",
            "2016-01-04 16:23:03 | daily snapshot | daily=2",
            "2016-01-03 07:02:03 | daily snapshot | daily=1",
            "2016-01-01 07:08:03 | daily snapshot",
        ],
        [9] =
        [
            "2016-01-18 12:02:03 | last snapshot, daily snapshot | last=4 daily=4",
            "2016-01-12 21:08:03 | last snapshot, daily snapshot | last=3 daily=3",
            "2016-01-12 21:02:03 | last snapshot | last=2 daily=3",
            "2016-01-09 21:02:03 | last snapshot, daily snapshot | last=1 daily=2",
            "2016-01-08 20:02:03 | last snapshot, daily snapshot | daily=1",
            "2016-01-07 10:02:03 | daily snapshot",
        ],
        [10] =
        [
            "2016-01-18 12:02:03 | last snapshot, daily snapshot | last=1 daily=9",
            "2016-01-12 21:08:03 | last snapshot, daily snapshot | daily=8",
            "2016-01-09 21:02:03 | daily snapshot | daily=7",
            "2016-01-08 20:02:03 | daily snapshot | daily=6",
            "2016-01-07 10:02:03 | daily snapshot | daily=5",
            "2016-01-06 08:02:03 | daily snapshot | daily=4",
            "2016-01-05 09:02:03 | daily snapshot | daily=3",
            "2016-01-04 16:23:03 | daily snapshot | daily=2",
            "2016-01-03 07:02:03 | daily snapshot | daily=1",
            "2016-01-01 07:08:03 | daily snapshot",
        ],
        [11] =
        [
            "2016-01-18 12:02:03 | weekly snapshot | weekly=1",
            "2016-01-12 21:08:03 | weekly snapshot",
        ],
        [12] =
        [
            "2016-01-18 12:02:03 | weekly snapshot | weekly=3",
            "2016-01-12 21:08:03 | weekly snapshot | weekly=2",
            "2016-01-09 21:02:03 | weekly snapshot | weekly=1",
            "2016-01-03 07:02:03 | weekly snapshot",
        ],
        [13] =
        [
            "2016-01-18 12:02:03 | daily snapshot, weekly snapshot | daily=2 weekly=3",
            "2016-01-12 21:08:03 | daily snapshot, weekly snapshot | daily=1 weekly=2",
            "2016-01-09 21:02:03 | daily snapshot, weekly snapshot | weekly=1",
            "2016-01-03 07:02:03 | weekly snapshot",
        ],
        [14] =
        [
            "2016-01-18 12:02:03 | monthly snapshot | monthly=5",
            "2015-11-22 10:20:30 | monthly snapshot | monthly=4",
            "2015-10-22 10:20:30 | monthly snapshot | monthly=3",
            "2015-09-22 10:20:30 | monthly snapshot | monthly=2",
            "2015-08-22 10:20:30 | monthly snapshot | monthly=1",
            "2014-11-22 10:20:30 | monthly snapshot",
        ],
        [15] =
        [
            "2016-01-18 12:02:03 | daily snapshot, weekly snapshot, monthly snapshot | daily=1 weekly=1 monthly=5",
            "2016-01-12 21:08:03 | daily snapshot, weekly snapshot | monthly=5",
            "2015-11-22 10:20:30 | monthly snapshot | monthly=4",
            "2015-10-22 10:20:30 | monthly snapshot | monthly=3",
            "2015-09-22 10:20:30 | monthly snapshot | monthly=2",
            "2015-08-22 10:20:30 | monthly snapshot | monthly=1",
            "2014-11-22 10:20:30 | monthly snapshot",
        ],
        [16] =
        [
            "2016-01-18 12:02:03 | yearly snapshot | yearly=9",
            "2015-11-22 10:20:30 | yearly snapshot | yearly=8",
            "2014-11-22 10:20:30 | yearly snapshot | yearly=7",
            "2014-08-08 10:20:30 | oldest yearly snapshot | yearly=6",
        ],
        [17] =
        [
            "2016-01-18 12:02:03 | daily snapshot, weekly snapshot, monthly snapshot, yearly snapshot | daily=6 weekly=1 monthly=2 yearly=9",
            "2016-01-12 21:08:03 | daily snapshot, weekly snapshot | daily=5 monthly=2 yearly=9",
            "2016-01-09 21:02:03 | daily snapshot | daily=4 monthly=2 yearly=9",
            "2016-01-08 20:02:03 | daily snapshot | daily=3 monthly=2 yearly=9",
            "2016-01-07 10:02:03 | daily snapshot | daily=2 monthly=2 yearly=9",
            "2016-01-06 08:02:03 | daily snapshot | daily=1 monthly=2 yearly=9",
            "2016-01-05 09:02:03 | daily snapshot | monthly=2 yearly=9",
            "2015-11-22 10:20:30 | monthly snapshot, yearly snapshot | monthly=1 yearly=8",
            "2015-10-22 10:20:30 | monthly snapshot | yearly=8",
            "2014-11-22 10:20:30 | yearly snapshot | yearly=7",
            "2014-08-08 10:20:30 | oldest yearly snapshot | yearly=6",
        ],
        [18] =
        [
            "2015-10-22 10:20:30 [foo,bar] | has tags [foo]",
            "2015-10-22 10:20:30 [foo,bar] | has tags [foo]",
            "2015-10-22 10:20:30 [foo,bar] {path1,path2} | has tags [foo]",
            "2014-11-15 10:20:30 [foo,bar] | has tags [foo]",
            "2014-11-13 10:20:30 [foo] | has tags [foo]",
            "2014-11-12 10:20:30 [foo] | has tags [foo]",
            "2014-11-10 10:20:30 [foo] | has tags [foo]",
            "2014-11-08 10:20:30 [foo] | has tags [foo]",
            "2014-10-22 10:20:30 [foo] | has tags [foo]",
            "2014-10-20 10:20:30 [foo] | has tags [foo]",
            "2014-10-11 10:20:30 [foo] | has tags [foo]",
            "2014-10-10 10:20:30 [foo] | has tags [foo]",
            "2014-10-09 10:20:30 [foo] | has tags [foo]",
            "2014-10-08 10:20:30 [foo] | has tags [foo]",
            "2014-10-06 10:20:30 [foo] | has tags [foo]",
            "2014-10-05 10:20:30 [foo] | has tags [foo]",
            "2014-10-02 10:20:30 [foo] | has tags [foo]",
            "2014-10-01 10:20:30 [foo] | has tags [foo]",
        ],
        [19] =
        [
            "2015-10-22 10:20:30 [foo,bar] | has tags [foo, bar]",
            "2015-10-22 10:20:30 [foo,bar] | has tags [foo, bar]",
            "2015-10-22 10:20:30 [foo,bar] {path1,path2} | has tags [foo, bar]",
            "2014-11-15 10:20:30 [foo,bar] | has tags [foo, bar]",
        ],
        [20] =
        [
            "2015-10-22 10:20:30 [foo,bar] | has tags [foo], has tags [bar]",
            "2015-10-22 10:20:30 [foo,bar] | has tags [foo], has tags [bar]",
            "2015-10-22 10:20:30 [foo,bar] {path1,path2} | has tags [foo], has tags [bar]",
            "2014-11-15 10:20:30 [foo,bar] | has tags [foo], has tags [bar]",
            "2014-11-13 10:20:30.1 [bar] | has tags [bar]",
            "2014-11-13 10:20:30 [foo] | has tags [foo]",
            "2014-11-12 10:20:30 [foo] | has tags [foo]",
            "2014-11-10 10:20:30 [foo] | has tags [foo]",
            "2014-11-08 10:20:30 [foo] | has tags [foo]",
            "2014-10-22 10:20:30 [foo] | has tags [foo]",
            "2014-10-20 10:20:30 [foo] | has tags [foo]",
            "2014-10-11 10:20:30 [foo] | has tags [foo]",
            "2014-10-10 10:20:30 [foo] | has tags [foo]",
            "2014-10-09 10:20:30 [foo] | has tags [foo]",
            "2014-10-08 10:20:30 [foo] | has tags [foo]",
            "2014-10-06 10:20:30 [foo] | has tags [foo]",
            "2014-10-05 10:20:30 [foo] | has tags [foo]",
            "2014-10-02 10:20:30 [foo] | has tags [foo]",
            "2014-10-01 10:20:30 [foo] | has tags [foo]",
        ],
        [21] =
        [
            "2016-01-18 12:02:03 | within 1d",
        ],
        [22] =
        [
            "2016-01-18 12:02:03 | within 2d",
        ],
        [23] =
        [
            "2016-01-18 12:02:03 | within 7d",
            "2016-01-12 21:08:03 | within 7d",
            "2016-01-12 21:02:03 | within 7d",
        ],
        [24] =
        [
            "2016-01-18 12:02:03 | within 1m",
            "2016-01-12 21:08:03 | within 1m",
            "2016-01-12 21:02:03 | within 1m",
            "2016-01-09 21:02:03 | within 1m",
            "2016-01-08 20:02:03 | within 1m",
            "2016-01-07 10:02:03 | within 1m",
            "2016-01-06 08:02:03 | within 1m",
            "2016-01-05 09:02:03 | within 1m",
            "2016-01-04 16:23:03 | within 1m",
            "2016-01-04 12:30:03 | within 1m",
            "2016-01-04 12:28:03 | within 1m",
            "2016-01-04 12:24:03 | within 1m",
            "2016-01-04 12:23:03 | within 1m",
            "2016-01-04 11:23:03 | within 1m",
            "2016-01-04 10:23:03 | within 1m",
            "2016-01-03 07:02:03 | within 1m",
            "2016-01-01 07:08:03 | within 1m",
            "2016-01-01 01:03:03 | within 1m",
            "2016-01-01 01:02:03 | within 1m",
        ],
        [25] =
        [
            "2016-01-18 12:02:03 | within 1m14d",
            "2016-01-12 21:08:03 | within 1m14d",
            "2016-01-12 21:02:03 | within 1m14d",
            "2016-01-09 21:02:03 | within 1m14d",
            "2016-01-08 20:02:03 | within 1m14d",
            "2016-01-07 10:02:03 | within 1m14d",
            "2016-01-06 08:02:03 | within 1m14d",
            "2016-01-05 09:02:03 | within 1m14d",
            "2016-01-04 16:23:03 | within 1m14d",
            "2016-01-04 12:30:03 | within 1m14d",
            "2016-01-04 12:28:03 | within 1m14d",
            "2016-01-04 12:24:03 | within 1m14d",
            "2016-01-04 12:23:03 | within 1m14d",
            "2016-01-04 11:23:03 | within 1m14d",
            "2016-01-04 10:23:03 | within 1m14d",
            "2016-01-03 07:02:03 | within 1m14d",
            "2016-01-01 07:08:03 | within 1m14d",
            "2016-01-01 01:03:03 | within 1m14d",
            "2016-01-01 01:02:03 | within 1m14d",
        ],
        [27] =
        [
            "2016-01-18 12:02:03 | within 13d23h",
            "2016-01-12 21:08:03 | within 13d23h",
            "2016-01-12 21:02:03 | within 13d23h",
            "2016-01-09 21:02:03 | within 13d23h",
            "2016-01-08 20:02:03 | within 13d23h",
            "2016-01-07 10:02:03 | within 13d23h",
            "2016-01-06 08:02:03 | within 13d23h",
            "2016-01-05 09:02:03 | within 13d23h",
            "2016-01-04 16:23:03 | within 13d23h",
        ],
        [28] =
        [
            "2016-01-18 12:02:03 | within 2m2h",
            "2016-01-12 21:08:03 | within 2m2h",
            "2016-01-12 21:02:03 | within 2m2h",
            "2016-01-09 21:02:03 | within 2m2h",
            "2016-01-08 20:02:03 | within 2m2h",
            "2016-01-07 10:02:03 | within 2m2h",
            "2016-01-06 08:02:03 | within 2m2h",
            "2016-01-05 09:02:03 | within 2m2h",
            "2016-01-04 16:23:03 | within 2m2h",
            "2016-01-04 12:30:03 | within 2m2h",
            "2016-01-04 12:28:03 | within 2m2h",
            "2016-01-04 12:24:03 | within 2m2h",
            "2016-01-04 12:23:03 | within 2m2h",
            "2016-01-04 11:23:03 | within 2m2h",
            "2016-01-04 10:23:03 | within 2m2h",
            "2016-01-03 07:02:03 | within 2m2h",
            "2016-01-01 07:08:03 | within 2m2h",
            "2016-01-01 01:03:03 | within 2m2h",
            "2016-01-01 01:02:03 | within 2m2h",
            "2015-11-22 10:20:30 | within 2m2h",
            "2015-11-21 10:20:30 | within 2m2h",
            "2015-11-20 10:20:30 | within 2m2h",
            "2015-11-18 10:20:30 | within 2m2h",
        ],
        [32] =
        [
            "2016-01-18 12:02:03 | weekly within 1y2m3d3h",
            "2016-01-12 21:08:03 | weekly within 1y2m3d3h",
            "2016-01-09 21:02:03 | weekly within 1y2m3d3h",
            "2016-01-03 07:02:03 | weekly within 1y2m3d3h",
            "2015-11-22 10:20:30 | weekly within 1y2m3d3h",
            "2015-11-15 10:20:30 | weekly within 1y2m3d3h",
            "2015-11-08 10:20:30 | weekly within 1y2m3d3h",
            "2015-10-22 10:20:30 | weekly within 1y2m3d3h",
            "2015-10-11 10:20:30 | weekly within 1y2m3d3h",
            "2015-10-02 10:20:30 | weekly within 1y2m3d3h",
            "2015-09-22 10:20:30 | weekly within 1y2m3d3h",
            "2015-09-20 10:20:30 | weekly within 1y2m3d3h",
            "2015-09-11 10:20:30 | weekly within 1y2m3d3h",
            "2015-09-06 10:20:30 | weekly within 1y2m3d3h",
            "2015-08-22 10:20:30 | weekly within 1y2m3d3h",
            "2015-08-15 10:20:30 | weekly within 1y2m3d3h",
            "2015-08-08 10:20:30 | weekly within 1y2m3d3h",
            "2014-11-22 10:20:30 | weekly within 1y2m3d3h",
            "2014-11-15 10:20:30 [foo,bar] | weekly within 1y2m3d3h",
        ],
        [33] =
        [
            "2016-01-18 12:02:03 | monthly within 1y2m3d3h",
            "2015-11-22 10:20:30 | monthly within 1y2m3d3h",
            "2015-10-22 10:20:30 | monthly within 1y2m3d3h",
            "2015-09-22 10:20:30 | monthly within 1y2m3d3h",
            "2015-08-22 10:20:30 | monthly within 1y2m3d3h",
            "2014-11-22 10:20:30 | monthly within 1y2m3d3h",
        ],
        [34] =
        [
            "2016-01-18 12:02:03 | yearly within 1y2m3d3h",
            "2015-11-22 10:20:30 | yearly within 1y2m3d3h",
            "2014-11-22 10:20:30 | yearly within 1y2m3d3h",
        ],
        [35] =
        [
            "2016-01-18 12:02:03 | within 1h, hourly within 1d, daily within 7d, weekly within 1m, monthly within 1y, yearly within 9999y",
            "2016-01-12 21:08:03 | daily within 7d, weekly within 1m",
            "2016-01-09 21:02:03 | weekly within 1m",
            "2016-01-03 07:02:03 | weekly within 1m",
            "2015-11-22 10:20:30 | monthly within 1y, yearly within 9999y",
            "2015-10-22 10:20:30 | monthly within 1y",
            "2015-09-22 10:20:30 | monthly within 1y",
            "2015-08-22 10:20:30 | monthly within 1y",
            "2014-11-22 10:20:30 | yearly within 9999y",
            "2014-08-08 10:20:30 | oldest yearly within 9999y",
        ],
        [39] =
        [
            "2016-01-18 12:02:03 | daily snapshot, weekly snapshot, monthly snapshot, yearly snapshot | daily=2 weekly=1 monthly=-1 yearly=-1",
            "2016-01-12 21:08:03 | daily snapshot, weekly snapshot | daily=1 monthly=-1 yearly=-1",
            "2016-01-09 21:02:03 | daily snapshot | monthly=-1 yearly=-1",
            "2015-11-22 10:20:30 | monthly snapshot, yearly snapshot | monthly=-1 yearly=-1",
            "2015-10-22 10:20:30 | monthly snapshot | monthly=-1 yearly=-1",
            "2015-09-22 10:20:30 | monthly snapshot | monthly=-1 yearly=-1",
            "2015-08-22 10:20:30 | monthly snapshot | monthly=-1 yearly=-1",
            "2014-11-22 10:20:30 | monthly snapshot, yearly snapshot | monthly=-1 yearly=-1",
            "2014-10-22 10:20:30 [foo] | monthly snapshot | monthly=-1 yearly=-1",
            "2014-09-22 10:20:30 | monthly snapshot | monthly=-1 yearly=-1",
            "2014-08-22 10:20:30 | monthly snapshot | monthly=-1 yearly=-1",
            "2014-08-08 10:20:30 | oldest monthly snapshot, oldest yearly snapshot | monthly=-1 yearly=-1",
        ],
    };

    public static TheoryData<int> AllPolicies => [.. Enumerable.Range(0, 40)];

    public static TheoryData<int> DetailedPolicies => [.. Expected.Keys.Order()];

    [Theory]
    [MemberData(nameof(AllPolicies))]
    public void Keeps_as_many_snapshots_as_restic(int policy)
    {
        var result = Evaluate(policy);
        Assert.Equal(KeepCounts[policy], result.Count(d => d.Keep));
        Assert.Equal(Input.Length, result.Count);
    }

    [Theory]
    [MemberData(nameof(DetailedPolicies))]
    public void Keeps_the_snapshots_restic_keeps_for_the_reasons_restic_gives(int policy)
    {
        var actual = Evaluate(policy).Where(d => d.Keep).Select(Describe).ToArray();
        Assert.Equal(Expected[policy], actual);
    }

    [Fact]
    public void The_oldest_rule_and_unlimited_counts_are_what_make_current_restic_differ_from_0_14()
    {
        // Policy 39 (daily 3, weekly 2, monthly and yearly unlimited): 0.14 ignores the unlimited counts.
        var options = new RetentionOptions { GroupBy = RetentionGrouping.None, Compatibility = ResticCompatibility.V0_14 };
        var old = RetentionEvaluator.Evaluate(InputSubjects(), s => s, Policy(39), options).Groups.Single().Decisions;
        Assert.Equal(3, old.Count(d => d.Keep));
        Assert.DoesNotContain(old.SelectMany(d => d.Reasons), r => r.IsOldest);

        // Yearly 10 (policy 16): current restic also keeps the oldest snapshot, as "oldest yearly snapshot"; 0.14
        // keeps one per year only.
        var current = Evaluate(16);
        Assert.Equal("oldest yearly snapshot", current.Last().Reasons.Single().Text);
        Assert.True(current.Last().Reasons.Single().IsOldest);
        var v014 = RetentionEvaluator.Evaluate(InputSubjects(), s => s, Policy(16), options).Groups.Single().Decisions;
        Assert.False(v014.Last().Keep);
        Assert.Equal(3, v014.Count(d => d.Keep));
    }

    private static IReadOnlyList<RetentionDecision<RetentionSubject>> Evaluate(int policy)
    {
        // Grouping is off: restic's test calls ApplyPolicy on the whole list. The empty policy 0 is allowed here
        // because ApplyPolicy itself has no such check (current restic's command refuses it).
        var options = new RetentionOptions { GroupBy = RetentionGrouping.None, AllowRemoveAll = true };
        return RetentionEvaluator.Evaluate(InputSubjects(), s => s, Policy(policy), options).Groups.Single().Decisions;
    }

    private static string Describe(RetentionDecision<RetentionSubject> d)
    {
        var s = d.Subject;
        var w = s.Time.ToDateTimeOffset().UtcDateTime;
        string time = w.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + (w.Ticks % TimeSpan.TicksPerSecond != 0 ? "." + (w.Ticks % TimeSpan.TicksPerSecond / 1_000_000).ToString(CultureInfo.InvariantCulture) : "");
        string text = time;
        if (s.Tags.Count > 0) text += " [" + string.Join(',', s.Tags) + "]";
        if (s.Paths.Count > 0) text += " {" + string.Join(',', s.Paths) + "}";
        text += " | " + string.Join(", ", d.Reasons.Select(r => r.Text));
        var c = d.Counters;
        var counters = new[] { ("last", c.Last), ("hourly", c.Hourly), ("daily", c.Daily), ("weekly", c.Weekly), ("monthly", c.Monthly), ("yearly", c.Yearly) }
            .Where(x => x.Item2 != 0).Select(x => string.Create(CultureInfo.InvariantCulture, $"{x.Item1}={x.Item2}")).ToArray();
        return counters.Length > 0 ? text + " | " + string.Join(' ', counters) : text;
    }

    private static RetentionSubject ParseEntry(string entry)
    {
        // "yyyy-MM-dd HH:mm:ss[.f] [tag,tag] {path,path}", all UTC.
        var parts = entry.Split(' ');
        var time = DateTime.ParseExact(parts[0] + " " + parts[1], ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.f"], CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
        string[] tags = [], paths = [];
        foreach (var p in parts.Skip(2))
        {
            if (p.StartsWith('[')) tags = p.Trim('[', ']').Split(',');
            if (p.StartsWith('{')) paths = p.Trim('{', '}').Split(',');
        }

        return new RetentionSubject(GoTime.FromDateTimeOffset(new DateTimeOffset(time, TimeSpan.Zero)), null, paths, tags);
    }
}
