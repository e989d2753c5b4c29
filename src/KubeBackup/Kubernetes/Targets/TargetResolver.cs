using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KubeBackup.Kubernetes.Targets;

/// <summary>Resolves backup targets to pods, containers and volumes.</summary>
public interface ITargetResolver
{
    /// <summary>Resolves a target; a missing or not-ready target throws <see cref="TargetResolutionException"/>.</summary>
    Task<ResolvedTarget> ResolveAsync(TargetRef target, TargetResolveOptions? options = null, CancellationToken cancellationToken = default);
}

/// <summary>
/// Resolves targets with Stash's replica rules: a StatefulSet backs up every replica (host <c>name-ordinal</c>), a
/// DaemonSet every pod (host <c>name-node</c>), a Deployment one ready pod (host: the Deployment's name, so that whichever
/// pod runs, the snapshots form one history). Every pod a rule needs must be running and ready.
/// </summary>
public sealed class TargetResolver : ITargetResolver
{
    private readonly IKubernetes _kubernetes;
    private readonly KubeRetryOptions? _retry;
    private readonly ILogger _logger;

    /// <summary>Creates a resolver over a configured client.</summary>
    public TargetResolver(IKubernetes kubernetes, KubeRetryOptions? retry = null, ILogger<TargetResolver>? logger = null)
    {
        _kubernetes = kubernetes ?? throw new ArgumentNullException(nameof(kubernetes));
        _retry = retry;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <inheritdoc />
    public async Task<ResolvedTarget> ResolveAsync(TargetRef target, TargetResolveOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        options ??= new TargetResolveOptions();
        try
        {
            return target.Kind switch
            {
                TargetKind.Deployment => await ResolveDeploymentAsync(target, options, cancellationToken).ConfigureAwait(false),
                TargetKind.StatefulSet => await ResolveStatefulSetAsync(target, options, cancellationToken).ConfigureAwait(false),
                TargetKind.DaemonSet => await ResolveDaemonSetAsync(target, options, cancellationToken).ConfigureAwait(false),
                TargetKind.Pod => await ResolvePodAsync(target, options, cancellationToken).ConfigureAwait(false),
                TargetKind.PersistentVolumeClaim => await ResolveClaimAsync(target, options, cancellationToken).ConfigureAwait(false),
                _ => throw new ArgumentOutOfRangeException(nameof(target)),
            };
        }
        catch (k8s.Autorest.HttpOperationException ex) when (KubeRetry.IsNotFound(ex))
        {
            throw new TargetResolutionException(target, "not found", ex);
        }
    }

    private Task<T> Call<T>(Func<CancellationToken, Task<T>> call, string what, CancellationToken ct) => KubeRetry.RunAsync(call, _retry, _logger, what, ct);

    private async Task<ResolvedTarget> ResolveDeploymentAsync(TargetRef t, TargetResolveOptions o, CancellationToken ct)
    {
        var d = await Call(c => _kubernetes.AppsV1.ReadNamespacedDeploymentAsync(t.Name, t.Namespace, cancellationToken: c), "read deployment", ct).ConfigureAwait(false);
        var pods = await PodsOfAsync(t, d.Spec.Selector, ct).ConfigureAwait(false);
        var ready = pods.Where(IsReady).OrderBy(p => p.Metadata.Name, StringComparer.Ordinal).ToList();
        if (ready.Count == 0)
        {
            throw new TargetResolutionException(t, $"no ready pod ({pods.Count} pods, {d.Spec.Replicas ?? 1} replicas wanted)");
        }

        var pod = Resolve(t, ready[0], t.Name, o);
        return new ResolvedTarget { Target = t, Pods = [pod], Claims = ClaimsOf(d.Spec.Template.Spec) };
    }

    private async Task<ResolvedTarget> ResolveStatefulSetAsync(TargetRef t, TargetResolveOptions o, CancellationToken ct)
    {
        var s = await Call(c => _kubernetes.AppsV1.ReadNamespacedStatefulSetAsync(t.Name, t.Namespace, cancellationToken: c), "read statefulset", ct).ConfigureAwait(false);
        int replicas = s.Spec.Replicas ?? 1;
        if (replicas == 0)
        {
            throw new TargetResolutionException(t, "scaled to 0 replicas: nothing runs to back up");
        }

        var pods = await PodsOfAsync(t, s.Spec.Selector, ct).ConfigureAwait(false);
        var result = new List<ResolvedPod>();
        var problems = new List<string>();
        for (int i = 0; i < replicas; i++)
        {
            string name = $"{t.Name}-{i}";
            var pod = pods.FirstOrDefault(p => p.Metadata.Name == name);
            if (pod is null)
            {
                problems.Add($"{name} does not exist");
            }
            else if (!IsReady(pod))
            {
                problems.Add($"{name} is not ready ({Describe(pod)})");
            }
            else
            {
                result.Add(Resolve(t, pod, name, o));
            }
        }

        if (problems.Count > 0)
        {
            throw new TargetResolutionException(t, "every replica must be ready: " + string.Join("; ", problems));
        }

        return new ResolvedTarget { Target = t, Pods = result, Claims = result.SelectMany(p => ClaimNames(pods.First(x => x.Metadata.Name == p.Name).Spec)).Distinct().ToList() };
    }

    private async Task<ResolvedTarget> ResolveDaemonSetAsync(TargetRef t, TargetResolveOptions o, CancellationToken ct)
    {
        var d = await Call(c => _kubernetes.AppsV1.ReadNamespacedDaemonSetAsync(t.Name, t.Namespace, cancellationToken: c), "read daemonset", ct).ConfigureAwait(false);
        var pods = (await PodsOfAsync(t, d.Spec.Selector, ct).ConfigureAwait(false)).OrderBy(p => p.Spec.NodeName, StringComparer.Ordinal).ToList();
        if (pods.Count == 0)
        {
            throw new TargetResolutionException(t, $"no pods ({d.Status?.DesiredNumberScheduled ?? 0} scheduled)");
        }

        var notReady = pods.Where(p => !IsReady(p)).Select(p => $"{p.Metadata.Name} on {p.Spec.NodeName} is not ready ({Describe(p)})").ToList();
        if (notReady.Count > 0)
        {
            throw new TargetResolutionException(t, "every pod must be ready: " + string.Join("; ", notReady));
        }

        var result = pods.Select(p => Resolve(t, p, $"{t.Name}-{p.Spec.NodeName}", o)).ToList();
        return new ResolvedTarget { Target = t, Pods = result, Claims = ClaimsOf(d.Spec.Template.Spec) };
    }

    private async Task<ResolvedTarget> ResolvePodAsync(TargetRef t, TargetResolveOptions o, CancellationToken ct)
    {
        var pod = await Call(c => _kubernetes.CoreV1.ReadNamespacedPodAsync(t.Name, t.Namespace, cancellationToken: c), "read pod", ct).ConfigureAwait(false);
        if (!IsReady(pod))
        {
            throw new TargetResolutionException(t, $"not ready ({Describe(pod)})");
        }

        return new ResolvedTarget { Target = t, Pods = [Resolve(t, pod, t.Name, o)], Claims = ClaimNames(pod.Spec).ToList() };
    }

    private async Task<ResolvedTarget> ResolveClaimAsync(TargetRef t, TargetResolveOptions o, CancellationToken ct)
    {
        var pvc = await Call(c => _kubernetes.CoreV1.ReadNamespacedPersistentVolumeClaimAsync(t.Name, t.Namespace, cancellationToken: c), "read pvc", ct).ConfigureAwait(false);
        if (pvc.Status?.Phase != "Bound")
        {
            throw new TargetResolutionException(t, $"not bound (phase {pvc.Status?.Phase ?? "unknown"})");
        }

        var pods = await Call(c => _kubernetes.CoreV1.ListNamespacedPodAsync(t.Namespace, cancellationToken: c), "list pods", ct).ConfigureAwait(false);
        var users = pods.Items.Where(p => IsReady(p) && ClaimNames(p.Spec).Contains(t.Name)).OrderBy(p => p.Metadata.Name, StringComparer.Ordinal)
            .Select(p =>
            {
                var mountOptions = new TargetResolveOptions { Container = o.Container };
                foreach (var path in o.Paths)
                {
                    mountOptions.Paths.Add(path);
                }

                return Resolve(t, p, t.Name, mountOptions, claimFilter: t.Name);
            }).ToList();
        return new ResolvedTarget { Target = t, Pods = users, Claims = [t.Name] };
    }

    private async Task<List<V1Pod>> PodsOfAsync(TargetRef t, V1LabelSelector? selector, CancellationToken ct)
    {
        string labelSelector = ToSelectorString(selector) ?? throw new TargetResolutionException(t, "has no pod selector");
        var list = await Call(c => _kubernetes.CoreV1.ListNamespacedPodAsync(t.Namespace, labelSelector: labelSelector, cancellationToken: c), "list pods", ct).ConfigureAwait(false);
        return list.Items.Where(p => p.Metadata.DeletionTimestamp is null).ToList();
    }

    /// <summary>A label selector in the API's query syntax.</summary>
    internal static string? ToSelectorString(V1LabelSelector? selector)
    {
        if (selector is null)
        {
            return null;
        }

        var terms = new List<string>();
        foreach (var (k, v) in selector.MatchLabels ?? new Dictionary<string, string>())
        {
            terms.Add($"{k}={v}");
        }

        foreach (var e in selector.MatchExpressions ?? [])
        {
            terms.Add(e.OperatorProperty switch
            {
                "In" => $"{e.Key} in ({string.Join(',', e.Values ?? [])})",
                "NotIn" => $"{e.Key} notin ({string.Join(',', e.Values ?? [])})",
                "Exists" => e.Key,
                "DoesNotExist" => "!" + e.Key,
                _ => throw new ArgumentException($"unknown selector operator '{e.OperatorProperty}'"),
            });
        }

        return terms.Count == 0 ? null : string.Join(',', terms);
    }

    /// <summary>Running, ready, not being deleted.</summary>
    internal static bool IsReady(V1Pod pod) =>
        pod.Metadata.DeletionTimestamp is null && pod.Status?.Phase == "Running"
        && (pod.Status.Conditions ?? []).Any(c => c.Type == "Ready" && c.Status == "True");

    private static string Describe(V1Pod pod)
    {
        var ready = (pod.Status?.Conditions ?? []).FirstOrDefault(c => c.Type == "Ready");
        return $"phase {pod.Status?.Phase ?? "unknown"}, Ready={ready?.Status ?? "unknown"}";
    }

    private static IReadOnlyList<string> ClaimsOf(V1PodSpec? spec) => ClaimNames(spec).ToList();

    private static IEnumerable<string> ClaimNames(V1PodSpec? spec) =>
        (spec?.Volumes ?? []).Where(v => v.PersistentVolumeClaim is not null).Select(v => v.PersistentVolumeClaim.ClaimName).Order(StringComparer.Ordinal);

    private static ResolvedPod Resolve(TargetRef t, V1Pod pod, string host, TargetResolveOptions o, string? claimFilter = null)
    {
        var containers = pod.Spec.Containers ?? [];
        V1Container? container;
        if (o.Container is not null)
        {
            container = containers.FirstOrDefault(c => c.Name == o.Container)
                ?? throw new TargetResolutionException(t, $"pod {pod.Metadata.Name} has no container '{o.Container}'");
        }
        else
        {
            container = containers.FirstOrDefault(c => o.Paths.All(p => MountFor(c, p) is not null)
                && (claimFilter is null || (c.VolumeMounts ?? []).Any(m => ClaimOf(pod, m.Name) == claimFilter)))
                ?? containers.FirstOrDefault()
                ?? throw new TargetResolutionException(t, $"pod {pod.Metadata.Name} has no containers");
        }

        var volumes = new List<ResolvedVolume>();
        var mounts = o.Paths.Count == 0
            ? (container.VolumeMounts ?? []).ToList()
            : o.Paths.Select(p => MountFor(container, p)).Where(m => m is not null).Select(m => m!).Distinct().ToList();
        foreach (var m in mounts)
        {
            var claim = ClaimOf(pod, m.Name);
            if (claimFilter is not null && claim != claimFilter)
            {
                continue;
            }

            volumes.Add(new ResolvedVolume(m.Name, m.MountPath, claim, m.ReadOnlyProperty ?? false));
        }

        return new ResolvedPod(pod.Metadata.NamespaceProperty ?? t.Namespace, pod.Metadata.Name, container.Name, host, pod.Spec.NodeName, volumes);
    }

    private static string? ClaimOf(V1Pod pod, string volumeName) =>
        (pod.Spec.Volumes ?? []).FirstOrDefault(v => v.Name == volumeName)?.PersistentVolumeClaim?.ClaimName;

    private static V1VolumeMount? MountFor(V1Container container, string path) =>
        (container.VolumeMounts ?? [])
            .Where(m => path == m.MountPath || path.StartsWith(m.MountPath.TrimEnd('/') + "/", StringComparison.Ordinal))
            .OrderByDescending(m => m.MountPath.Length)
            .FirstOrDefault();
}
