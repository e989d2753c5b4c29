using System.Buffers;
using k8s.Models;
using KubeBackup.Kubernetes.Leases;
using KubeBackup.Kubernetes.Tests.Support;
using KubeBackup.Restic.Json;
using KubeBackup.Restic.Locking;
using KubeBackup.Restic.Model;
using KubeBackup.Storage;
using Microsoft.Extensions.Time.Testing;

namespace KubeBackup.Kubernetes.Tests.Leases;

public sealed class RepositoryLeaseTests
{
    private const string Repo = "s3:https://s3.example.com/backups/shop";

    [Fact]
    public async Task Two_holders_never_overlap_even_with_conflicts_and_server_errors()
    {
        await using var c = await TestCluster.StartAsync();
        c.Server.Faults.FailNext(3, 409, "PUT", "/leases/");
        c.Server.Faults.FailNext(3, 500, "GET", "/leases/");
        int active = 0, maxActive = 0, done = 0;
        async Task Worker(string id)
        {
            var manager = new RepositoryLeaseManager(c.Client, new RepositoryLeaseOptions
            {
                Namespace = "default", HolderIdentity = id, LeaseDuration = TimeSpan.FromSeconds(10), RenewInterval = TimeSpan.FromSeconds(3),
                RetryInterval = TimeSpan.FromMilliseconds(10),
            });
            for (int i = 0; i < 5; i++)
            {
                await using var lease = await manager.AcquireAsync(Repo, TimeSpan.FromMinutes(2));
                int now = Interlocked.Increment(ref active);
                InterlockedMax(ref maxActive, now);
                await Task.Delay(15);
                Assert.False(lease.IsLost);
                Interlocked.Decrement(ref active);
                Interlocked.Increment(ref done);
            }
        }

        await Task.WhenAll(Worker("operator-a"), Worker("operator-b"), Worker("cronjob-c"));
        Assert.Equal(15, done);
        Assert.Equal(1, maxActive);
        var lease = await c.Client.CoordinationV1.ReadNamespacedLeaseAsync(RepositoryLeaseManager.LeaseNameFor(Repo), "default");
        Assert.Null(lease.Spec.HolderIdentity);
        Assert.True(lease.Spec.LeaseTransitions >= 2);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    [Fact]
    public async Task Renewal_keeps_the_lease_expiry_frees_it_and_a_taken_lease_is_reported_lost()
    {
        await using var c = await TestCluster.StartAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-27T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        RepositoryLeaseManager Manager(string id) => new(c.Client, new RepositoryLeaseOptions
        {
            Namespace = "default", HolderIdentity = id, LeaseDuration = TimeSpan.FromSeconds(30), RenewInterval = TimeSpan.FromSeconds(10), TimeProvider = clock,
        });
        var a = Manager("a");
        var b = Manager("b");
        string name = RepositoryLeaseManager.LeaseNameFor(Repo);
        var held = await a.TryAcquireAsync(Repo);
        Assert.NotNull(held);
        Assert.Null(await b.TryAcquireAsync(Repo));

        // Renewals move renewTime on; past the original expiry the lease is still a's.
        for (int i = 1; i <= 4; i++)
        {
            var expected = clock.GetUtcNow().UtcDateTime.AddSeconds(10);
            await AdvanceUntilAsync(clock, TimeSpan.FromSeconds(10), async () =>
                (await c.Client.CoordinationV1.ReadNamespacedLeaseAsync(name, "default")).Spec.RenewTime >= expected.AddMilliseconds(-1));
        }

        Assert.Null(await b.TryAcquireAsync(Repo));
        var error = await Assert.ThrowsAsync<RepositoryLeaseHeldException>(() => b.AcquireAsync(Repo));
        Assert.Equal("a", error.Holder);

        // a crashes: no more renewals. Once the lease has expired, b takes it over.
        await held.AbandonAsync();
        clock.Advance(TimeSpan.FromSeconds(31));
        var taken = await b.TryAcquireAsync(Repo);
        Assert.NotNull(taken);
        var lease = await c.Client.CoordinationV1.ReadNamespacedLeaseAsync(name, "default");
        Assert.Equal("b", lease.Spec.HolderIdentity);
        Assert.Equal(1, lease.Spec.LeaseTransitions);

        // Someone takes b's lease behind its back: b's next renewal notices, and Lost fires.
        lease.Spec.HolderIdentity = "intruder";
        await c.Client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, name, "default");
        await AdvanceUntilAsync(clock, TimeSpan.FromSeconds(10), () => Task.FromResult(taken!.IsLost));
        Assert.True(taken!.Lost.IsCancellationRequested);
        await taken.DisposeAsync();
        Assert.Equal("intruder", (await c.Client.CoordinationV1.ReadNamespacedLeaseAsync(name, "default")).Spec.HolderIdentity);
    }

    // A fake clock's Advance fires only the timers registered by then, and the renewal loop registers its next timer
    // only after the previous renewal's API call has returned. So after the advance the clock is nudged on in small
    // steps (at most 10 s more, well inside the 30 s lease) until the condition holds, rather than hoping the one
    // advance came after the registration.
    private static async Task AdvanceUntilAsync(FakeTimeProvider clock, TimeSpan advance, Func<Task<bool>> condition)
    {
        clock.Advance(advance);
        var extra = TimeSpan.Zero;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("condition not reached");
            }

            await Task.Delay(100);
            if (extra < TimeSpan.FromSeconds(10))
            {
                clock.Advance(TimeSpan.FromMilliseconds(500));
                extra += TimeSpan.FromMilliseconds(500);
            }
        }
    }

    private static async Task WriteLockAsync(Restic.Repository.ResticRepository repo, string host, DateTimeOffset time)
    {
        var json = new ArrayBufferWriter<byte>();
        ResticJson.WriteLock(new LockDocument { Time = GoTime.FromDateTimeOffset(time), Exclusive = false, Hostname = host, Username = "root", Pid = 4242 }, json);
        await repo.SaveJsonFileAsync(FileType.Lock, json.WrittenMemory, CancellationToken.None);
    }

    [Fact]
    public async Task A_restic_lock_whose_pod_is_gone_is_stale_at_once()
    {
        await using var c = await TestCluster.StartAsync();
        using var dir = new TempFolder();
        await using var repo = await TestRepositories.InitAsync(dir.Path);
        await c.CreatePodAsync("backup-job-x1");
        await WriteLockAsync(repo, "backup-job-x1", DateTimeOffset.UtcNow.AddSeconds(5));
        await WriteLockAsync(repo, "laptop", DateTimeOffset.UtcNow);
        var staleness = new PodLockStaleness(c.Client, "default", host => host.StartsWith("backup-job-", StringComparison.Ordinal) || host.StartsWith("db-", StringComparison.Ordinal));

        var locks = await RepositoryLock.ListAsync(repo);
        Assert.All(locks, l => Assert.False(l.IsStale));
        foreach (var l in locks)
        {
            Assert.False(await staleness.IsStaleAsync(l.Document!, repo.Options.Hostname));
        }

        Assert.Equal(0, await staleness.RemoveStaleLocksAsync(repo));
        await c.Client.CoreV1.DeleteNamespacedPodAsync("backup-job-x1", "default");
        Assert.Equal(1, await staleness.RemoveStaleLocksAsync(repo));
        // The laptop's lock keeps restic's rules: not a pod, not stale.
        Assert.Equal("laptop", Assert.Single(await RepositoryLock.ListAsync(repo)).Document!.Hostname);

        // A StatefulSet pod that came back under the same name is another incarnation: the old lock is stale.
        await WriteLockAsync(repo, "db-0", DateTimeOffset.UtcNow.AddMinutes(-2));
        await c.CreatePodAsync("db-0");
        Assert.Equal(1, await staleness.RemoveStaleLocksAsync(repo));
        Assert.Single(await RepositoryLock.ListAsync(repo));
    }
}
