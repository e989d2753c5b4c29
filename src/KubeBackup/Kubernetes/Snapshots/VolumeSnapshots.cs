using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using KubeBackup.Kubernetes.Hooks;
using KubeBackup.Kubernetes.Targets;
using KubeBackup.Retention;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KubeBackup.Kubernetes.Snapshots;

/// <summary>A snapshot.storage.k8s.io/v1 VolumeSnapshot as the driver sees it.</summary>
/// <param name="Namespace">The namespace.</param>
/// <param name="Name">The name.</param>
/// <param name="ClaimName">The source PersistentVolumeClaim.</param>
/// <param name="ClassName">The VolumeSnapshotClass, if set.</param>
/// <param name="ReadyToUse">Whether it can be restored from.</param>
/// <param name="RestoreSize">The size a restored claim needs (a quantity such as <c>1Gi</c>).</param>
/// <param name="CreationTime">When the snapshot was cut (status), or the object was created.</param>
/// <param name="Error">The snapshot controller's error message, if it reported one.</param>
/// <param name="Labels">The labels.</param>
public sealed record VolumeSnapshotInfo(string Namespace, string Name, string ClaimName, string? ClassName, bool ReadyToUse, string? RestoreSize,
    DateTimeOffset? CreationTime, string? Error, IReadOnlyDictionary<string, string> Labels)
{
    /// <summary>When the object was created (metadata.creationTimestamp).</summary>
    public DateTimeOffset? ObjectCreated { get; init; }
}

/// <summary>How a target's volumes are snapshotted.</summary>
public sealed class VolumeSnapshotRequest
{
    /// <summary>Identifies the backup session; it names the snapshots and labels them (<see cref="CsiSnapshotDriver.SessionLabel"/>).</summary>
    public required string SessionName { get; init; }

    /// <summary>The VolumeSnapshotClass; null for the cluster's default class.</summary>
    public string? SnapshotClassName { get; init; }

    /// <summary>Extra labels of every snapshot.</summary>
    public IDictionary<string, string> Labels { get; } = new Dictionary<string, string>();

    /// <summary>How long to wait for all snapshots to become ready. Default 10 minutes.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Runs once in each of the target's pods before the snapshots are taken (one pair around all claims).</summary>
    public IList<PodExecHook> PreHooks { get; } = [];

    /// <summary>Runs once in each pod after every snapshot is cut (or failed); always runs if a pre hook ran.</summary>
    public IList<PodExecHook> PostHooks { get; } = [];
}

/// <summary>The snapshots of one target.</summary>
public sealed class VolumeSnapshotResult
{
    /// <summary>The target.</summary>
    public required ResolvedTarget Target { get; init; }

    /// <summary>One ready snapshot per claim.</summary>
    public required IReadOnlyList<VolumeSnapshotInfo> Snapshots { get; init; }

    /// <summary>Every hook that ran, in order.</summary>
    public required IReadOnlyList<PodHookOutcome> Hooks { get; init; }
}

/// <summary>A snapshot failed (the controller's <c>status.error</c>) or did not become ready in time.</summary>
public sealed class VolumeSnapshotException : KubeBackupException
{
    /// <summary>Creates the exception.</summary>
    public VolumeSnapshotException(string message, IReadOnlyList<VolumeSnapshotInfo> snapshots, bool timedOut, Exception? innerException = null)
        : base(message, innerException)
    {
        Snapshots = snapshots;
        TimedOut = timedOut;
    }

    /// <summary>The snapshots as last seen.</summary>
    public IReadOnlyList<VolumeSnapshotInfo> Snapshots { get; }

    /// <summary>Whether the wait ran out of time (rather than a snapshot failing).</summary>
    public bool TimedOut { get; }
}

/// <summary>How a claim is restored from a snapshot.</summary>
public sealed class ClaimRestoreRequest
{
    /// <summary>The namespace of the snapshot and the new claim.</summary>
    public required string Namespace { get; init; }

    /// <summary>The VolumeSnapshot to restore.</summary>
    public required string SnapshotName { get; init; }

    /// <summary>The new claim's name.</summary>
    public required string ClaimName { get; init; }

    /// <summary>The storage class; null for the source claim's (if it still exists) or the default.</summary>
    public string? StorageClassName { get; init; }

    /// <summary>Access modes. Default ReadWriteOnce.</summary>
    public IList<string> AccessModes { get; } = ["ReadWriteOnce"];

    /// <summary>How long to wait for the claim to be bound; null does not wait (WaitForFirstConsumer classes bind late).</summary>
    public TimeSpan? BindTimeout { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// The CSI-snapshot driver: snapshots every PersistentVolumeClaim of a target between one pre/post hook pair, waits for
/// the snapshots to become ready (following them with a watch that resumes where it broke off), reports the
/// controller's errors, keeps old snapshots by the same retention rules as restic snapshots, and restores a snapshot
/// into a new claim (optionally pointing the workload at it).
/// </summary>
public sealed class CsiSnapshotDriver
{
    /// <summary>Label with the backup session's name.</summary>
    public const string SessionLabel = "kubebackup.io/session";

    /// <summary>Label with the target's kind.</summary>
    public const string TargetKindLabel = "kubebackup.io/target-kind";

    /// <summary>Label with the target's name.</summary>
    public const string TargetNameLabel = "kubebackup.io/target-name";

    /// <summary>Label with the source claim.</summary>
    public const string ClaimLabel = "kubebackup.io/claim";

    private const string Group = "snapshot.storage.k8s.io", Version = "v1", Plural = "volumesnapshots";

    private readonly IKubernetes _kubernetes;
    private readonly ITargetResolver _resolver;
    private readonly PodHookRunner? _hooks;
    private readonly KubeRetryOptions? _retry;
    private readonly ILogger _logger;

    /// <summary>Creates the driver.</summary>
    /// <param name="kubernetes">The host's client.</param>
    /// <param name="resolver">Resolves targets to claims and pods.</param>
    /// <param name="hooks">Runs pre/post hooks; null if no hooks are used.</param>
    /// <param name="retry">API retries.</param>
    /// <param name="logger">Logger.</param>
    public CsiSnapshotDriver(IKubernetes kubernetes, ITargetResolver resolver, PodHookRunner? hooks = null, KubeRetryOptions? retry = null,
        ILogger<CsiSnapshotDriver>? logger = null)
    {
        _kubernetes = kubernetes ?? throw new ArgumentNullException(nameof(kubernetes));
        _resolver = resolver ?? throw new ArgumentNullException(nameof(resolver));
        _hooks = hooks;
        _retry = retry;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Snapshots all claims of a target and waits until every snapshot is ready.</summary>
    /// <exception cref="TargetResolutionException">The target is missing, not ready, or has no claims.</exception>
    /// <exception cref="VolumeSnapshotException">A snapshot failed or was not ready in time.</exception>
    /// <exception cref="PodHookFailedException">A hook failed with policy Fail.</exception>
    public async Task<VolumeSnapshotResult> SnapshotAsync(TargetRef target, VolumeSnapshotRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(request);
        var resolved = await _resolver.ResolveAsync(target, null, cancellationToken).ConfigureAwait(false);
        if (resolved.Claims.Count == 0)
        {
            throw new TargetResolutionException(target, "has no PersistentVolumeClaims to snapshot");
        }

        if ((request.PreHooks.Count > 0 || request.PostHooks.Count > 0) && _hooks is null)
        {
            throw new InvalidOperationException("Hooks were given but the driver has no hook runner.");
        }

        var outcomes = new List<PodHookOutcome>();
        bool preRan = false;
        Dictionary<string, VolumeSnapshotInfo> state;
        try
        {
            foreach (var hook in request.PreHooks)
            {
                foreach (var pod in resolved.Pods)
                {
                    preRan = true;
                    outcomes.Add(await _hooks!.RunAsync(hook, pod, cancellationToken).ConfigureAwait(false));
                }
            }

            var names = new List<string>();
            foreach (var claim in resolved.Claims)
            {
                names.Add(await CreateAsync(target, claim, request, cancellationToken).ConfigureAwait(false));
            }

            // The hook pair brackets the moment the snapshots are cut; uploading may take longer and needs no freeze.
            state = await WaitAsync(target.Namespace, request.SessionName, names, s => s.CreationTime is not null || s.ReadyToUse, request.ReadyTimeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (preRan || request.PreHooks.Count == 0)
            {
                foreach (var hook in request.PostHooks)
                {
                    foreach (var pod in resolved.Pods)
                    {
                        outcomes.Add(await _hooks!.RunAsync(hook, pod, CancellationToken.None).ConfigureAwait(false));
                    }
                }
            }
        }

        state = await WaitAsync(target.Namespace, request.SessionName, state.Keys.ToList(), s => s.ReadyToUse, request.ReadyTimeout, cancellationToken).ConfigureAwait(false);
        return new VolumeSnapshotResult { Target = resolved, Snapshots = state.Values.OrderBy(s => s.ClaimName, StringComparer.Ordinal).ToList(), Hooks = outcomes };
    }

    private async Task<string> CreateAsync(TargetRef target, string claim, VolumeSnapshotRequest request, CancellationToken ct)
    {
        string name = SnapshotName(claim, request.SessionName);
        var labels = new JsonObject
        {
            [SessionLabel] = request.SessionName,
            [TargetKindLabel] = target.Kind.ToString(),
            [TargetNameLabel] = target.Name,
            [ClaimLabel] = claim,
        };
        foreach (var (k, v) in request.Labels)
        {
            labels[k] = v;
        }

        var spec = new JsonObject { ["source"] = new JsonObject { ["persistentVolumeClaimName"] = claim } };
        if (request.SnapshotClassName is not null)
        {
            spec["volumeSnapshotClassName"] = request.SnapshotClassName;
        }

        var body = new JsonObject
        {
            ["apiVersion"] = Group + "/" + Version,
            ["kind"] = "VolumeSnapshot",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = target.Namespace, ["labels"] = labels },
            ["spec"] = spec,
        };
        try
        {
            await KubeRetry.RunAsync(c => _kubernetes.CustomObjects.CreateNamespacedCustomObjectAsync(body, Group, Version, target.Namespace, Plural, cancellationToken: c),
                _retry, _logger, "create VolumeSnapshot", ct, retryConflicts: true).ConfigureAwait(false);
        }
        catch (HttpOperationException ex) when (KubeRetry.IsAlreadyExists(ex))
        {
            // A retried create whose first attempt went through: the snapshot is ours if it carries our session label.
            var existing = await GetAsync(target.Namespace, name, ct).ConfigureAwait(false);
            if (existing?.Labels.GetValueOrDefault(SessionLabel) != request.SessionName)
            {
                throw;
            }
        }

        _logger.LogInformation("Created VolumeSnapshot {Namespace}/{Name} of claim {Claim}", target.Namespace, name, claim);
        return name;
    }

    /// <summary>A snapshot name: <c>claim-session</c>, shortened with a hash to the 63 characters a label value allows.</summary>
    internal static string SnapshotName(string claim, string session)
    {
        string name = $"{claim}-{session}".ToLowerInvariant();
        if (name.Length <= 63)
        {
            return name;
        }

        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name)))[..8];
        return name[..54].TrimEnd('-', '.') + "-" + hash;
    }

    private async Task<VolumeSnapshotInfo?> GetAsync(string ns, string name, CancellationToken ct)
    {
        try
        {
            var obj = await KubeRetry.RunAsync(c => _kubernetes.CustomObjects.GetNamespacedCustomObjectAsync(Group, Version, ns, Plural, name, c), _retry, _logger, "read VolumeSnapshot", ct).ConfigureAwait(false);
            return Parse(KubeJson.ToObject(obj));
        }
        catch (HttpOperationException ex) when (KubeRetry.IsNotFound(ex))
        {
            return null;
        }
    }

    /// <summary>Lists VolumeSnapshots of a namespace, optionally by label selector.</summary>
    public async Task<IReadOnlyList<VolumeSnapshotInfo>> ListAsync(string ns, string? labelSelector = null, CancellationToken cancellationToken = default)
    {
        var (items, _) = await ListWithVersionAsync(ns, labelSelector, cancellationToken).ConfigureAwait(false);
        return items;
    }

    private async Task<(List<VolumeSnapshotInfo> Items, string? ResourceVersion)> ListWithVersionAsync(string ns, string? labelSelector, CancellationToken ct)
    {
        var list = await KubeRetry.RunAsync(c => _kubernetes.CustomObjects.ListNamespacedCustomObjectAsync(Group, Version, ns, Plural, labelSelector: labelSelector, cancellationToken: c),
            _retry, _logger, "list VolumeSnapshots", ct).ConfigureAwait(false);
        var obj = KubeJson.ToObject(list);
        var items = (obj["items"] as JsonArray ?? []).OfType<JsonObject>().Select(Parse).ToList();
        return (items, KubeJson.Str(obj["metadata"]?["resourceVersion"]));
    }

    internal static VolumeSnapshotInfo Parse(JsonObject o)
    {
        var meta = o["metadata"];
        var status = o["status"];
        var created = KubeJson.Str(status?["creationTime"]);
        var objectCreated = KubeJson.Str(meta?["creationTimestamp"]);
        return new VolumeSnapshotInfo(
            KubeJson.Str(meta?["namespace"]) ?? "",
            KubeJson.Str(meta?["name"]) ?? "",
            KubeJson.Str(o["spec"]?["source"]?["persistentVolumeClaimName"]) ?? "",
            KubeJson.Str(o["spec"]?["volumeSnapshotClassName"]),
            KubeJson.Bool(status?["readyToUse"]) == true,
            KubeJson.Str(status?["restoreSize"]),
            created is not null ? DateTimeOffset.Parse(created, CultureInfo.InvariantCulture) : null,
            KubeJson.Str(status?["error"]?["message"]),
            KubeJson.Map(meta?["labels"]))
        {
            ObjectCreated = objectCreated is not null ? DateTimeOffset.Parse(objectCreated, CultureInfo.InvariantCulture) : null,
        };
    }

    /// <summary>
    /// Follows the named snapshots until each satisfies <paramref name="done"/>, fails, or time runs out. The watch is
    /// resumed from the last resourceVersion seen when it drops, and re-listed when that version is gone (410).
    /// </summary>
    private async Task<Dictionary<string, VolumeSnapshotInfo>> WaitAsync(string ns, string session, IReadOnlyList<string> names, Func<VolumeSnapshotInfo, bool> done,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutCts.CancelAfter(timeout);
        var ct = timeoutCts.Token;
        string selector = $"{SessionLabel}={session}";
        var state = new Dictionary<string, VolumeSnapshotInfo>(StringComparer.Ordinal);
        string? rv = null;
        try
        {
            while (true)
            {
                if (rv is null)
                {
                    var (items, listRv) = await ListWithVersionAsync(ns, selector, ct).ConfigureAwait(false);
                    foreach (var i in items.Where(i => names.Contains(i.Name)))
                    {
                        state[i.Name] = i;
                    }

                    rv = listRv;
                }

                if (Check(state, names, done))
                {
                    return state;
                }

                bool gone = false;
                try
                {
                    await foreach (var (type, item) in _kubernetes.CustomObjects.WatchListNamespacedCustomObjectAsync(Group, Version, ns, Plural,
                        allowWatchBookmarks: true, labelSelector: selector, resourceVersion: rv, timeoutSeconds: 300,
                        onError: e => gone |= e is KubernetesException { Status.Code: 410 }, cancellationToken: ct).ConfigureAwait(false))
                    {
                        var obj = KubeJson.ToObject(item);
                        rv = KubeJson.Str(obj["metadata"]?["resourceVersion"]) ?? rv;
                        if (type is WatchEventType.Added or WatchEventType.Modified && Parse(obj) is var info && names.Contains(info.Name))
                        {
                            state[info.Name] = info;
                            if (Check(state, names, done))
                            {
                                return state;
                            }
                        }
                    }
                }
                catch (Exception ex) when (!ct.IsCancellationRequested && KubeRetry.IsTransient(ex, retryConflicts: false))
                {
                    _logger.LogDebug("Watch of VolumeSnapshots broke ({Reason}); resuming from {ResourceVersion}", KubeRetry.Describe(ex), rv);
                    await Task.Delay(TimeSpan.FromMilliseconds(200), ct).ConfigureAwait(false);
                }

                if (gone)
                {
                    rv = null;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var waiting = names.Where(n => !state.TryGetValue(n, out var s) || !done(s)).ToList();
            throw new VolumeSnapshotException(
                $"VolumeSnapshots {string.Join(", ", waiting)} in {ns} were not ready after {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s",
                state.Values.ToList(), timedOut: true);
        }
    }

    private static bool Check(Dictionary<string, VolumeSnapshotInfo> state, IReadOnlyList<string> names, Func<VolumeSnapshotInfo, bool> done)
    {
        var failed = state.Values.Where(s => s.Error is not null && !s.ReadyToUse).ToList();
        if (failed.Count > 0)
        {
            throw new VolumeSnapshotException(
                "VolumeSnapshot failed: " + string.Join("; ", failed.Select(f => $"{f.Namespace}/{f.Name} (claim {f.ClaimName}): {f.Error}")),
                state.Values.ToList(), timedOut: false);
        }

        return names.All(n => state.TryGetValue(n, out var s) && done(s));
    }

    // -------------------------------------------------------------------------------------------------------------------
    // Retention

    /// <summary>
    /// Applies a retention policy to a target's VolumeSnapshots with the same evaluator as restic snapshots: each claim
    /// is its own history (host = target, path = claim), times are the snapshots' creation times. Snapshots that
    /// failed or are not ready are never counted and never removed here.
    /// </summary>
    /// <param name="target">The target whose snapshots (by label) are considered.</param>
    /// <param name="policy">The policy.</param>
    /// <param name="dryRun">Decide but delete nothing.</param>
    /// <param name="cancellationToken">Cancels.</param>
    /// <returns>The decisions; <see cref="RetentionResult{T}.Remove"/> lists what was (or would be) deleted.</returns>
    public async Task<RetentionResult<VolumeSnapshotInfo>> ApplyRetentionAsync(TargetRef target, RetentionPolicy policy, bool dryRun = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(policy);
        var all = await ListAsync(target.Namespace, $"{TargetKindLabel}={target.Kind},{TargetNameLabel}={target.Name}", cancellationToken).ConfigureAwait(false);
        var ready = all.Where(s => s.ReadyToUse).ToList();
        var result = RetentionEvaluator.Evaluate(ready,
            s => new RetentionSubject(s.CreationTime ?? s.ObjectCreated ?? DateTimeOffset.UnixEpoch, target.ToString(), [s.ClaimName],
                s.Labels.Where(l => !l.Key.StartsWith("kubebackup.io/", StringComparison.Ordinal)).Select(l => $"{l.Key}={l.Value}").ToList()),
            policy);
        if (!dryRun)
        {
            foreach (var s in result.Remove)
            {
                await DeleteAsync(s.Namespace, s.Name, cancellationToken).ConfigureAwait(false);
            }
        }

        return result;
    }

    /// <summary>Deletes a VolumeSnapshot (a missing one is not an error).</summary>
    public async Task DeleteAsync(string ns, string name, CancellationToken cancellationToken = default)
    {
        try
        {
            await KubeRetry.RunAsync(c => _kubernetes.CustomObjects.DeleteNamespacedCustomObjectAsync(Group, Version, ns, Plural, name, cancellationToken: c),
                _retry, _logger, "delete VolumeSnapshot", cancellationToken, retryConflicts: true).ConfigureAwait(false);
            _logger.LogInformation("Deleted VolumeSnapshot {Namespace}/{Name}", ns, name);
        }
        catch (HttpOperationException ex) when (KubeRetry.IsNotFound(ex))
        {
        }
    }

    // -------------------------------------------------------------------------------------------------------------------
    // Restore

    /// <summary>Creates a claim whose data source is a ready snapshot and (optionally) waits until it is bound.</summary>
    /// <exception cref="VolumeSnapshotException">The snapshot does not exist or is not ready.</exception>
    public async Task<V1PersistentVolumeClaim> RestoreClaimAsync(ClaimRestoreRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var snapshot = await GetAsync(request.Namespace, request.SnapshotName, cancellationToken).ConfigureAwait(false);
        if (snapshot is null || !snapshot.ReadyToUse)
        {
            throw new VolumeSnapshotException(
                $"VolumeSnapshot {request.Namespace}/{request.SnapshotName} {(snapshot is null ? "does not exist" : "is not ready" + (snapshot.Error is null ? "" : ": " + snapshot.Error))}",
                snapshot is null ? [] : [snapshot], timedOut: false);
        }

        string? storageClass = request.StorageClassName;
        if (storageClass is null)
        {
            try
            {
                var source = await _kubernetes.CoreV1.ReadNamespacedPersistentVolumeClaimAsync(snapshot.ClaimName, request.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
                storageClass = source.Spec?.StorageClassName;
            }
            catch (HttpOperationException ex) when (KubeRetry.IsNotFound(ex))
            {
            }
        }

        var claim = new V1PersistentVolumeClaim
        {
            Metadata = new V1ObjectMeta
            {
                Name = request.ClaimName,
                NamespaceProperty = request.Namespace,
                Labels = new Dictionary<string, string> { ["kubebackup.io/restored-from"] = request.SnapshotName },
            },
            Spec = new V1PersistentVolumeClaimSpec
            {
                AccessModes = [.. request.AccessModes],
                StorageClassName = storageClass,
                DataSource = new V1TypedLocalObjectReference { ApiGroup = Group, Kind = "VolumeSnapshot", Name = request.SnapshotName },
                Resources = new V1VolumeResourceRequirements
                {
                    Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new ResourceQuantity(snapshot.RestoreSize ?? "1Gi") },
                },
            },
        };
        await KubeRetry.RunAsync(c => _kubernetes.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(claim, request.Namespace, cancellationToken: c),
            _retry, _logger, "create PersistentVolumeClaim", cancellationToken).ConfigureAwait(false);
        if (request.BindTimeout is not { } bindTimeout)
        {
            return claim;
        }

        var deadline = DateTimeOffset.UtcNow + bindTimeout;
        while (true)
        {
            var current = await KubeRetry.RunAsync(c => _kubernetes.CoreV1.ReadNamespacedPersistentVolumeClaimAsync(request.ClaimName, request.Namespace, cancellationToken: c),
                _retry, _logger, "read PersistentVolumeClaim", cancellationToken).ConfigureAwait(false);
            if (current.Status?.Phase == "Bound")
            {
                return current;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new VolumeSnapshotException($"Claim {request.Namespace}/{request.ClaimName} restored from {request.SnapshotName} was not bound after {bindTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s (phase {current.Status?.Phase})", [snapshot], timedOut: true);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Points a workload's pod template volume at another claim (a strategic merge patch by volume name); the
    /// workload controller then replaces its pods.</summary>
    public async Task RepointWorkloadAsync(TargetRef workload, string volumeName, string claimName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workload);
        var patch = new JsonObject
        {
            ["spec"] = new JsonObject
            {
                ["template"] = new JsonObject
                {
                    ["spec"] = new JsonObject
                    {
                        ["volumes"] = new JsonArray(new JsonObject
                        {
                            ["name"] = volumeName,
                            ["persistentVolumeClaim"] = new JsonObject { ["claimName"] = claimName },
                        }),
                    },
                },
            },
        };
        var body = new V1Patch(patch.ToJsonString(), V1Patch.PatchType.StrategicMergePatch);
        Task Call(CancellationToken c) => workload.Kind switch
        {
            TargetKind.Deployment => _kubernetes.AppsV1.PatchNamespacedDeploymentAsync(body, workload.Name, workload.Namespace, cancellationToken: c),
            TargetKind.StatefulSet => _kubernetes.AppsV1.PatchNamespacedStatefulSetAsync(body, workload.Name, workload.Namespace, cancellationToken: c),
            TargetKind.DaemonSet => _kubernetes.AppsV1.PatchNamespacedDaemonSetAsync(body, workload.Name, workload.Namespace, cancellationToken: c),
            _ => throw new ArgumentException($"{workload.Kind} has no pod template to repoint", nameof(workload)),
        };
        await KubeRetry.RunAsync(Call, _retry, _logger, "patch workload volume", cancellationToken, retryConflicts: true).ConfigureAwait(false);
    }
}
