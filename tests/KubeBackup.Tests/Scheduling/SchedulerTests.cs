using System.Collections.Concurrent;
using KubeBackup.Configuration;
using KubeBackup.Scheduling;
using KubeBackup.Sessions;
using Microsoft.Extensions.Time.Testing;

namespace KubeBackup.Tests.Scheduling;

/// <summary>The scheduler on a fake clock: the test moves time to each due instant and looks at what fired.</summary>
public sealed class SchedulerTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    [Fact]
    public async Task Daily_job_in_Berlin_fires_at_the_right_instants_across_both_DST_changes()
    {
        // 2025-03-30 02:00 CET jumps to 03:00 CEST; 2025-10-26 03:00 CEST falls back to 02:00 CET.
        var spring = await FireTimesAsync("30 2 * * *", new DateTimeOffset(2025, 3, 28, 12, 0, 0, TimeSpan.Zero), 4);
        Assert.Equal(
        [
            At(2025, 3, 29, 2, 30), // CET, UTC+1
            // 02:30 does not exist on the 30th: it runs at the end of the gap, 03:00 CEST, once.
            new DateTimeOffset(2025, 3, 30, 1, 0, 0, TimeSpan.Zero),
            At(2025, 3, 31, 2, 30), // CEST, UTC+2
            At(2025, 4, 1, 2, 30),
        ], spring);
        Assert.Equal(TimeSpan.FromHours(23.5), spring[2] - spring[1]);

        var autumn = await FireTimesAsync("30 2 * * *", new DateTimeOffset(2025, 10, 25, 12, 0, 0, TimeSpan.Zero), 3);
        // 02:30 happens twice on the 26th; a daily job runs once, at the first.
        Assert.Equal([At(2025, 10, 26, 2, 30, summer: true), At(2025, 10, 27, 2, 30), At(2025, 10, 28, 2, 30)], autumn);
        Assert.Equal(new DateTimeOffset(2025, 10, 26, 0, 30, 0, TimeSpan.Zero), autumn[0]);
        Assert.Equal(TimeSpan.FromHours(25), autumn[1] - autumn[0]);

        // An hourly job runs in both 02:00 hours of the autumn night, an hour apart in real time.
        var hourly = await FireTimesAsync("0 * * * *", new DateTimeOffset(2025, 10, 25, 23, 30, 0, TimeSpan.Zero), 3);
        Assert.Equal([
            new DateTimeOffset(2025, 10, 26, 0, 0, 0, TimeSpan.Zero), // 02:00 CEST
            new DateTimeOffset(2025, 10, 26, 1, 0, 0, TimeSpan.Zero), // 02:00 CET
            new DateTimeOffset(2025, 10, 26, 2, 0, 0, TimeSpan.Zero), // 03:00 CET
        ], hourly);
    }

    [Fact]
    public async Task Overlapping_run_is_skipped_with_Skip_and_queued_with_Queue()
    {
        foreach (var policy in new[] { ConcurrencyPolicy.Skip, ConcurrencyPolicy.Queue })
        {
            var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 0, 0, 30, TimeSpan.Zero));
            await using var scheduler = new BackupScheduler(time);
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var runs = new ConcurrentQueue<ScheduledRun>();
            var skipped = new ConcurrentQueue<(ScheduledRun Run, string Reason)>();
            var job = scheduler.Add("slow", CronSchedule.Parse("*/10 * * * *", "slow"), async (run, token) =>
            {
                runs.Enqueue(run);
                await release.Task;
            }, policy, (run, reason) => skipped.Enqueue((run, reason)));
            scheduler.Start();

            AdvanceToNextDue(time, job); // 00:10 starts, and keeps running
            await WaitUntil(() => runs.Count == 1);
            AdvanceToNextDue(time, job); // 00:20 is due while 00:10 still runs
            Assert.True(job.IsRunning);
            if (policy == ConcurrencyPolicy.Skip)
            {
                var (run, reason) = Assert.Single(skipped);
                Assert.Equal(("overlap", At(2025, 1, 1, 0, 20, utc: true)), (reason, run.DueAt));
                Assert.Equal(1, job.Skipped);
            }
            else
            {
                Assert.Empty(skipped);
            }

            release.SetResult();
            if (policy == ConcurrencyPolicy.Queue)
            {
                // The queued run starts as soon as the first ends, for its own due time.
                await WaitUntil(() => runs.Count == 2);
                Assert.True(runs.Last().Queued);
                Assert.Equal(At(2025, 1, 1, 0, 20, utc: true), runs.Last().DueAt);
            }

            await WaitUntil(() => !job.IsRunning);
            AdvanceToNextDue(time, job); // 00:30 runs normally
            await WaitUntil(() => runs.Count == (policy == ConcurrencyPolicy.Skip ? 2 : 3));
            Assert.Equal(At(2025, 1, 1, 0, 30, utc: true), runs.Last().DueAt);
            Assert.False(runs.Last().Queued);
        }
    }

    [Fact]
    public async Task Paused_configuration_records_skipped_sessions_instead_of_running()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero));
        using var metrics = new KubeBackup.Diagnostics.KubeBackupMetrics();
        var runner = new SessionRunner(new SessionRunnerOptions { TimeProvider = time, Metrics = metrics });
        var history = new SessionHistory();
        var configuration = new BackupConfiguration
        {
            Name = "paused", Schedule = "@hourly", Paused = true, HistoryLimit = 2,
            Repository = new RepositoryReference { Location = "/nonexistent", Password = SecretReference.FromValue("x") },
            Targets = { new BackupTarget { Name = "t", Paths = { "/nonexistent" } } },
        };
        await using var scheduler = new BackupScheduler(time);
        var job = scheduler.AddConfiguration(configuration, runner, history);
        scheduler.Start();
        for (int i = 0; i < 3; i++)
        {
            AdvanceToNextDue(time, job);
        }

        Assert.Equal((0, 3), (job.Started, job.Skipped));
        var kept = history.For("paused");
        Assert.Equal(2, kept.Count);
        Assert.All(kept, s => Assert.Equal(SessionPhase.Skipped, s.Phase));
        Assert.Equal("the configuration is paused", kept[0].Reason);
    }

    [Fact]
    public void Daily_random_is_stable_for_a_target_and_differs_between_targets()
    {
        var a1 = CronSchedule.Parse("@daily-random", "prod/orders-db");
        var a2 = CronSchedule.Parse("@daily-random", "prod/orders-db");
        var b = CronSchedule.Parse("@daily-random", "prod/users-db");
        Assert.Equal(a1.Resolved, a2.Resolved);
        Assert.NotEqual(a1.Resolved, b.Resolved);
        Assert.Matches(@"^\d{1,2} \d{1,2} \* \* \*$", a1.Resolved);
        var from = new DateTimeOffset(2025, 5, 5, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(a1.GetNextOccurrence(from), a2.GetNextOccurrence(from));

        // Over many targets the minutes spread out instead of piling up at one instant.
        var minutes = Enumerable.Range(0, 50).Select(i => CronSchedule.Parse("@daily-random", $"ns/target-{i}").Resolved).Distinct().Count();
        Assert.True(minutes > 40, $"{minutes} distinct schedules of 50");
        Assert.Matches(@"^\d{1,2} \* \* \* \*$", CronSchedule.Parse("@hourly-random", "x").Resolved);
        Assert.Matches(@"^\d{1,2} \d{1,2} \* \* [0-6]$", CronSchedule.Parse("@weekly-random", "x").Resolved);
        Assert.Throws<FormatException>(() => CronSchedule.Parse("@sometimes-random", "x"));
        Assert.Throws<FormatException>(() => CronSchedule.Parse("0 2 * * *", "x", "Mars/Olympus_Mons"));
    }

    private static async Task<List<DateTimeOffset>> FireTimesAsync(string cron, DateTimeOffset start, int count)
    {
        var time = new FakeTimeProvider(start);
        await using var scheduler = new BackupScheduler(time);
        var fired = new ConcurrentQueue<ScheduledRun>();
        var job = scheduler.Add("job", CronSchedule.Parse(cron, "job", "Europe/Berlin"), (run, _) =>
        {
            fired.Enqueue(run);
            return Task.CompletedTask;
        });
        scheduler.Start();
        for (int i = 0; i < count; i++)
        {
            AdvanceToNextDue(time, job);
            await WaitUntil(() => fired.Count == i + 1);
            await WaitUntil(() => !job.IsRunning);
        }

        // Each run started exactly at its occurrence: the clock was never past it.
        Assert.All(fired, r => Assert.Equal(r.DueAt, r.StartedAt));
        return [.. fired.Select(r => r.DueAt.ToUniversalTime())];
    }

    private static void AdvanceToNextDue(FakeTimeProvider time, ScheduledJob job)
    {
        var due = job.NextDue ?? throw new InvalidOperationException("nothing is due");
        time.Advance(due - time.GetUtcNow());
    }

    private static DateTimeOffset At(int y, int mo, int d, int h, int mi, bool summer = false, bool utc = false)
    {
        if (utc)
        {
            return new DateTimeOffset(y, mo, d, h, mi, 0, TimeSpan.Zero);
        }

        var local = new DateTime(y, mo, d, h, mi, 0, DateTimeKind.Unspecified);
        var offset = summer ? TimeSpan.FromHours(2) : Berlin.GetUtcOffset(local);
        return new DateTimeOffset(local, offset).ToUniversalTime();
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        // Waits for the thread pool to run what the timer started; the clock the assertions use is the fake one.
        for (int i = 0; i < 1000 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }
}
