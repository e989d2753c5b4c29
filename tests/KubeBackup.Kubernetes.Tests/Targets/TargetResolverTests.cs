using KubeBackup.Kubernetes.Targets;
using KubeBackup.Kubernetes.Tests.Support;

namespace KubeBackup.Kubernetes.Tests.Targets;

public sealed class TargetResolverTests
{
    [Fact]
    public async Task Deployment_resolves_to_one_ready_pod_recorded_under_the_deployment_name()
    {
        await using var c = await TestCluster.StartAsync();
        await c.Client.AppsV1.CreateNamespacedDeploymentAsync(Workloads.Deployment("web", replicas: 2), "default");
        await TestCluster.WaitForAsync(() => c.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default"), d => d.Status?.ReadyReplicas == 2);
        var options = new TargetResolveOptions();
        options.Paths.Add("/data/sub");
        var target = await new TargetResolver(c.Client).ResolveAsync(new TargetRef(TargetKind.Deployment, "default", "web"), options);
        var pod = Assert.Single(target.Pods);
        Assert.Equal("web", pod.BackupHost);
        Assert.Equal("app", pod.Container);
        Assert.Equal("/data", Assert.Single(pod.Volumes).MountPath);
    }

    [Fact]
    public async Task StatefulSet_resolves_every_replica_and_fails_when_one_is_not_ready()
    {
        await using var c = await TestCluster.StartAsync();
        await c.Client.AppsV1.CreateNamespacedStatefulSetAsync(Workloads.StatefulSet("db", 3), "default");
        await TestCluster.WaitForAsync(() => c.Client.AppsV1.ReadNamespacedStatefulSetAsync("db", "default"), s => s.Status?.ReadyReplicas == 3);
        await TestCluster.WaitForAsync(() => c.Client.CoreV1.ListNamespacedPersistentVolumeClaimAsync("default"), l => l.Items.Count == 3);
        var resolver = new TargetResolver(c.Client);
        var target = await resolver.ResolveAsync(new TargetRef(TargetKind.StatefulSet, "default", "db"));
        Assert.Equal(["db-0", "db-1", "db-2"], target.Pods.Select(p => p.BackupHost));
        Assert.Equal(["data-db-0", "data-db-1", "data-db-2"], target.Claims);
        Assert.Equal("data-db-1", target.Pods[1].Volumes.Single().ClaimName);

        await c.Client.AppsV1.CreateNamespacedStatefulSetAsync(Workloads.StatefulSet("sick", 2, ready: false), "default");
        await TestCluster.WaitForAsync(() => c.Client.AppsV1.ReadNamespacedStatefulSetAsync("sick", "default"), s => s.Status?.Replicas == 2);
        // The replicas count as soon as the pods exist; the kubelet gives them their phase a moment later (the message
        // below names it), so wait for that too: under load the resolver once saw a pod with no status yet.
        await TestCluster.WaitForAsync(() => c.Client.CoreV1.ListNamespacedPodAsync("default"),
            l => l.Items.Count(p => p.Metadata.Name.StartsWith("sick-", StringComparison.Ordinal) && p.Status?.Phase == "Running") == 2);
        var ex = await Assert.ThrowsAsync<TargetResolutionException>(() => resolver.ResolveAsync(new TargetRef(TargetKind.StatefulSet, "default", "sick")));
        Assert.Contains("sick-0 is not ready (phase Running, Ready=False)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DaemonSet_resolves_every_pod_as_name_dash_node()
    {
        await using var c = await TestCluster.StartAsync();
        await c.Client.AppsV1.CreateNamespacedDaemonSetAsync(Workloads.DaemonSet("logs"), "default");
        await TestCluster.WaitForAsync(() => c.Client.AppsV1.ReadNamespacedDaemonSetAsync("logs", "default"), d => d.Status?.NumberReady == 2);
        var target = await new TargetResolver(c.Client).ResolveAsync(new TargetRef(TargetKind.DaemonSet, "default", "logs"));
        Assert.Equal(["logs-node-a", "logs-node-b"], target.Pods.Select(p => p.BackupHost));
    }

    [Fact]
    public async Task Missing_and_not_ready_targets_are_failures_with_a_reason()
    {
        await using var c = await TestCluster.StartAsync();
        var resolver = new TargetResolver(c.Client);
        var missing = await Assert.ThrowsAsync<TargetResolutionException>(() => resolver.ResolveAsync(new TargetRef(TargetKind.Deployment, "default", "nope")));
        Assert.Equal("not found", missing.Reason);
        await c.Client.AppsV1.CreateNamespacedDeploymentAsync(Workloads.Deployment("web", ready: false), "default");
        await TestCluster.WaitForAsync(() => c.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default"), d => d.Status?.Replicas == 1);
        var notReady = await Assert.ThrowsAsync<TargetResolutionException>(() => resolver.ResolveAsync(new TargetRef(TargetKind.Deployment, "default", "web")));
        Assert.StartsWith("no ready pod", notReady.Reason, StringComparison.Ordinal);
        await c.CreatePodAsync("pending", configure: p => p.Metadata.Annotations = new Dictionary<string, string> { [KubeBackup.FakeKube.Controllers.PhaseAnnotation] = "Pending" });
        var pending = await Assert.ThrowsAsync<TargetResolutionException>(() => resolver.ResolveAsync(new TargetRef(TargetKind.Pod, "default", "pending")));
        Assert.Contains("phase Pending", pending.Reason, StringComparison.Ordinal);
        var noClaim = await Assert.ThrowsAsync<TargetResolutionException>(() => resolver.ResolveAsync(new TargetRef(TargetKind.PersistentVolumeClaim, "default", "none")));
        Assert.Equal("not found", noClaim.Reason);
    }

    [Fact]
    public async Task Pvc_resolves_with_the_pods_that_mount_it_and_api_faults_are_retried()
    {
        await using var c = await TestCluster.StartAsync();
        await c.CreatePvcAsync("data");
        await c.Client.AppsV1.CreateNamespacedDeploymentAsync(Workloads.Deployment("web", claim: "data"), "default");
        await TestCluster.WaitForAsync(() => c.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default"), d => d.Status?.ReadyReplicas == 1);
        c.Server.Faults.FailNext(2, 500, "GET", "/persistentvolumeclaims/data");
        c.Server.Faults.FailNext(1, 503, "GET", "/pods");
        var target = await new TargetResolver(c.Client).ResolveAsync(new TargetRef(TargetKind.PersistentVolumeClaim, "default", "data"));
        Assert.Equal(["data"], target.Claims);
        var pod = Assert.Single(target.Pods);
        Assert.Equal("data", pod.Volumes.Single().ClaimName);
        Assert.Equal(3, c.Server.Faults.Requests.Count(r => r.Injected));
    }
}
