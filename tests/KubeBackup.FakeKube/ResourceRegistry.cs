using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace KubeBackup.FakeKube;

/// <summary>One kind of object the fake server serves: where it lives in the URL space and how it behaves.</summary>
/// <param name="Group">API group; empty for the core group.</param>
/// <param name="Version">The served version.</param>
/// <param name="Plural">The resource name in URLs.</param>
/// <param name="Kind">The object kind.</param>
/// <param name="Namespaced">Whether objects live in namespaces.</param>
/// <param name="HasStatus">Whether <c>status</c> is a subresource (main writes ignore it, <c>/status</c> writes change only it).</param>
/// <param name="IsCustom">Registered from a CustomResourceDefinition (status is dropped on create, as the API server does).</param>
public sealed record ResourceType(string Group, string Version, string Plural, string Kind, bool Namespaced, bool HasStatus, bool IsCustom = false)
{
    /// <summary>The <c>apiVersion</c> of objects of this type.</summary>
    public string ApiVersion => Group.Length == 0 ? Version : Group + "/" + Version;

    /// <summary>The singular name (lower-case kind), as discovery reports it.</summary>
    public string Singular => Kind.ToLowerInvariant();
}

/// <summary>The resource types the server knows: the built-in ones the project needs plus any registered by creating a
/// CustomResourceDefinition.</summary>
public sealed class ResourceRegistry
{
    private readonly ConcurrentDictionary<(string Group, string Version, string Plural), ResourceType> _types = new();

    /// <summary>Creates a registry with the built-in types.</summary>
    public ResourceRegistry()
    {
        foreach (var t in BuiltIns())
        {
            Add(t);
        }
    }

    private static IEnumerable<ResourceType> BuiltIns()
    {
        yield return new("", "v1", "namespaces", "Namespace", false, true);
        yield return new("", "v1", "nodes", "Node", false, true);
        yield return new("", "v1", "pods", "Pod", true, true);
        yield return new("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, true);
        yield return new("", "v1", "persistentvolumes", "PersistentVolume", false, true);
        yield return new("", "v1", "secrets", "Secret", true, false);
        yield return new("", "v1", "configmaps", "ConfigMap", true, false);
        yield return new("", "v1", "serviceaccounts", "ServiceAccount", true, false);
        yield return new("", "v1", "services", "Service", true, true);
        yield return new("", "v1", "events", "Event", true, false);
        yield return new("apps", "v1", "deployments", "Deployment", true, true);
        yield return new("apps", "v1", "statefulsets", "StatefulSet", true, true);
        yield return new("apps", "v1", "daemonsets", "DaemonSet", true, true);
        yield return new("apps", "v1", "replicasets", "ReplicaSet", true, true);
        yield return new("batch", "v1", "jobs", "Job", true, true);
        yield return new("batch", "v1", "cronjobs", "CronJob", true, true);
        yield return new("coordination.k8s.io", "v1", "leases", "Lease", true, false);
        yield return new("snapshot.storage.k8s.io", "v1", "volumesnapshots", "VolumeSnapshot", true, true);
        yield return new("snapshot.storage.k8s.io", "v1", "volumesnapshotcontents", "VolumeSnapshotContent", false, true);
        yield return new("snapshot.storage.k8s.io", "v1", "volumesnapshotclasses", "VolumeSnapshotClass", false, false);
        yield return new("storage.k8s.io", "v1", "storageclasses", "StorageClass", false, false);
        yield return new("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false, true);
        yield return new("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false, false);
        yield return new("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false, false);
        yield return new("rbac.authorization.k8s.io", "v1", "roles", "Role", true, false);
        yield return new("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true, false);
        yield return new("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", false, false);
        yield return new("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "ValidatingWebhookConfiguration", false, false);
    }

    /// <summary>Adds (or replaces) a type.</summary>
    public void Add(ResourceType type) => _types[(type.Group, type.Version, type.Plural)] = type;

    /// <summary>Finds a type by its URL coordinates.</summary>
    public ResourceType? Find(string group, string version, string plural) =>
        _types.TryGetValue((group, version, plural), out var t) ? t : null;

    /// <summary>Finds a type by kind and apiVersion.</summary>
    public ResourceType? FindByKind(string apiVersion, string kind) =>
        _types.Values.FirstOrDefault(t => t.ApiVersion == apiVersion && t.Kind == kind);

    /// <summary>Every known type.</summary>
    public IReadOnlyCollection<ResourceType> All => _types.Values.ToList();

    /// <summary>Registers the served versions of a CustomResourceDefinition, as the API server does once it is established.</summary>
    public void RegisterCrd(JsonObject crd)
    {
        var spec = crd["spec"]?.AsObject();
        if (spec is null)
        {
            return;
        }

        string group = (string?)spec["group"] ?? "";
        string plural = (string?)spec["names"]?["plural"] ?? "";
        string kind = (string?)spec["names"]?["kind"] ?? "";
        bool namespaced = (string?)spec["scope"] != "Cluster";
        foreach (var v in spec["versions"]?.AsArray() ?? [])
        {
            if (v is null || (bool?)v["served"] == false)
            {
                continue;
            }

            bool status = v["subresources"]?["status"] is not null;
            Add(new ResourceType(group, (string?)v["name"] ?? "v1", plural, kind, namespaced, status, IsCustom: true));
        }
    }
}
