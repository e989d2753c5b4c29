using KubeBackup.Configuration;
using KubeBackup.Functions;
using KubeBackup.Hooks;
using KubeBackup.Kubernetes.Exec;
using KubeBackup.Kubernetes.Integration;
using KubeBackup.Kubernetes.Targets;
using KubeBackup.Kubernetes.Tests.Support;
using KubeBackup.Restic.Repository;
using KubeBackup.Sessions;

namespace KubeBackup.Kubernetes.Tests.Integration;

/// <summary>The Kubernetes pieces plugged into the session model: hooks run in the target's pods through the
/// <see cref="IHookExecutor"/> adapter, and the pod functions run as task steps.</summary>
public sealed class SessionIntegrationTests
{
    private const string Yaml = """
        name: shop
        repository:
          location: {REPO}
          password:
            file: {PWFILE}
        targets:
          - name: db
            kind: StatefulSet
            variables: { NAMESPACE: default }
            task: dump
        hooks:
          preBackup:
            - name: freeze
              command: ["sh", "-c", "echo \"pre $MARK\" >> hooks.log"]
              environment: { MARK: "value-not-in-argv" }
            - name: hold
              command: ["sh", "-c", "echo ready; cat > /dev/null; echo released >> hooks.log"]
              holdOpen: { readyPattern: "^ready$" }
          postBackup:
            - name: thaw
              command: ["sh", "-c", "echo post >> hooks.log"]
        tasks:
          dump:
            steps:
              - function: pod-stream-backup
                params: { command: ["sh", "-c", "{DUMP}"], container: app }
        """;

    private static async Task<(SessionRunner Runner, BackupConfiguration Configuration, TempFolder Dir)> SetUpAsync(TestCluster c, string dump)
    {
        var dir = new TempFolder();
        var repoPath = Path.Combine(dir.Path, "repo");
        var pwFile = Path.Combine(dir.Path, "pw");
        await File.WriteAllTextAsync(pwFile, TestRepositories.Password + "\n");
        await using (await TestRepositories.InitAsync(repoPath))
        {
        }

        var configuration = ConfigurationLoader.LoadYaml(Yaml.Replace("{REPO}", repoPath, StringComparison.Ordinal).Replace("{PWFILE}", pwFile, StringComparison.Ordinal)
            .Replace("{DUMP}", dump, StringComparison.Ordinal));
        var registry = new KubernetesTargetRegistry();
        registry.Register(configuration);
        var executor = new PodExecutor(c.Client);
        var runner = new SessionRunner(new SessionRunnerOptions
        {
            Functions = FunctionRegistry.CreateDefault().AddKubernetesFunctions(c.Client, executor),
            HookExecutor = new KubernetesHookExecutor(executor, new TargetResolver(c.Client), registry),
            RepositoryOptions = new ResticRepositoryOptions { Hostname = "operator", PackSize = 4 * 1024 * 1024 },
        });
        await c.Client.AppsV1.CreateNamespacedStatefulSetAsync(Workloads.StatefulSet("db", 2), "default");
        await TestCluster.WaitForAsync(() => c.Client.AppsV1.ReadNamespacedStatefulSetAsync("db", "default"), s => s.Status?.ReadyReplicas == 2);
        return (runner, configuration, dir);
    }

    [Fact]
    public async Task A_session_runs_hooks_in_every_replica_and_streams_each_replica_into_its_own_snapshot()
    {
        await using var c = await TestCluster.StartAsync();
        var (runner, configuration, dir) = await SetUpAsync(c, "echo dump of $HOSTNAME; seq 1 20000");
        using var _ = dir;
        var session = await runner.RunBackupAsync(configuration);
        var target = Assert.Single(session.Targets);
        Assert.True(session.Phase == SessionPhase.Succeeded, string.Join("; ", target.Failures.Concat(target.Problems)) + session.Reason);
        Assert.Equal(2, target.Snapshots.Count);
        Assert.Equal(["/db-0-app.dump", "/db-1-app.dump"], target.Streams.Select(s => s.FileName).Order());
        Assert.All(target.Streams, s => Assert.True(s.Bytes > 100_000));
        Assert.Equal(["freeze", "hold", "hold", "thaw"], target.Hooks.Select(h => h.Name));
        Assert.All(target.Hooks, h => Assert.True(h.Succeeded, h.Error));

        foreach (var pod in new[] { "db-0", "db-1" })
        {
            var log = await File.ReadAllTextAsync(Path.Combine(c.Server.Kubelet.SandboxOf("default", pod, "app"), "hooks.log"));
            Assert.Equal("pre value-not-in-argv\nreleased\npost\n", log);
        }

        // The hook's environment went through stdin: no argv carried it.
        Assert.DoesNotContain(c.Server.Kubelet.Execs, e => e.Command.Any(a => a.Contains("value-not-in-argv", StringComparison.Ordinal)));
        await using var repo = await TestRepositories.OpenAsync(Path.Combine(dir.Path, "repo"));
        var hosts = (await repo.ListSnapshotsAsync()).Select(s => s.Hostname).Order();
        Assert.Equal(["db-0", "db-1"], hosts);
    }

    [Fact]
    public async Task A_failing_dump_fails_the_session_with_the_reason_and_writes_no_snapshot()
    {
        await using var c = await TestCluster.StartAsync();
        var (runner, configuration, dir) = await SetUpAsync(c, "seq 1 1000; echo disk full >&2; exit 3");
        using var _ = dir;
        var session = await runner.RunBackupAsync(configuration);
        Assert.Equal(SessionPhase.Failed, session.Phase);
        var target = Assert.Single(session.Targets);
        Assert.Contains(target.Failures, f => f.Contains("exited with code 3: disk full", StringComparison.Ordinal));
        Assert.Empty(target.Snapshots);
        // The post hook ran anyway (policy Always), and the hold-open hook was released.
        Assert.Contains(target.Hooks, h => h.Name == "thaw" && h.Succeeded);
        await using var repo = await TestRepositories.OpenAsync(Path.Combine(dir.Path, "repo"));
        Assert.Empty(await repo.ListSnapshotsAsync());

        // As a BackupSession's status, the failure and its reason are there for kubectl to show; the CRD schema accepts it.
        var status = KubeBackup.Kubernetes.Crds.SessionStatusMapper.ToStatus(session, configuration);
        Assert.Equal("Failed", status.Phase);
        Assert.Contains("exited with code 3: disk full", status.Targets!.Single().Reason, StringComparison.Ordinal);
        Assert.Equal("StatefulSet", status.Targets!.Single().Kind);
        var json = System.Text.Json.Nodes.JsonNode.Parse(KubernetesJson.Serialize(new KubeBackup.Kubernetes.Crds.BackupSessionResource
        {
            Metadata = new k8s.Models.V1ObjectMeta { Name = "s1" },
            Spec = new KubeBackup.Kubernetes.Crds.BackupSessionSpec { Invoker = new KubeBackup.Kubernetes.Crds.InvokerReference { Name = "shop" } },
            Status = status,
        }));
        var errors = StructuralSchema.Validate(json, DeployFiles.SchemaOf("BackupSession"));
        Assert.True(errors.Count == 0, string.Join("; ", errors));
    }
}

public sealed class DependencyInjectionTests
{
    [Fact]
    public async Task AddKubernetes_wires_the_functions_and_the_pod_hook_executor_into_the_session_runner()
    {
        await using var c = await TestCluster.StartAsync();
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton(services, c.Client);
        KubeBackup.DependencyInjection.KubeBackupServiceCollectionExtensions.AddKubeBackup(services).AddSessions().AddKubernetes();
        using var provider = Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(services);
        Assert.IsType<KubernetesHookExecutor>(Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<IHookExecutor>(provider));
        var functions = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<FunctionRegistry>(provider);
        Assert.Contains(KubernetesFunctionNames.PodStreamBackup, functions.Names);
        Assert.Contains(KubernetesFunctionNames.PodFileBackup, functions.Names);
        Assert.Contains(KubernetesFunctionNames.VolumeSnapshot, functions.Names);
        Assert.Contains(FunctionRegistry.StreamBackup, functions.Names);
        Assert.NotNull(Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<SessionRunner>(provider));
    }
}
