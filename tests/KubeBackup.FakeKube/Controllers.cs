using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace KubeBackup.FakeKube;

/// <summary>What the snapshot controller does with one VolumeSnapshot.</summary>
public sealed record SnapshotOutcome
{
    /// <summary>How long the snapshot takes before it is ready (or fails).</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>If set, the snapshot fails with this message in <c>status.error</c>.</summary>
    public string? Error { get; init; }

    /// <summary>If true, the snapshot never becomes ready and never fails.</summary>
    public bool NeverReady { get; init; }

    /// <summary>Ready at once.</summary>
    public static SnapshotOutcome Ready { get; } = new();
}

/// <summary>
/// The simulated controllers: the kubelet's pod status, a workload controller (Deployment, StatefulSet, DaemonSet →
/// pods from the template, observedGeneration and ready counts), a PVC binder (one folder per volume; a PVC whose
/// dataSource is a VolumeSnapshot starts with the snapshot's data), and the CSI snapshot controller (VolumeSnapshot →
/// VolumeSnapshotContent with a copy of the volume's data, readyToUse, restoreSize, configurable delay and failure).
/// Pods honour two annotations from their template: <c>fake.kubebackup.io/phase</c> (default Running) and
/// <c>fake.kubebackup.io/ready</c> (default true).
/// </summary>
public sealed class Controllers
{
    /// <summary>Annotation that sets a pod's phase.</summary>
    public const string PhaseAnnotation = "fake.kubebackup.io/phase";

    /// <summary>Annotation that makes a running pod not ready ("false").</summary>
    public const string ReadyAnnotation = "fake.kubebackup.io/ready";

    private readonly FakeKubeServer _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _background = [];
    private Task? _loop;
    private int _podIp = 10;

    internal Controllers(FakeKubeServer server) => _server = server;

    /// <summary>Decides the fate of each new VolumeSnapshot. Default: ready at once.</summary>
    public Func<JsonObject, SnapshotOutcome> SnapshotBehavior { get; set; } = _ => SnapshotOutcome.Ready;

    /// <summary>The CSI driver name reported in VolumeSnapshotContents.</summary>
    public string CsiDriver { get; set; } = "fake.csi.kubebackup.io";

    private ObjectStore Store => _server.Store;

    private ResourceType T(string group, string plural) => _server.Registry.All.First(t => t.Group == group && t.Plural == plural);

    internal void Start()
    {
        var sub = Store.Subscribe(_ => true, Store.ResourceVersion);
        _loop = Task.Run(async () =>
        {
            using (sub)
            {
                try
                {
                    await foreach (var e in sub.Events.ReadAllAsync(_stop.Token).ConfigureAwait(false))
                    {
                        try
                        {
                            Handle(e);
                        }
                        catch (ApiException)
                        {
                            // Lost a race with a client (object deleted meanwhile): the next event sets it right.
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
    }

    internal async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        Task[] pending;
        lock (_background)
        {
            pending = [.. _background];
        }

        await Task.WhenAll(pending.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);
    }

    private void Later(TimeSpan delay, Action action)
    {
        var task = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(delay, _stop.Token).ConfigureAwait(false);
                action();
            }
            catch (OperationCanceledException)
            {
            }
            catch (ApiException)
            {
            }
        });
        lock (_background)
        {
            _background.RemoveAll(t => t.IsCompleted);
            _background.Add(task);
        }
    }

    private void Handle(StoreEvent e)
    {
        var t = e.ResourceType;
        switch (t.Group, t.Plural)
        {
            case ("", "pods"):
                if (e.Type != "DELETED" && e.Object["status"]?["phase"] is null)
                {
                    StartPod(e.Object);
                }

                ReconcileOwners(e.Object);
                break;
            case ("apps", "deployments" or "statefulsets" or "daemonsets") when e.Type != "DELETED":
                Reconcile(t, e.Namespace!, e.Name);
                break;
            case ("", "persistentvolumeclaims") when e.Type != "DELETED":
                BindClaim(e.Object);
                break;
            case ("snapshot.storage.k8s.io", "volumesnapshots") when e.Type == "ADDED":
                TakeSnapshot(e.Object);
                break;
            case ("snapshot.storage.k8s.io", "volumesnapshots") when e.Type == "DELETED":
                DeleteSnapshotContent(e.Object);
                break;
            case ("snapshot.storage.k8s.io", "volumesnapshots") when e.Type == "MODIFIED" && IsReady(e.Object):
                // Claims waiting for this snapshot can be bound now.
                foreach (var pvc in Store.List(T("", "persistentvolumeclaims"), e.Namespace).Items)
                {
                    BindClaim(pvc);
                }

                break;
        }
    }

    private static bool IsReady(JsonObject o) => (bool?)o["status"]?["readyToUse"] == true;

    // -------------------------------------------------------------------------------------------------------------------
    // Kubelet: pod status

    private void StartPod(JsonObject seen)
    {
        string ns = (string?)seen["metadata"]!["namespace"]!;
        string name = (string?)seen["metadata"]!["name"]!;
        var pod = Store.Get(T("", "pods"), ns, name);
        if (pod is null || pod["status"]?["phase"] is not null)
        {
            return;
        }

        var annotations = pod["metadata"]?["annotations"] as JsonObject;
        string phase = (string?)annotations?[PhaseAnnotation] ?? "Running";
        bool ready = phase == "Running" && (string?)annotations?[ReadyAnnotation] != "false";
        if ((string?)pod["spec"]?["nodeName"] is null)
        {
            Store.Update(T("", "pods"), ns, name, p =>
            {
                p["spec"]!["nodeName"] = _server.Options.Nodes.FirstOrDefault() ?? "node-a";
                return true;
            });
        }

        string now = Store.Timestamp();
        int ip = Interlocked.Increment(ref _podIp);
        Store.Update(T("", "pods"), ns, name, p =>
        {
            var statuses = new JsonArray();
            foreach (var c in p["spec"]?["containers"] as JsonArray ?? [])
            {
                statuses.Add(new JsonObject
                {
                    ["name"] = (string?)c?["name"], ["image"] = (string?)c?["image"] ?? "", ["imageID"] = "", ["ready"] = ready, ["restartCount"] = 0,
                    ["started"] = phase == "Running",
                    ["state"] = phase == "Running" ? new JsonObject { ["running"] = new JsonObject { ["startedAt"] = now } } : new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "ContainerCreating" } },
                });
            }

            p["status"] = new JsonObject
            {
                ["phase"] = phase,
                ["conditions"] = new JsonArray(
                    new JsonObject { ["type"] = "PodScheduled", ["status"] = "True", ["lastTransitionTime"] = now },
                    new JsonObject { ["type"] = "Ready", ["status"] = ready ? "True" : "False", ["lastTransitionTime"] = now }),
                ["containerStatuses"] = statuses,
                ["podIP"] = $"10.244.0.{ip % 250}",
                ["hostIP"] = "192.0.2.1",
                ["startTime"] = now,
            };
            return true;
        }, statusOnly: true);
    }

    // -------------------------------------------------------------------------------------------------------------------
    // Workloads

    private void ReconcileOwners(JsonObject pod)
    {
        foreach (var r in pod["metadata"]?["ownerReferences"] as JsonArray ?? [])
        {
            string? kind = (string?)r?["kind"];
            var type = kind switch
            {
                "Deployment" => T("apps", "deployments"),
                "StatefulSet" => T("apps", "statefulsets"),
                "DaemonSet" => T("apps", "daemonsets"),
                _ => null,
            };
            if (type is not null)
            {
                Reconcile(type, (string?)pod["metadata"]!["namespace"]!, (string?)r!["name"] ?? "");
            }
        }
    }

    private void Reconcile(ResourceType type, string ns, string name)
    {
        var workload = Store.Get(type, ns, name);
        if (workload is null)
        {
            return;
        }

        var template = workload["spec"]?["template"] as JsonObject ?? new JsonObject();
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(template.ToJsonString())))[..10];
        string uid = (string?)workload["metadata"]!["uid"]!;
        var podType = T("", "pods");
        var owned = Store.List(podType, ns).Items
            .Where(p => (p["metadata"]?["ownerReferences"] as JsonArray ?? []).Any(r => (string?)r?["uid"] == uid)).ToList();
        string hashLabel = type.Plural == "statefulsets" ? "controller-revision-hash" : "pod-template-hash";

        // Pods from an older template are replaced: the rollout a patch of the template triggers.
        foreach (var p in owned.Where(p => (string?)p["metadata"]?["labels"]?[hashLabel] != hash).ToList())
        {
            Store.Delete(podType, ns, (string?)p["metadata"]!["name"]!);
            owned.Remove(p);
        }

        int replicas = (int?)workload["spec"]?["replicas"] ?? 1;
        switch (type.Plural)
        {
            case "deployments":
                for (int i = owned.Count; i < replicas; i++)
                {
                    CreatePod(workload, type, template, hash, hashLabel, null, $"{name}-{hash}-", null, []);
                }

                foreach (var extra in owned.Skip(replicas))
                {
                    Store.Delete(podType, ns, (string?)extra["metadata"]!["name"]!);
                }

                break;
            case "statefulsets":
                for (int i = 0; i < replicas; i++)
                {
                    string podName = $"{name}-{i}";
                    if (owned.Any(p => (string?)p["metadata"]!["name"] == podName))
                    {
                        continue;
                    }

                    var claims = new List<(string Volume, string Claim)>();
                    foreach (var vct in workload["spec"]?["volumeClaimTemplates"] as JsonArray ?? [])
                    {
                        string vctName = (string?)vct?["metadata"]?["name"] ?? "data";
                        string claim = $"{vctName}-{podName}";
                        if (Store.Get(T("", "persistentvolumeclaims"), ns, claim) is null)
                        {
                            var pvc = (JsonObject)vct!.DeepClone();
                            pvc["metadata"] = new JsonObject
                            {
                                ["name"] = claim,
                                ["labels"] = template["metadata"]?["labels"]?.DeepClone() ?? new JsonObject(),
                            };
                            pvc.Remove("status");
                            Store.Create(T("", "persistentvolumeclaims"), ns, pvc);
                        }

                        claims.Add((vctName, claim));
                    }

                    CreatePod(workload, type, template, hash, hashLabel, podName, null, null, claims);
                }

                foreach (var extra in owned.Where(p => !Enumerable.Range(0, replicas).Any(i => (string?)p["metadata"]!["name"] == $"{name}-{i}")))
                {
                    Store.Delete(podType, ns, (string?)extra["metadata"]!["name"]!);
                }

                break;
            case "daemonsets":
                foreach (var node in _server.Options.Nodes)
                {
                    if (!owned.Any(p => (string?)p["spec"]?["nodeName"] == node))
                    {
                        CreatePod(workload, type, template, hash, hashLabel, null, $"{name}-", node, []);
                    }
                }

                break;
        }

        UpdateWorkloadStatus(type, ns, name, uid);
    }

    private void CreatePod(JsonObject workload, ResourceType type, JsonObject template, string hash, string hashLabel, string? name, string? generateName,
        string? node, List<(string Volume, string Claim)> claims)
    {
        string ns = (string?)workload["metadata"]!["namespace"]!;
        var labels = template["metadata"]?["labels"]?.DeepClone() as JsonObject ?? new JsonObject();
        labels[hashLabel] = hash;
        if (name is not null)
        {
            labels["statefulset.kubernetes.io/pod-name"] = name;
        }

        var meta = new JsonObject
        {
            ["labels"] = labels,
            ["annotations"] = template["metadata"]?["annotations"]?.DeepClone() ?? new JsonObject(),
            ["ownerReferences"] = new JsonArray(new JsonObject
            {
                ["apiVersion"] = type.ApiVersion, ["kind"] = type.Kind, ["name"] = (string?)workload["metadata"]!["name"],
                ["uid"] = (string?)workload["metadata"]!["uid"], ["controller"] = true, ["blockOwnerDeletion"] = true,
            }),
        };
        if (name is not null)
        {
            meta["name"] = name;
        }
        else
        {
            meta["generateName"] = generateName;
        }

        var spec = template["spec"]?.DeepClone() as JsonObject ?? new JsonObject();
        if (node is not null)
        {
            spec["nodeName"] = node;
        }

        if (claims.Count > 0)
        {
            var volumes = spec["volumes"] as JsonArray ?? new JsonArray();
            spec["volumes"] = volumes;
            foreach (var (volume, claim) in claims)
            {
                if (!volumes.Any(v => (string?)v?["name"] == volume))
                {
                    volumes.Add(new JsonObject { ["name"] = volume, ["persistentVolumeClaim"] = new JsonObject { ["claimName"] = claim } });
                }
            }
        }

        Store.Create(T("", "pods"), ns, new JsonObject { ["metadata"] = meta, ["spec"] = spec });
    }

    private void UpdateWorkloadStatus(ResourceType type, string ns, string name, string uid)
    {
        var pods = Store.List(T("", "pods"), ns).Items
            .Where(p => (p["metadata"]?["ownerReferences"] as JsonArray ?? []).Any(r => (string?)r?["uid"] == uid)).ToList();
        int ready = pods.Count(p => (p["status"]?["conditions"] as JsonArray ?? []).Any(c => (string?)c?["type"] == "Ready" && (string?)c?["status"] == "True"));
        Store.Update(type, ns, name, w =>
        {
            var before = w["status"]?.DeepClone();
            long generation = (long?)w["metadata"]?["generation"] ?? 1;
            w["status"] = type.Plural == "daemonsets"
                ? new JsonObject
                {
                    ["observedGeneration"] = generation, ["desiredNumberScheduled"] = _server.Options.Nodes.Count, ["currentNumberScheduled"] = pods.Count,
                    ["updatedNumberScheduled"] = pods.Count, ["numberReady"] = ready, ["numberAvailable"] = ready, ["numberMisscheduled"] = 0,
                }
                : new JsonObject
                {
                    ["observedGeneration"] = generation, ["replicas"] = pods.Count, ["updatedReplicas"] = pods.Count,
                    ["readyReplicas"] = ready, ["availableReplicas"] = ready, ["currentReplicas"] = pods.Count,
                };
            return !JsonNode.DeepEquals(before, w["status"]);
        }, statusOnly: true);
    }

    // -------------------------------------------------------------------------------------------------------------------
    // PVC binder

    private void BindClaim(JsonObject seen)
    {
        // Events carry the object as it was; decide on what it is now, or a claim is bound (and filled) twice.
        var pvc = Store.Get(T("", "persistentvolumeclaims"), (string?)seen["metadata"]!["namespace"], (string?)seen["metadata"]!["name"]!);
        if (pvc is null || (string?)pvc["status"]?["phase"] == "Bound")
        {
            return;
        }

        string ns = (string?)pvc["metadata"]!["namespace"]!;
        string name = (string?)pvc["metadata"]!["name"]!;
        string? sourceFolder = null;
        if (pvc["spec"]?["dataSource"] is JsonObject ds && (string?)ds["kind"] == "VolumeSnapshot")
        {
            var snap = Store.Get(T("snapshot.storage.k8s.io", "volumesnapshots"), ns, (string?)ds["name"] ?? "");
            if ((bool?)snap?["status"]?["readyToUse"] != true)
            {
                // Stays Pending until the snapshot is ready (re-checked when it changes).
                if ((string?)pvc["status"]?["phase"] != "Pending")
                {
                    Store.Update(T("", "persistentvolumeclaims"), ns, name, p =>
                    {
                        p["status"] = new JsonObject { ["phase"] = "Pending" };
                        return true;
                    }, statusOnly: true);
                }

                return;
            }

            sourceFolder = Path.Combine(_server.DataDirectory, "snapshots", (string?)snap!["status"]!["boundVolumeSnapshotContentName"] ?? "");
        }

        string pvName = "pvc-" + (string?)pvc["metadata"]!["uid"];
        string size = (string?)pvc["spec"]?["resources"]?["requests"]?["storage"] ?? "1Gi";
        var accessModes = pvc["spec"]?["accessModes"]?.DeepClone() ?? new JsonArray("ReadWriteOnce");
        var folder = _server.Kubelet.VolumeFolder(pvName);
        if (sourceFolder is not null && Directory.Exists(sourceFolder))
        {
            CopyTree(sourceFolder, folder);
        }

        if (Store.Get(T("", "persistentvolumes"), null, pvName) is null)
        {
            Store.Create(T("", "persistentvolumes"), null, new JsonObject
            {
                ["metadata"] = new JsonObject { ["name"] = pvName },
                ["spec"] = new JsonObject
                {
                    ["capacity"] = new JsonObject { ["storage"] = size },
                    ["accessModes"] = accessModes.DeepClone(),
                    ["persistentVolumeReclaimPolicy"] = "Delete",
                    ["storageClassName"] = (string?)pvc["spec"]?["storageClassName"] ?? "standard",
                    ["claimRef"] = new JsonObject { ["kind"] = "PersistentVolumeClaim", ["namespace"] = ns, ["name"] = name, ["uid"] = (string?)pvc["metadata"]!["uid"] },
                    ["csi"] = new JsonObject { ["driver"] = CsiDriver, ["volumeHandle"] = pvName },
                },
            });
            Store.Update(T("", "persistentvolumes"), null, pvName, p =>
            {
                p["status"] = new JsonObject { ["phase"] = "Bound" };
                return true;
            }, statusOnly: true);
        }

        Store.Update(T("", "persistentvolumeclaims"), ns, name, p =>
        {
            p["spec"]!["volumeName"] = pvName;
            return true;
        });
        Store.Update(T("", "persistentvolumeclaims"), ns, name, p =>
        {
            p["status"] = new JsonObject { ["phase"] = "Bound", ["accessModes"] = accessModes.DeepClone(), ["capacity"] = new JsonObject { ["storage"] = size } };
            return true;
        }, statusOnly: true);
    }

    // -------------------------------------------------------------------------------------------------------------------
    // CSI snapshot controller

    private void TakeSnapshot(JsonObject snapshot)
    {
        string ns = (string?)snapshot["metadata"]!["namespace"]!;
        string name = (string?)snapshot["metadata"]!["name"]!;
        var snapType = T("snapshot.storage.k8s.io", "volumesnapshots");
        Store.Update(snapType, ns, name, s =>
        {
            s["status"] = new JsonObject { ["readyToUse"] = false };
            return true;
        }, statusOnly: true);
        var outcome = SnapshotBehavior(snapshot);
        Later(outcome.Delay, () =>
        {
            if (outcome.NeverReady)
            {
                return;
            }

            string? error = outcome.Error;
            string? className = (string?)snapshot["spec"]?["volumeSnapshotClassName"];
            if (error is null && className is not null && Store.Get(T("snapshot.storage.k8s.io", "volumesnapshotclasses"), null, className) is null)
            {
                error = $"Failed to get snapshot class with error volumesnapshotclass.snapshot.storage.k8s.io \"{className}\" not found";
            }

            string claimName = (string?)snapshot["spec"]?["source"]?["persistentVolumeClaimName"] ?? "";
            var pvc = Store.Get(T("", "persistentvolumeclaims"), ns, claimName);
            if (error is null && (pvc is null || (string?)pvc["spec"]?["volumeName"] is not { Length: > 0 }))
            {
                error = $"Failed to create snapshot: error getting handle for PV from PVC \"{claimName}\": the claim is missing or not bound";
            }

            if (error is not null)
            {
                Store.Update(snapType, ns, name, s =>
                {
                    s["status"] = new JsonObject
                    {
                        ["readyToUse"] = false,
                        ["error"] = new JsonObject { ["message"] = error, ["time"] = Store.Timestamp() },
                    };
                    return true;
                }, statusOnly: true);
                return;
            }

            string pv = (string?)pvc!["spec"]!["volumeName"]!;
            string uid = (string?)snapshot["metadata"]!["uid"]!;
            string contentName = "snapcontent-" + uid;
            CopyTree(_server.Kubelet.VolumeFolder(pv), Path.Combine(_server.DataDirectory, "snapshots", contentName));
            string size = (string?)pvc["status"]?["capacity"]?["storage"] ?? (string?)pvc["spec"]?["resources"]?["requests"]?["storage"] ?? "1Gi";
            long creationNs = _server.Store.Time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000_000;
            var contentType = T("snapshot.storage.k8s.io", "volumesnapshotcontents");
            if (Store.Get(contentType, null, contentName) is null)
            {
                Store.Create(contentType, null, new JsonObject
                {
                    ["metadata"] = new JsonObject { ["name"] = contentName },
                    ["spec"] = new JsonObject
                    {
                        ["deletionPolicy"] = "Delete",
                        ["driver"] = CsiDriver,
                        ["source"] = new JsonObject { ["volumeHandle"] = pv },
                        ["volumeSnapshotClassName"] = className,
                        ["volumeSnapshotRef"] = new JsonObject
                        {
                            ["apiVersion"] = "snapshot.storage.k8s.io/v1", ["kind"] = "VolumeSnapshot", ["namespace"] = ns, ["name"] = name, ["uid"] = uid,
                        },
                    },
                });
            }

            Store.Update(contentType, null, contentName, c =>
            {
                c["status"] = new JsonObject
                {
                    ["creationTime"] = creationNs, ["readyToUse"] = true, ["restoreSize"] = ParseQuantity(size), ["snapshotHandle"] = "snap-" + uid,
                };
                return true;
            }, statusOnly: true);
            Store.Update(snapType, ns, name, s =>
            {
                s["status"] = new JsonObject
                {
                    ["boundVolumeSnapshotContentName"] = contentName, ["creationTime"] = Store.Timestamp(), ["readyToUse"] = true, ["restoreSize"] = size,
                };
                return true;
            }, statusOnly: true);
        });
    }

    private void DeleteSnapshotContent(JsonObject snapshot)
    {
        string? content = (string?)snapshot["status"]?["boundVolumeSnapshotContentName"];
        if (content is null)
        {
            return;
        }

        var contentType = T("snapshot.storage.k8s.io", "volumesnapshotcontents");
        if (Store.Get(contentType, null, content) is { } c && (string?)c["spec"]?["deletionPolicy"] != "Retain")
        {
            Store.Delete(contentType, null, content);
            var folder = Path.Combine(_server.DataDirectory, "snapshots", content);
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    private static long ParseQuantity(string q)
    {
        string[] suffixes = ["Ki", "Mi", "Gi", "Ti"];
        for (int i = 0; i < suffixes.Length; i++)
        {
            if (q.EndsWith(suffixes[i], StringComparison.Ordinal))
            {
                return long.Parse(q[..^2], CultureInfo.InvariantCulture) << (10 * (i + 1));
            }
        }

        return long.TryParse(q, CultureInfo.InvariantCulture, out long n) ? n : 0;
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }

        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            File.Copy(file, target, overwrite: true);
            File.SetLastWriteTimeUtc(target, File.GetLastWriteTimeUtc(file));
        }
    }
}
