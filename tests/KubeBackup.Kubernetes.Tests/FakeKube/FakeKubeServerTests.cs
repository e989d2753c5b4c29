using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using KubeBackup.FakeKube;
using KubeBackup.Kubernetes.Tests.Support;

namespace KubeBackup.Kubernetes.Tests.FakeKube;

/// <summary>The fake API server behaves as the real KubernetesClient expects an API server to.</summary>
public sealed class FakeKubeServerTests
{
    [Fact]
    public async Task Create_get_list_with_selectors_and_not_found_status()
    {
        await using var c = await TestCluster.StartAsync();
        await c.CreatePodAsync("a", configure: p => p.Metadata.Labels["tier"] = "db");
        await c.CreatePodAsync("b", configure: p => p.Metadata.Labels["tier"] = "web");
        var db = await c.Client.CoreV1.ListNamespacedPodAsync("default", labelSelector: "tier in (db,cache),app");
        Assert.Equal(["a"], db.Items.Select(p => p.Metadata.Name));
        var byField = await c.Client.CoreV1.ListNamespacedPodAsync("default", fieldSelector: "metadata.name=b,status.phase=Running");
        Assert.Equal(["b"], byField.Items.Select(p => p.Metadata.Name));
        Assert.Equal("Running", (await c.Client.CoreV1.ReadNamespacedPodAsync("a", "default")).Status.Phase);
        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => c.Client.CoreV1.ReadNamespacedPodAsync("missing", "default"));
        Assert.Equal(HttpStatusCode.NotFound, ex.Response.StatusCode);
        Assert.Contains("\"reason\":\"NotFound\"", ex.Response.Content, StringComparison.Ordinal);
        var dup = await Assert.ThrowsAsync<HttpOperationException>(() => c.CreatePodAsync("a"));
        Assert.Equal(HttpStatusCode.Conflict, dup.Response.StatusCode);
    }

    [Fact]
    public async Task Stale_resource_version_conflicts_and_spec_changes_bump_generation()
    {
        await using var c = await TestCluster.StartAsync();
        var cm = await c.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "x" }, Data = new Dictionary<string, string> { ["k"] = "1" } }, "default");
        var stale = cm.Metadata.ResourceVersion;
        cm.Data["k"] = "2";
        var updated = await c.Client.CoreV1.ReplaceNamespacedConfigMapAsync(cm, "x", "default");
        Assert.NotEqual(stale, updated.Metadata.ResourceVersion);
        cm.Metadata.ResourceVersion = stale;
        cm.Data["k"] = "3";
        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => c.Client.CoreV1.ReplaceNamespacedConfigMapAsync(cm, "x", "default"));
        Assert.Equal(HttpStatusCode.Conflict, ex.Response.StatusCode);

        var dep = await c.Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web"), "default");
        Assert.Equal(1, dep.Metadata.Generation);
        var labelOnly = await c.Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("{\"metadata\":{\"labels\":{\"x\":\"y\"}}}", V1Patch.PatchType.MergePatch), "web", "default");
        Assert.Equal(1, labelOnly.Metadata.Generation);
        var specChange = await c.Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("{\"spec\":{\"replicas\":2}}", V1Patch.PatchType.MergePatch), "web", "default");
        Assert.Equal(2, specChange.Metadata.Generation);
    }

    [Fact]
    public async Task Status_subresource_rules_for_a_custom_resource_registered_by_its_crd()
    {
        await using var c = await TestCluster.StartAsync();
        await c.Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(new V1CustomResourceDefinition
        {
            Metadata = new V1ObjectMeta { Name = "widgets.example.io" },
            Spec = new V1CustomResourceDefinitionSpec
            {
                Group = "example.io", Scope = "Namespaced",
                Names = new V1CustomResourceDefinitionNames { Plural = "widgets", Kind = "Widget", Singular = "widget" },
                Versions = [new V1CustomResourceDefinitionVersion
                {
                    Name = "v1", Served = true, Storage = true,
                    Schema = new V1CustomResourceValidation { OpenAPIV3Schema = new V1JSONSchemaProps { Type = "object", XKubernetesPreserveUnknownFields = true } },
                    Subresources = new V1CustomResourceSubresources { Status = new object() },
                }],
            },
        });
        var widget = new JsonObject { ["apiVersion"] = "example.io/v1", ["kind"] = "Widget", ["metadata"] = new JsonObject { ["name"] = "w" }, ["spec"] = new JsonObject { ["size"] = 1 }, ["status"] = new JsonObject { ["ok"] = true } };
        var created = (JsonObject)JsonNode.Parse(KubernetesJson.Serialize(await c.Client.CustomObjects.CreateNamespacedCustomObjectAsync(widget, "example.io", "v1", "default", "widgets")))!;
        Assert.Null(created["status"]);
        await c.Client.CustomObjects.PatchNamespacedCustomObjectAsync(new V1Patch("{\"status\":{\"ok\":true}}", V1Patch.PatchType.MergePatch), "example.io", "v1", "default", "widgets", "w");
        var afterMain = JsonNode.Parse(KubernetesJson.Serialize(await c.Client.CustomObjects.GetNamespacedCustomObjectAsync("example.io", "v1", "default", "widgets", "w")))!;
        Assert.Null(afterMain["status"]);
        await c.Client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(new V1Patch("{\"status\":{\"ok\":true},\"spec\":{\"size\":9}}", V1Patch.PatchType.MergePatch), "example.io", "v1", "default", "widgets", "w");
        var afterStatus = JsonNode.Parse(KubernetesJson.Serialize(await c.Client.CustomObjects.GetNamespacedCustomObjectAsync("example.io", "v1", "default", "widgets", "w")))!;
        Assert.True((bool)afterStatus["status"]!["ok"]!);
        Assert.Equal(1, (int)afterStatus["spec"]!["size"]!);
    }

    [Fact]
    public async Task Json_merge_and_strategic_patches_use_the_real_merge_keys()
    {
        await using var c = await TestCluster.StartAsync();
        await c.Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web"), "default");
        var strategic = """{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox"},{"name":"app","env":[{"name":"A","value":"1"}]}]}}}}""";
        var d = await c.Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(strategic, V1Patch.PatchType.StrategicMergePatch), "web", "default");
        Assert.Equal(["app", "side"], d.Spec.Template.Spec.Containers.Select(x => x.Name));
        Assert.Equal("nginx", d.Spec.Template.Spec.Containers[0].Image);
        Assert.Equal("A", d.Spec.Template.Spec.Containers[0].Env.Single().Name);
        var del = """{"spec":{"template":{"spec":{"containers":[{"name":"side","$patch":"delete"}]}}}}""";
        d = await c.Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(del, V1Patch.PatchType.StrategicMergePatch), "web", "default");
        Assert.Equal(["app"], d.Spec.Template.Spec.Containers.Select(x => x.Name));
        var json = """[{"op":"add","path":"/metadata/annotations","value":{"a/b":"c"}},{"op":"replace","path":"/spec/replicas","value":3},{"op":"test","path":"/metadata/annotations/a~1b","value":"c"}]""";
        d = await c.Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(json, V1Patch.PatchType.JsonPatch), "web", "default");
        Assert.Equal(3, d.Spec.Replicas);
        var bad = """[{"op":"test","path":"/spec/replicas","value":7}]""";
        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => c.Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(bad, V1Patch.PatchType.JsonPatch), "web", "default"));
        Assert.Equal((HttpStatusCode)422, ex.Response.StatusCode);
        var merge = """{"metadata":{"annotations":{"a/b":null}}}""";
        d = await c.Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(merge, V1Patch.PatchType.MergePatch), "web", "default");
        Assert.True(d.Metadata.Annotations is null || d.Metadata.Annotations.Count == 0);
    }

    [Fact]
    public async Task Watch_sends_initial_objects_and_replays_from_a_resource_version()
    {
        await using var c = await TestCluster.StartAsync();
        var first = await c.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "one" } }, "default");
        await c.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "two" } }, "default");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<(WatchEventType, string)>();
        await foreach (var (type, cm) in c.Client.CoreV1.WatchListNamespacedConfigMapAsync("default", cancellationToken: cts.Token))
        {
            seen.Add((type, cm.Metadata.Name));
            if (seen.Count == 2)
            {
                await c.Client.CoreV1.DeleteNamespacedConfigMapAsync("one", "default");
            }

            if (seen.Count == 3)
            {
                break;
            }
        }

        Assert.Equal([(WatchEventType.Added, "one"), (WatchEventType.Added, "two"), (WatchEventType.Deleted, "one")], seen);

        // From the first object's version: only what came after it.
        var replay = new List<(WatchEventType, string)>();
        await foreach (var (type, cm) in c.Client.CoreV1.WatchListNamespacedConfigMapAsync("default", resourceVersion: first.Metadata.ResourceVersion, cancellationToken: cts.Token))
        {
            replay.Add((type, cm.Metadata.Name));
            if (replay.Count == 2)
            {
                break;
            }
        }

        Assert.Equal([(WatchEventType.Added, "two"), (WatchEventType.Deleted, "one")], replay);
    }

    [Fact]
    public async Task Injected_faults_surface_as_http_errors_and_are_logged()
    {
        await using var c = await TestCluster.StartAsync();
        c.Server.Faults.FailNext(2, 500, "GET", "/configmaps");
        var e1 = await Assert.ThrowsAsync<HttpOperationException>(() => c.Client.CoreV1.ListNamespacedConfigMapAsync("default"));
        Assert.Equal(HttpStatusCode.InternalServerError, e1.Response.StatusCode);
        await Assert.ThrowsAsync<HttpOperationException>(() => c.Client.CoreV1.ListNamespacedConfigMapAsync("default"));
        await c.Client.CoreV1.ListNamespacedConfigMapAsync("default");
        Assert.Equal([500, 500, 200], c.Server.Faults.Requests.Where(r => r.Path.Contains("/configmaps", StringComparison.Ordinal)).Select(r => r.Status));

        c.Server.Faults.FailNext(1, 409, "PUT");
        var cm = await c.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "x" } }, "default");
        var conflict = await Assert.ThrowsAsync<HttpOperationException>(() => c.Client.CoreV1.ReplaceNamespacedConfigMapAsync(cm, "x", "default"));
        Assert.Equal(HttpStatusCode.Conflict, conflict.Response.StatusCode);

        // A delayed answer still arrives, after the others that were not delayed.
        c.Server.Faults.DelayNext(1, TimeSpan.FromMilliseconds(300), "GET", "/configmaps/x");
        var slow = c.Client.CoreV1.ReadNamespacedConfigMapAsync("x", "default");
        await c.Client.CoreV1.ListNamespacedPodAsync("default");
        Assert.Equal("x", (await slow).Metadata.Name);
        var order = c.Server.Faults.Requests.Select(r => r.Path).ToList();
        Assert.True(order.FindIndex(p => p.EndsWith("/configmaps/x", StringComparison.Ordinal)) > order.FindIndex(p => p.EndsWith("/pods", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Workload_controller_runs_pods_and_rolls_them_after_a_template_patch()
    {
        await using var c = await TestCluster.StartAsync();
        await c.Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web"), "default");
        var ready = await TestCluster.WaitForAsync(() => c.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default"), d => d.Status?.ReadyReplicas == 1 && d.Status.ObservedGeneration == 1);
        var pod1 = (await c.Client.CoreV1.ListNamespacedPodAsync("default", labelSelector: "app=web")).Items.Single();
        await c.Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("""{"spec":{"template":{"metadata":{"annotations":{"rev":"2"}}}}}""", V1Patch.PatchType.StrategicMergePatch), "web", "default");
        await TestCluster.WaitForAsync(() => c.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default"), d => d.Status?.ObservedGeneration == 2 && d.Status.ReadyReplicas == 1);
        var pod2 = (await c.Client.CoreV1.ListNamespacedPodAsync("default", labelSelector: "app=web")).Items.Single();
        Assert.NotEqual(pod1.Metadata.Name, pod2.Metadata.Name);
        Assert.Equal("2", pod2.Metadata.Annotations["rev"]);

        var sts = new V1StatefulSet
        {
            Metadata = new V1ObjectMeta { Name = "db" },
            Spec = new V1StatefulSetSpec
            {
                Replicas = 2, ServiceName = "db", Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "db" } },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "db" } },
                    Spec = new V1PodSpec { Containers = [new V1Container { Name = "pg", Image = "postgres", VolumeMounts = [new V1VolumeMount { Name = "data", MountPath = "/var/lib/pg" }] }] },
                },
                VolumeClaimTemplates = [new V1PersistentVolumeClaim
                {
                    Metadata = new V1ObjectMeta { Name = "data" },
                    Spec = new V1PersistentVolumeClaimSpec { AccessModes = ["ReadWriteOnce"], Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new ResourceQuantity("2Gi") } } },
                }],
            },
        };
        await c.Client.AppsV1.CreateNamespacedStatefulSetAsync(sts, "default");
        await TestCluster.WaitForAsync(() => c.Client.AppsV1.ReadNamespacedStatefulSetAsync("db", "default"), s => s.Status?.ReadyReplicas == 2);
        var claims = await TestCluster.WaitForAsync(() => c.Client.CoreV1.ListNamespacedPersistentVolumeClaimAsync("default"), l => l.Items.Count == 2 && l.Items.All(p => p.Status?.Phase == "Bound"));
        Assert.Equal(["data-db-0", "data-db-1"], claims.Items.Select(p => p.Metadata.Name).Order());
    }

    [Fact]
    public async Task Snapshot_controller_makes_ready_snapshots_and_reports_failures()
    {
        await using var c = await TestCluster.StartAsync();
        c.Server.Controllers.SnapshotBehavior = s => (string?)s["metadata"]!["name"] == "bad" ? new SnapshotOutcome { Error = "disk on fire" } : SnapshotOutcome.Ready;
        await c.CreatePvcAsync("data");
        foreach (var name in new[] { "good", "bad" })
        {
            await c.Client.CustomObjects.CreateNamespacedCustomObjectAsync(new JsonObject
            {
                ["apiVersion"] = "snapshot.storage.k8s.io/v1", ["kind"] = "VolumeSnapshot", ["metadata"] = new JsonObject { ["name"] = name },
                ["spec"] = new JsonObject { ["source"] = new JsonObject { ["persistentVolumeClaimName"] = "data" } },
            }, "snapshot.storage.k8s.io", "v1", "default", "volumesnapshots");
        }

        async Task<JsonNode> Read(string n) => JsonNode.Parse(KubernetesJson.Serialize(await c.Client.CustomObjects.GetNamespacedCustomObjectAsync("snapshot.storage.k8s.io", "v1", "default", "volumesnapshots", n)))!;
        var good = await TestCluster.WaitForAsync(() => Read("good"), s => (bool?)s["status"]?["readyToUse"] == true);
        Assert.Equal("1Gi", (string?)good["status"]!["restoreSize"]);
        var contentName = (string)good["status"]!["boundVolumeSnapshotContentName"]!;
        var content = JsonNode.Parse(KubernetesJson.Serialize(await c.Client.CustomObjects.GetClusterCustomObjectAsync("snapshot.storage.k8s.io", "v1", "volumesnapshotcontents", contentName)))!;
        Assert.Equal("good", (string?)content["spec"]!["volumeSnapshotRef"]!["name"]);
        var bad = await TestCluster.WaitForAsync(() => Read("bad"), s => s["status"]?["error"] is not null);
        Assert.Equal("disk on fire", (string?)bad["status"]!["error"]!["message"]);
    }

    [Fact]
    public async Task Exec_over_v4_and_v5_runs_in_the_sandbox_with_the_container_env()
    {
        await using var c = await TestCluster.StartAsync();
        await c.Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "s" }, Data = new Dictionary<string, byte[]> { ["pw"] = Encoding.UTF8.GetBytes("hunter2") } }, "default");
        await c.CreatePodAsync("p", configure: p => p.Spec.Containers[0].Env =
        [
            new V1EnvVar { Name = "PLAIN", Value = "v" },
            new V1EnvVar { Name = "SECRET", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Key = "pw", Name = "s" } } },
        ]);

        // v5 through the client's own demuxer: stdin is closed with [255, 0], so cat ends.
        using (var ws = await c.Client.WebSocketNamespacedPodExecAsync("p", "default", ["sh", "-c", "cat; echo \"$PLAIN $SECRET $(pwd)\""], "main", tty: false, webSocketSubProtocol: "v5.channel.k8s.io"))
        using (var demux = new StreamDemuxer(ws, StreamType.RemoteCommand, ownsSocket: false, supportsClose: true))
        {
            demux.Start();
            var stdout = demux.GetStream(ChannelIndex.StdOut, null);
            var stdin = demux.GetStream(null, ChannelIndex.StdIn);
            var status = demux.GetStream(ChannelIndex.Error, null);
            await stdin.WriteAsync(Encoding.UTF8.GetBytes("hello\n"));
            await demux.CloseChannel(ChannelIndex.StdIn);
            var text = await new StreamReader(stdout).ReadToEndAsync();
            Assert.StartsWith("hello\nv hunter2 ", text, StringComparison.Ordinal);
            Assert.Contains(Path.Combine("pods", "default", "p", "main"), text, StringComparison.Ordinal);
            Assert.Contains("Success", await new StreamReader(status).ReadToEndAsync(), StringComparison.Ordinal);
        }

        // v4: a non-zero exit code arrives in the status channel.
        using (var ws = await c.Client.WebSocketNamespacedPodExecAsync("p", "default", ["sh", "-c", "exit 3"], "main", stdin: false, tty: false, webSocketSubProtocol: "v4.channel.k8s.io"))
        using (var demux = new StreamDemuxer(ws))
        {
            demux.Start();
            var status = demux.GetStream(ChannelIndex.Error, null);
            var json = await new StreamReader(status).ReadToEndAsync();
            Assert.Contains("\"message\":\"3\"", json, StringComparison.Ordinal);
        }

        Assert.Contains(c.Server.Kubelet.Execs, e => e.ExitCode == 3 && e.Protocol == "v4.channel.k8s.io");
    }

    internal static V1Deployment Deployment(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1DeploymentSpec
        {
            Replicas = 1,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = "nginx" }] },
            },
        },
    };
}
