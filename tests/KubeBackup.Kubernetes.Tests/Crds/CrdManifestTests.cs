using System.Diagnostics;
using System.Text.Json.Nodes;
using k8s.Models;
using KubeBackup.Kubernetes.Crds;
using KubeBackup.Kubernetes.Tests.Support;

namespace KubeBackup.Kubernetes.Tests.Crds;

/// <summary>The manifests under deploy/: kubectl accepts them (against the fake API server), they parse into
/// KubernetesClient's typed models, the samples satisfy the CRD schemas, and the C# models round-trip with the YAML.</summary>
public sealed class CrdManifestTests
{
    private static readonly string Deploy = DeployFiles.Root;

    private static string[] Files(string sub) => DeployFiles.Files(sub);

    private static JsonObject SchemaOf(string kind) => DeployFiles.SchemaOf(kind);

    [Fact]
    public async Task Crds_parse_into_the_typed_model_with_status_subresources()
    {
        var kinds = new List<string>();
        foreach (var file in Files("crds"))
        {
            var crd = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(await File.ReadAllTextAsync(file));
            Assert.Equal("kubebackup.io", crd.Spec.Group);
            Assert.Equal("Namespaced", crd.Spec.Scope);
            Assert.Equal($"{crd.Spec.Names.Plural}.kubebackup.io", crd.Metadata.Name);
            var version = Assert.Single(crd.Spec.Versions);
            Assert.Equal(KubeBackupApi.Version, version.Name);
            Assert.NotNull(version.Subresources.Status);
            Assert.Equal("object", version.Schema.OpenAPIV3Schema.Type);
            Assert.Contains("status", version.Schema.OpenAPIV3Schema.Properties.Keys);
            kinds.Add(crd.Spec.Names.Kind);
        }

        Assert.Equal(["BackupConfiguration", "BackupSession", "Repository", "RestoreSession"], kinds.Order());
        var rbac = KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(Path.Combine(Deploy, "rbac", "operator.yaml")));
        var role = rbac.OfType<V1ClusterRole>().Single(r => r.Metadata.Name == "kubebackup-operator");
        Assert.Contains(role.Rules, r => r.Resources.Contains("pods/exec") && r.Verbs.Contains("create"));
        Assert.Contains(role.Rules, r => r.ApiGroups.Contains("coordination.k8s.io") && r.Resources.Contains("leases"));
        Assert.Contains(role.Rules, r => r.Resources.Contains("backupsessions/status") && r.Verbs.Contains("patch"));
        Assert.Single(rbac.OfType<V1ClusterRoleBinding>(), b => b.RoleRef.Name == "kubebackup-operator" && b.Subjects.Single().Name == "kubebackup-operator");
        var webhook = KubernetesYaml.Deserialize<V1MutatingWebhookConfiguration>(await File.ReadAllTextAsync(Path.Combine(Deploy, "webhook", "mutating-webhook.yaml")));
        Assert.Equal(["deployments", "statefulsets", "daemonsets"], webhook.Webhooks.Single().Rules.Single().Resources);
    }

    [Fact]
    public void Samples_satisfy_the_crd_schemas_and_a_typo_does_not()
    {
        foreach (var file in Files("samples"))
        {
            foreach (var doc in StructuralSchema.LoadYaml(file))
            {
                var errors = StructuralSchema.Validate(doc, SchemaOf((string)doc["kind"]!));
                Assert.True(errors.Count == 0, $"{Path.GetFileName(file)}: {string.Join("; ", errors)}");
            }
        }

        var bad = StructuralSchema.LoadYaml(Path.Combine(Deploy, "samples", "backupconfiguration.yaml")).Single();
        bad["spec"]!["retentionPolicy"]!["keepDayly"] = "7";
        bad["spec"]!["driver"] = "Velero";
        var problems = StructuralSchema.Validate(bad, SchemaOf("BackupConfiguration"));
        Assert.Contains(problems, p => p.Contains("unknown field 'keepDayly'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("'Velero' is not one of", StringComparison.Ordinal));
    }

    public static TheoryData<string, Type> Samples => new()
    {
        { "repository.yaml", typeof(RepositoryResource) },
        { "backupconfiguration.yaml", typeof(BackupConfigurationResource) },
        { "backupconfiguration-snapshots.yaml", typeof(BackupConfigurationResource) },
        { "backupsession.yaml", typeof(BackupSessionResource) },
        { "restoresession.yaml", typeof(RestoreSessionResource) },
    };

    [Theory]
    [MemberData(nameof(Samples))]
    public void Typed_models_round_trip_with_the_yaml(string file, Type type)
    {
        var path = Path.Combine(Deploy, "samples", file);
        var typed = typeof(KubernetesYaml).GetMethods().Single(m => m.Name == "Deserialize" && m.IsGenericMethod && m.GetParameters()[0].ParameterType == typeof(string))
            .MakeGenericMethod(type).Invoke(null, [File.ReadAllText(path), false])!;
        var json = JsonNode.Parse(KubernetesJson.Serialize(typed))!;
        var yaml = StructuralSchema.LoadYaml(path).Single();
        var expected = StructuralSchema.Normalize(yaml);
        var actual = StructuralSchema.Normalize(json);
        Assert.True(JsonNode.DeepEquals(expected, actual), $"YAML:\n{expected}\nmodel:\n{actual}");
    }

    [Fact]
    public void A_filled_status_written_by_the_models_satisfies_the_schema()
    {
        var session = new BackupSessionResource
        {
            Metadata = new V1ObjectMeta { Name = "s", NamespaceProperty = "shop" },
            Spec = new BackupSessionSpec { Invoker = new InvokerReference { Name = "db-nightly" }, Trigger = "Manual" },
            Status = new BackupSessionStatus
            {
                Phase = "Failed", Reason = "dump killed", StartTime = DateTimeOffset.UtcNow, CompletionTime = DateTimeOffset.UtcNow, Duration = "1m2s",
                Targets = [new TargetStatus
                {
                    Kind = "StatefulSet", Name = "db", Phase = "Failed", Reason = "exit 137",
                    Hosts = [new HostStatus { Hostname = "db-0", Phase = "Failed", Error = "exit 137", FilesNew = 1, BytesAdded = 10, Sha256 = "ab" }],
                    VolumeSnapshots = [new VolumeSnapshotStatus { Name = "data-s", Claim = "data", ReadyToUse = false, Error = "boom" }],
                }],
                Hooks = [new HookStatus { Name = "freeze", Pod = "shop/db-0", Phase = "Succeeded" }],
                Conditions = [new ResourceCondition { Type = "Completed", Status = "True", LastTransitionTime = DateTimeOffset.UtcNow }],
            },
        };
        var json = JsonNode.Parse(KubernetesJson.Serialize(session))!;
        var errors = StructuralSchema.Validate(json, SchemaOf("BackupSession"));
        Assert.True(errors.Count == 0, string.Join("; ", errors));
    }

    [Fact]
    public async Task Kubectl_applies_the_manifests_to_the_fake_api_server_and_accepts_the_samples_in_a_dry_run()
    {
        if (!File.Exists("/usr/bin/kubectl"))
        {
            Assert.Fail("kubectl is missing: apt-get install kubernetes-client (tests/run.sh installs it)");
        }

        await using var c = await TestCluster.StartAsync();
        using var temp = new TempFolder();
        var kubeconfig = c.Server.WriteKubeconfig(Path.Combine(temp.Path, "config"));
        // Client-side validation needs the server's OpenAPI document, which the fake does not serve: schemas are checked above.
        var applied = await KubectlAsync(kubeconfig, temp.Path, "apply", "--validate=false", "-f", Path.Combine(Deploy, "crds"), "-f", Path.Combine(Deploy, "rbac"), "-f", Path.Combine(Deploy, "webhook"));
        Assert.Contains("customresourcedefinition.apiextensions.k8s.io/backupconfigurations.kubebackup.io created", applied, StringComparison.Ordinal);
        Assert.Contains("clusterrole.rbac.authorization.k8s.io/kubebackup-operator created", applied, StringComparison.Ordinal);
        Assert.Contains("mutatingwebhookconfiguration.admissionregistration.k8s.io/kubebackup-sidecar-injector created", applied, StringComparison.Ordinal);

        var dry = await KubectlAsync(kubeconfig, temp.Path, "apply", "--dry-run=client", "--validate=false", "-f", Path.Combine(Deploy, "samples"));
        Assert.Contains("repository.kubebackup.io/offsite created (dry run)", dry, StringComparison.Ordinal);
        Assert.Contains("backupconfiguration.kubebackup.io/db-nightly created (dry run)", dry, StringComparison.Ordinal);
        Assert.Contains("restoresession.kubebackup.io/db-restore created (dry run)", dry, StringComparison.Ordinal);
        Assert.DoesNotContain(c.Server.Faults.Requests, r => r.Method == "POST" && r.Path.Contains("kubebackup.io/v1alpha1", StringComparison.Ordinal));

        // Applying the CRDs again is a no-op patch, as on a real cluster.
        var again = await KubectlAsync(kubeconfig, temp.Path, "apply", "--validate=false", "-f", Path.Combine(Deploy, "crds"));
        Assert.Contains("repositories.kubebackup.io unchanged", again, StringComparison.Ordinal);
    }

    private static async Task<string> KubectlAsync(string kubeconfig, string cacheDir, params string[] args)
    {
        var psi = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("--kubeconfig=" + kubeconfig);
        psi.ArgumentList.Add("--cache-dir=" + Path.Combine(cacheDir, "cache"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["HOME"] = cacheDir;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"kubectl {string.Join(' ', args)} failed ({p.ExitCode}): {await stderr}\n{await stdout}");
        return await stdout;
    }
}
