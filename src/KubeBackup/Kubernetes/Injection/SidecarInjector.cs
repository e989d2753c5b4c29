using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace KubeBackup.Kubernetes.Injection;

/// <summary>An environment variable of the sidecar, always taken from a Secret (never a literal value).</summary>
/// <param name="Name">The variable.</param>
/// <param name="SecretName">The Secret.</param>
/// <param name="Key">The key in the Secret.</param>
public sealed record SecretEnv(string Name, string SecretName, string Key);

/// <summary>The backup sidecar to inject.</summary>
public sealed class SidecarOptions
{
    /// <summary>Annotation on a Deployment, StatefulSet or DaemonSet that opts in (<c>"true"</c>) or out (anything else removes an injected sidecar).</summary>
    public const string InjectAnnotation = "kubebackup.io/inject";

    /// <summary>Optional annotation listing the pod volumes to mount (comma-separated); default: every data volume the app containers mount.</summary>
    public const string VolumesAnnotation = "kubebackup.io/backup-volumes";

    /// <summary>Annotation the injector puts on the pod template: the hash of what it injected (how a second review knows there is nothing to do).</summary>
    public const string HashAnnotation = "kubebackup.io/sidecar-hash";

    /// <summary>The container's name. Default <c>kubebackup</c>.</summary>
    public string ContainerName { get; set; } = "kubebackup";

    /// <summary>The image.</summary>
    public required string Image { get; set; }

    /// <summary>The argv of the sidecar.</summary>
    public IList<string> Command { get; } = [];

    /// <summary>Variables from Secrets (repository password, cloud credentials).</summary>
    public IList<SecretEnv> Env { get; } = [];

    /// <summary>Whole Secrets exposed as variables (envFrom).</summary>
    public IList<string> EnvFromSecrets { get; } = [];

    /// <summary>Resource requests (e.g. cpu=50m, memory=128Mi).</summary>
    public IDictionary<string, string> Requests { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Resource limits.</summary>
    public IDictionary<string, string> Limits { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal);

    /// <summary>A scratch emptyDir for the sidecar's cache, mounted at this path; null for none. Default <c>/kubebackup-cache</c>.</summary>
    public string? ScratchMountPath { get; set; } = "/kubebackup-cache";
}

/// <summary>
/// The mutation of a backup-sidecar admission webhook: for a Deployment, StatefulSet or DaemonSet that opts in by
/// annotation, a JSON patch that adds the sidecar with the target volumes mounted read-only; for one that opted out,
/// the patch that removes it. The result is a fixed point: reviewing the patched object again gives no patch, so the
/// webhook never causes a rollout loop. What was injected is recognised by a hash annotation on the pod template, not
/// by comparing containers (the API server adds defaults to them).
/// </summary>
public sealed class SidecarInjector
{
    private static readonly HashSet<string> WorkloadKinds = ["Deployment", "StatefulSet", "DaemonSet"];
    private const string ScratchVolume = "kubebackup-cache";
    private readonly SidecarOptions _options;

    /// <summary>Creates an injector.</summary>
    public SidecarInjector(SidecarOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        ArgumentException.ThrowIfNullOrEmpty(options.Image);
    }

    /// <summary>Answers an AdmissionReview: allowed, with a patch if the object needs one.</summary>
    public AdmissionReview Review(AdmissionReview review)
    {
        ArgumentNullException.ThrowIfNull(review);
        var request = review.Request ?? throw new ArgumentException("The review has no request.", nameof(review));
        var response = new AdmissionResponse { Uid = request.Uid, Allowed = true };
        if (request.Operation is "CREATE" or "UPDATE" && request.Object is { } obj && WorkloadKinds.Contains(request.Kind?.Kind ?? "")
            && string.IsNullOrEmpty(request.SubResource))
        {
            try
            {
                var patch = ComputePatch(obj);
                if (patch.Count > 0)
                {
                    response.Patch = Convert.ToBase64String(Encoding.UTF8.GetBytes(patch.ToJsonString()));
                    response.PatchType = "JSONPatch";
                }
            }
            catch (InvalidOperationException ex)
            {
                // A malformed object is for the API server's validation to reject; the webhook does not block it.
                response.Warnings = [$"kubebackup sidecar not injected: {ex.Message}"];
            }
        }

        return new AdmissionReview { Request = null, Response = response };
    }

    /// <summary>The JSON patch (RFC 6902) for a workload object; empty when nothing is to change.</summary>
    public JsonArray ComputePatch(JsonObject workload)
    {
        ArgumentNullException.ThrowIfNull(workload);
        var ops = new JsonArray();
        var template = workload["spec"]?["template"] as JsonObject ?? throw new InvalidOperationException("the object has no spec.template");
        var podSpec = template["spec"] as JsonObject ?? throw new InvalidOperationException("the object has no spec.template.spec");
        var annotations = workload["metadata"]?["annotations"] as JsonObject;
        bool optedIn = string.Equals((string?)annotations?[SidecarOptions.InjectAnnotation], "true", StringComparison.OrdinalIgnoreCase);
        var containers = podSpec["containers"] as JsonArray;
        int sidecarIndex = containers is null ? -1 : IndexOf(containers, c => (string?)c?["name"] == _options.ContainerName);
        var volumes = podSpec["volumes"] as JsonArray;
        int scratchIndex = volumes is null ? -1 : IndexOf(volumes, v => (string?)v?["name"] == ScratchVolume);
        var templateAnnotations = template["metadata"]?["annotations"] as JsonObject;
        string? currentHash = (string?)templateAnnotations?[SidecarOptions.HashAnnotation];

        if (!optedIn)
        {
            // Opted out (or never in): remove what we injected, and only that.
            if (sidecarIndex >= 0)
            {
                ops.Add(Op("remove", $"/spec/template/spec/containers/{sidecarIndex}"));
            }

            if (scratchIndex >= 0)
            {
                ops.Add(Op("remove", $"/spec/template/spec/volumes/{scratchIndex}"));
            }

            if (currentHash is not null)
            {
                ops.Add(Op("remove", "/spec/template/metadata/annotations/" + Escape(SidecarOptions.HashAnnotation)));
            }

            return ops;
        }

        var appContainers = (containers ?? []).OfType<JsonObject>().Where(c => (string?)c["name"] != _options.ContainerName).ToList();
        // A StatefulSet's claim templates become pod volumes only in the pods; they are data volumes too.
        var claimTemplates = (workload["spec"]?["volumeClaimTemplates"] as JsonArray ?? []).Select(t => (string?)t?["metadata"]?["name"]).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var sidecar = BuildSidecar(appContainers, volumes, claimTemplates, (string?)annotations?[SidecarOptions.VolumesAnnotation]);
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sidecar.ToJsonString())))[..16];
        if (sidecarIndex >= 0 && currentHash == hash && (_options.ScratchMountPath is null || scratchIndex >= 0))
        {
            return ops;
        }

        if (containers is null)
        {
            ops.Add(Op("add", "/spec/template/spec/containers", new JsonArray(sidecar)));
        }
        else if (sidecarIndex >= 0)
        {
            ops.Add(Op("replace", $"/spec/template/spec/containers/{sidecarIndex}", sidecar));
        }
        else
        {
            ops.Add(Op("add", "/spec/template/spec/containers/-", sidecar));
        }

        if (_options.ScratchMountPath is not null && scratchIndex < 0)
        {
            var scratch = new JsonObject { ["name"] = ScratchVolume, ["emptyDir"] = new JsonObject() };
            ops.Add(volumes is null ? Op("add", "/spec/template/spec/volumes", new JsonArray(scratch)) : Op("add", "/spec/template/spec/volumes/-", scratch));
        }

        if (template["metadata"] is not JsonObject)
        {
            ops.Add(Op("add", "/spec/template/metadata", new JsonObject { ["annotations"] = new JsonObject { [SidecarOptions.HashAnnotation] = hash } }));
        }
        else if (templateAnnotations is null)
        {
            ops.Add(Op("add", "/spec/template/metadata/annotations", new JsonObject { [SidecarOptions.HashAnnotation] = hash }));
        }
        else
        {
            ops.Add(Op(currentHash is null ? "add" : "replace", "/spec/template/metadata/annotations/" + Escape(SidecarOptions.HashAnnotation), hash));
        }

        return ops;
    }

    private JsonObject BuildSidecar(List<JsonObject> appContainers, JsonArray? volumes, HashSet<string> claimTemplates, string? volumeList)
    {
        var wanted = volumeList?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        var mounts = new JsonArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in appContainers)
        {
            foreach (var m in (c["volumeMounts"] as JsonArray ?? []).OfType<JsonObject>())
            {
                string? name = (string?)m["name"];
                string? path = (string?)m["mountPath"];
                if (name is null || path is null || !seen.Add(name))
                {
                    continue;
                }

                var volume = (volumes ?? []).OfType<JsonObject>().FirstOrDefault(v => (string?)v["name"] == name);
                bool isData = claimTemplates.Contains(name) || volume is not null && (volume["persistentVolumeClaim"] is not null || volume["emptyDir"] is not null || volume["hostPath"] is not null
                    || volume["csi"] is not null || volume["ephemeral"] is not null);
                if ((wanted is null && !isData) || (wanted is not null && !wanted.Contains(name)))
                {
                    continue;
                }

                // Read-only: the sidecar reads data, it never changes it.
                mounts.Add((JsonNode)new JsonObject { ["name"] = name, ["mountPath"] = path, ["readOnly"] = true });
            }
        }

        if (_options.ScratchMountPath is not null)
        {
            mounts.Add((JsonNode)new JsonObject { ["name"] = ScratchVolume, ["mountPath"] = _options.ScratchMountPath });
        }

        var container = new JsonObject { ["name"] = _options.ContainerName, ["image"] = _options.Image };
        if (_options.Command.Count > 0)
        {
            container["command"] = new JsonArray(_options.Command.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray());
        }

        if (_options.Env.Count > 0)
        {
            container["env"] = new JsonArray(_options.Env.Select(e => (JsonNode?)new JsonObject
            {
                ["name"] = e.Name,
                ["valueFrom"] = new JsonObject { ["secretKeyRef"] = new JsonObject { ["name"] = e.SecretName, ["key"] = e.Key } },
            }).ToArray());
        }

        if (_options.EnvFromSecrets.Count > 0)
        {
            container["envFrom"] = new JsonArray(_options.EnvFromSecrets.Select(s => (JsonNode?)new JsonObject { ["secretRef"] = new JsonObject { ["name"] = s } }).ToArray());
        }

        if (_options.Requests.Count > 0 || _options.Limits.Count > 0)
        {
            var resources = new JsonObject();
            if (_options.Requests.Count > 0)
            {
                resources["requests"] = ToObject(_options.Requests);
            }

            if (_options.Limits.Count > 0)
            {
                resources["limits"] = ToObject(_options.Limits);
            }

            container["resources"] = resources;
        }

        if (mounts.Count > 0)
        {
            container["volumeMounts"] = mounts;
        }

        return container;
    }

    private static JsonObject ToObject(IDictionary<string, string> map)
    {
        var o = new JsonObject();
        foreach (var (k, v) in map.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            o[k] = v;
        }

        return o;
    }

    private static int IndexOf(JsonArray array, Func<JsonNode?, bool> match)
    {
        for (int i = 0; i < array.Count; i++)
        {
            if (match(array[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static JsonNode Op(string op, string path, JsonNode? value = null)
    {
        var o = new JsonObject { ["op"] = op, ["path"] = path };
        if (op is "add" or "replace")
        {
            o["value"] = value;
        }

        return o;
    }

    private static string Escape(string key) => key.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
}
