using k8s;
using k8s.Autorest;
using KubeBackup.Restic.Locking;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Repository;
using KubeBackup.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KubeBackup.Kubernetes.Leases;

/// <summary>
/// restic decides a lock is stale after 30 minutes, or at once if it was taken on this host by a process that is gone.
/// In Kubernetes the host of a lock is a pod, and a pod that is gone will never release its lock: this treats such a
/// lock as stale at once. A lock's pod is gone when no pod of that name exists in the namespace, when the pod has
/// finished (Succeeded/Failed), or when a pod of that name exists but was created after the lock was last refreshed (a
/// StatefulSet's <c>db-0</c> comes back with the same name but is another incarnation).
/// </summary>
public sealed class PodLockStaleness
{
    private readonly IKubernetes _kubernetes;
    private readonly string _namespace;
    private readonly Func<string, bool> _isPodHost;
    private readonly ILogger _logger;

    /// <summary>Creates the check.</summary>
    /// <param name="kubernetes">The host's client.</param>
    /// <param name="podNamespace">The namespace of the pods that write to the repository.</param>
    /// <param name="isPodHost">Which lock host names are pods of that namespace (locks of other hosts, a laptop, a
    /// VM, keep restic's rules). Default: every host name.</param>
    /// <param name="logger">Logger.</param>
    public PodLockStaleness(IKubernetes kubernetes, string podNamespace, Func<string, bool>? isPodHost = null, ILogger<PodLockStaleness>? logger = null)
    {
        _kubernetes = kubernetes ?? throw new ArgumentNullException(nameof(kubernetes));
        ArgumentException.ThrowIfNullOrEmpty(podNamespace);
        _namespace = podNamespace;
        _isPodHost = isPodHost ?? (_ => true);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Whether a lock is stale: by restic's rules, or because its pod is gone.</summary>
    public async Task<bool> IsStaleAsync(LockDocument document, string thisHost, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (RepositoryLock.IsStale(document, thisHost))
        {
            return true;
        }

        if (string.IsNullOrEmpty(document.Hostname) || !_isPodHost(document.Hostname))
        {
            return false;
        }

        try
        {
            var pod = await KubeRetry.RunAsync(c => _kubernetes.CoreV1.ReadNamespacedPodAsync(document.Hostname, _namespace, cancellationToken: c), null, _logger,
                "read lock holder pod", cancellationToken).ConfigureAwait(false);
            if (pod.Status?.Phase is "Succeeded" or "Failed")
            {
                return true;
            }

            var created = pod.Metadata.CreationTimestamp;
            return created is { } c && new DateTimeOffset(DateTime.SpecifyKind(c, DateTimeKind.Utc)) > document.Time.ToDateTimeOffset();
        }
        catch (HttpOperationException ex) when (KubeRetry.IsNotFound(ex))
        {
            return true;
        }
    }

    /// <summary>Removes the repository's stale locks (restic's and pod-gone rules) and returns how many.</summary>
    public async Task<int> RemoveStaleLocksAsync(ResticRepository repository, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        int removed = 0;
        foreach (var info in await RepositoryLock.ListAsync(repository, cancellationToken).ConfigureAwait(false))
        {
            if (info.Document is null || !await IsStaleAsync(info.Document, repository.Options.Hostname, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            try
            {
                await repository.Backend.RemoveAsync(new FileHandle(FileType.Lock, info.Id.ToString()), cancellationToken).ConfigureAwait(false);
                removed++;
                _logger.LogInformation("Removed lock {Lock} of {Host} (PID {Pid}): its pod is gone", info.Id.ToShortString(), info.Document.Hostname, info.Document.Pid);
            }
            catch (StorageFileNotFoundException)
            {
            }
        }

        return removed;
    }
}
