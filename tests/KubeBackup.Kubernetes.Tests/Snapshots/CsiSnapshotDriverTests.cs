using System.Text.Json.Nodes;
using k8s.Models;
using KubeBackup.FakeKube;
using KubeBackup.Kubernetes.Exec;
using KubeBackup.Kubernetes.Hooks;
using KubeBackup.Kubernetes.Snapshots;
using KubeBackup.Kubernetes.Targets;
using KubeBackup.Kubernetes.Tests.Support;
using KubeBackup.Retention;

namespace KubeBackup.Kubernetes.Tests.Snapshots;

public sealed class CsiSnapshotDriverTests
{
    private static readonly TargetRef Web = new(TargetKind.Deployment, "default", "web");

    private static async Task<TestCluster> StartWithWorkloadAsync()
    {
        var c = await TestCluster.StartAsync();
        await c.Client.CustomObjects.CreateClusterCustomObjectAsync(new JsonObject
        {
            ["apiVersion"] = "snapshot.storage.k8s.io/v1", ["kind"] = "VolumeSnapshotClass", ["metadata"] = new JsonObject { ["name"] = "csi-class" },
            ["driver"] = "fake.csi.kubebackup.io", ["deletionPolicy"] = "Delete",
        }, "snapshot.storage.k8s.io", "v1", "volumesnapshotclasses");
        var pvc = await c.CreatePvcAsync("data");
        File.WriteAllText(Path.Combine(c.Server.Kubelet.VolumeFolder(pvc.Spec.VolumeName), "db.txt"), "v1\n");
        await c.Client.AppsV1.CreateNamespacedDeploymentAsync(Workloads.Deployment("web", claim: "data"), "default");
        await TestCluster.WaitForAsync(() => c.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default"), d => d.Status?.ReadyReplicas == 1);
        return c;
    }

    /// <summary>Acts as the snapshot controller for one snapshot: marks it ready through the status subresource.</summary>
    private static Task MarkReadyAsync(TestCluster c, string name) =>
        c.Client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(
            new V1Patch("{\"status\":{\"readyToUse\":true,\"creationTime\":\"2026-11-27T10:00:00Z\",\"restoreSize\":\"1Gi\"}}", V1Patch.PatchType.MergePatch),
            "snapshot.storage.k8s.io", "v1", "default", "volumesnapshots", name);

    private static CsiSnapshotDriver Driver(TestCluster c) =>
        new(c.Client, new TargetResolver(c.Client), new PodHookRunner(new PodExecutor(c.Client)));

    [Fact]
    public async Task Snapshots_a_targets_claims_between_one_hook_pair_and_restores_into_a_new_claim_the_workload_can_use()
    {
        await using var c = await StartWithWorkloadAsync();
        var request = new VolumeSnapshotRequest { SessionName = "s1", SnapshotClassName = "csi-class" };
        request.Labels["team"] = "payments";
        request.PreHooks.Add(new PodExecHook { Name = "freeze", Command = ["sh", "-c", "echo frozen >> /data/hooks.log"] });
        request.PostHooks.Add(new PodExecHook { Name = "thaw", Command = ["sh", "-c", "echo thawed >> /data/hooks.log"] });
        var result = await Driver(c).SnapshotAsync(Web, request);

        var snap = Assert.Single(result.Snapshots);
        Assert.Equal("data-s1", snap.Name);
        Assert.True(snap.ReadyToUse);
        Assert.Equal("1Gi", snap.RestoreSize);
        Assert.Equal("s1", snap.Labels[CsiSnapshotDriver.SessionLabel]);
        Assert.Equal("payments", snap.Labels["team"]);
        Assert.Equal(["freeze", "thaw"], result.Hooks.Select(h => h.Hook));

        var claim = await Driver(c).RestoreClaimAsync(new ClaimRestoreRequest { Namespace = "default", SnapshotName = "data-s1", ClaimName = "data-restored" });
        Assert.Equal("Bound", claim.Status.Phase);
        var restoredFolder = c.Server.Kubelet.VolumeFolder(claim.Spec.VolumeName);
        Assert.Equal("v1\n", File.ReadAllText(Path.Combine(restoredFolder, "db.txt")));
        // The snapshot was cut between the hooks: it holds the pre hook's line, not the post hook's.
        Assert.Equal("frozen\n", File.ReadAllText(Path.Combine(restoredFolder, "hooks.log")));

        await Driver(c).RepointWorkloadAsync(Web, "data", "data-restored");
        var pods = await TestCluster.WaitForAsync(() => c.Client.CoreV1.ListNamespacedPodAsync("default", labelSelector: "app=web"),
            l => l.Items.Count == 1 && l.Items[0].Spec.Volumes.Single().PersistentVolumeClaim.ClaimName == "data-restored" && l.Items[0].Status?.Phase == "Running");
        var exec = await new PodExecutor(c.Client).RunAsync(new PodExecRequest { Namespace = "default", Pod = pods.Items[0].Metadata.Name, Command = ["cat", "/data/hooks.log"] });
        Assert.Equal("frozen\n", exec.StdoutText);
    }

    [Fact]
    public async Task A_snapshot_that_never_becomes_ready_times_out_and_a_failed_one_surfaces_its_error()
    {
        await using var c = await StartWithWorkloadAsync();
        c.Server.Controllers.SnapshotBehavior = s => ((string?)s["metadata"]!["name"])!.EndsWith("stuck", StringComparison.Ordinal)
            ? new SnapshotOutcome { NeverReady = true }
            : new SnapshotOutcome { Error = "Failed to create snapshot: disk on fire" };
        var stuck = await Assert.ThrowsAsync<VolumeSnapshotException>(() => Driver(c).SnapshotAsync(Web, new VolumeSnapshotRequest { SessionName = "stuck", ReadyTimeout = TimeSpan.FromSeconds(1) }));
        Assert.True(stuck.TimedOut);
        Assert.Contains("data-stuck", stuck.Message, StringComparison.Ordinal);
        Assert.Contains("were not ready after 1 s", stuck.Message, StringComparison.Ordinal);

        var failed = await Assert.ThrowsAsync<VolumeSnapshotException>(() => Driver(c).SnapshotAsync(Web, new VolumeSnapshotRequest { SessionName = "boom" }));
        Assert.False(failed.TimedOut);
        Assert.Contains("disk on fire", failed.Message, StringComparison.Ordinal);

        c.Server.Controllers.SnapshotBehavior = _ => SnapshotOutcome.Ready;
        var noClass = await Assert.ThrowsAsync<VolumeSnapshotException>(() => Driver(c).SnapshotAsync(Web, new VolumeSnapshotRequest { SessionName = "nc", SnapshotClassName = "missing" }));
        Assert.Contains("volumesnapshotclass.snapshot.storage.k8s.io \"missing\" not found", noClass.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dropped_watch_is_resumed_and_api_faults_are_retried()
    {
        await using var c = await StartWithWorkloadAsync();
        // The controller leaves the snapshot alone; the test readies it once the watch has been dropped.
        c.Server.Controllers.SnapshotBehavior = _ => new SnapshotOutcome { NeverReady = true };
        c.Server.Faults.FailNext(2, 500, "POST", "/volumesnapshots");
        c.Server.Faults.FailNext(1, 409, "POST", "/volumesnapshots");
        var run = Driver(c).SnapshotAsync(Web, new VolumeSnapshotRequest { SessionName = "w1" });
        await TestCluster.WaitForAsync(() => run.IsFaulted ? run.ContinueWith(t => -1) : Task.FromResult(c.Server.Faults.OpenWatches), n => n != 0);
        Assert.False(run.IsFaulted, run.Exception?.ToString());
        Assert.Equal(1, c.Server.Faults.DropWatches());
        await MarkReadyAsync(c, "data-w1");
        var result = await run;
        Assert.True(result.Snapshots.Single().ReadyToUse);
        // The log has a request once its handler is done; the resumed watch ends when the driver lets go of it.
        var watches = await TestCluster.WaitForAsync(() => Task.FromResult(c.Server.Faults.Requests.Where(r => r.Path.Contains("watch=true", StringComparison.Ordinal)).ToList()), w => w.Count >= 2);
        Assert.All(watches, w => Assert.Contains("resourceVersion=", w.Path, StringComparison.Ordinal));
        Assert.Equal(3, c.Server.Faults.Requests.Count(r => r.Injected));
    }

    [Fact]
    public async Task A_watch_resumed_after_compaction_gets_410_and_lists_again()
    {
        await using var c = await StartWithWorkloadAsync();
        c.Server.Controllers.SnapshotBehavior = _ => new SnapshotOutcome { NeverReady = true };
        var run = Driver(c).SnapshotAsync(Web, new VolumeSnapshotRequest { SessionName = "gone" });
        await TestCluster.WaitForAsync(() => run.IsFaulted ? run.ContinueWith(t => -1) : Task.FromResult(c.Server.Faults.OpenWatches), n => n != 0);
        // etcd compacted the history the watch would resume from: the resumed watch answers 410 Gone.
        c.Server.Store.Compact();
        c.Server.Faults.DropWatches();
        await MarkReadyAsync(c, "data-gone");
        var result = await run;
        Assert.True(result.Snapshots.Single().ReadyToUse);
        var lists = c.Server.Faults.Requests.Count(r => r.Method == "GET" && r.Path.Contains("/volumesnapshots?", StringComparison.Ordinal) && !r.Path.Contains("watch=true", StringComparison.Ordinal));
        Assert.True(lists >= 2, $"{lists} lists");
    }

    [Fact]
    public async Task Retention_over_volume_snapshots_uses_the_restic_policy_rules()
    {
        await using var c = await StartWithWorkloadAsync();
        var driver = Driver(c);
        for (int day = 1; day <= 4; day++)
        {
            await driver.SnapshotAsync(Web, new VolumeSnapshotRequest { SessionName = $"d{day}" });
            // Spread the snapshots over four days, as four nightly runs would.
            await c.Client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(
                new V1Patch($"{{\"status\":{{\"creationTime\":\"2026-03-0{day}T02:00:00Z\"}}}}", V1Patch.PatchType.MergePatch),
                "snapshot.storage.k8s.io", "v1", "default", "volumesnapshots", $"data-d{day}");
        }

        var dry = await driver.ApplyRetentionAsync(Web, new RetentionPolicy { Daily = 2 }, dryRun: true);
        Assert.Equal(["data-d1", "data-d2"], dry.Remove.Select(s => s.Name).Order());
        Assert.Equal(4, (await driver.ListAsync("default")).Count);

        var applied = await driver.ApplyRetentionAsync(Web, new RetentionPolicy { Daily = 2 });
        Assert.Equal(["data-d3", "data-d4"], applied.Keep.Select(s => s.Name).Order());
        Assert.Equal(["data-d3", "data-d4"], (await driver.ListAsync("default")).Select(s => s.Name).Order());
        await TestCluster.WaitForAsync(() => c.Client.CustomObjects.ListClusterCustomObjectAsync("snapshot.storage.k8s.io", "v1", "volumesnapshotcontents"),
            o => KubeBackup.Kubernetes.KubeJson.ToObject(o)["items"]!.AsArray().Count == 2);
    }
}
