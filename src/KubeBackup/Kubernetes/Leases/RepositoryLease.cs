using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KubeBackup.Kubernetes.Leases;

/// <summary>How repository Leases are held.</summary>
public sealed class RepositoryLeaseOptions
{
    /// <summary>The namespace the Leases live in.</summary>
    public required string Namespace { get; set; }

    /// <summary>Who holds the Lease: unique per process. Default: the host name (the pod name in a pod) plus a random suffix.</summary>
    public string HolderIdentity { get; set; } = $"{Environment.MachineName}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";

    /// <summary>How long a Lease stays valid without renewal. Default 60 s.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the holder renews. Default 20 s (a third of the duration, so two renewals may fail).</summary>
    public TimeSpan RenewInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Pause between attempts while waiting for a held Lease. Default 2 s.</summary>
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The clock (tests use a fake one).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>API retries.</summary>
    public KubeRetryOptions Retry { get; set; } = new();
}

/// <summary>The Lease is held by someone else.</summary>
public sealed class RepositoryLeaseHeldException : KubeBackupException
{
    /// <summary>Creates the exception.</summary>
    public RepositoryLeaseHeldException(string leaseName, string holder, DateTimeOffset? expires)
        : base($"Maintenance Lease {leaseName} is held by {holder}" + (expires is { } e ? $" until {e.ToString("O", CultureInfo.InvariantCulture)} unless renewed" : ""))
    {
        LeaseName = leaseName;
        Holder = holder;
        Expires = expires;
    }

    /// <summary>The Lease.</summary>
    public string LeaseName { get; }

    /// <summary>Its holder.</summary>
    public string Holder { get; }

    /// <summary>When it expires unless renewed.</summary>
    public DateTimeOffset? Expires { get; }
}

/// <summary>
/// A coordination.k8s.io/v1 Lease per repository, so that two operators or jobs never run exclusive maintenance (prune,
/// check, key changes) on one repository at the same time, whichever cluster or node they run on. Acquisition is a
/// compare-and-swap on the Lease's resourceVersion: of two contenders exactly one update succeeds. The holder renews in
/// the background; if a renewal shows the Lease was lost (expired and taken), <see cref="RepositoryLease.Lost"/> fires so
/// the maintenance stops. This complements restic's lock files (which other restic clients honour) rather than
/// replacing them.
/// </summary>
public sealed class RepositoryLeaseManager
{
    private readonly IKubernetes _kubernetes;
    private readonly RepositoryLeaseOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates the manager.</summary>
    public RepositoryLeaseManager(IKubernetes kubernetes, RepositoryLeaseOptions options, ILogger<RepositoryLeaseManager>? logger = null)
    {
        _kubernetes = kubernetes ?? throw new ArgumentNullException(nameof(kubernetes));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        ArgumentException.ThrowIfNullOrEmpty(options.Namespace);
        if (options.RenewInterval >= options.LeaseDuration)
        {
            throw new ArgumentException("The renew interval must be shorter than the lease duration.", nameof(options));
        }

        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The Lease name of a repository: <c>kubebackup-repo-</c> and a hash of its identity (ID or location), so
    /// any string is safe and every client derives the same name.</summary>
    public static string LeaseNameFor(string repository)
    {
        ArgumentException.ThrowIfNullOrEmpty(repository);
        return "kubebackup-repo-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(repository)))[..16];
    }

    /// <summary>Takes the repository's Lease if it is free (or expired, or already ours); null if someone else holds it.</summary>
    public async Task<RepositoryLease?> TryAcquireAsync(string repository, CancellationToken cancellationToken = default)
    {
        string name = LeaseNameFor(repository);
        var (lease, _) = await TryTakeAsync(name, repository, cancellationToken).ConfigureAwait(false);
        return lease;
    }

    /// <summary>Takes the repository's Lease, waiting up to <paramref name="wait"/> for its holder to release it or let it expire.</summary>
    /// <exception cref="RepositoryLeaseHeldException">Still held by someone else when the wait ended.</exception>
    public async Task<RepositoryLease> AcquireAsync(string repository, TimeSpan wait = default, CancellationToken cancellationToken = default)
    {
        string name = LeaseNameFor(repository);
        var deadline = _options.TimeProvider.GetUtcNow() + wait;
        while (true)
        {
            var (lease, current) = await TryTakeAsync(name, repository, cancellationToken).ConfigureAwait(false);
            if (lease is not null)
            {
                return lease;
            }

            if (_options.TimeProvider.GetUtcNow() + _options.RetryInterval > deadline)
            {
                throw new RepositoryLeaseHeldException(name, current?.Spec?.HolderIdentity ?? "?", ExpiryOf(current));
            }

            await Task.Delay(_options.RetryInterval, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    private DateTimeOffset? ExpiryOf(V1Lease? lease)
    {
        var renew = lease?.Spec?.RenewTime ?? lease?.Spec?.AcquireTime;
        if (renew is null)
        {
            return null;
        }

        int seconds = lease!.Spec.LeaseDurationSeconds ?? (int)_options.LeaseDuration.TotalSeconds;
        return new DateTimeOffset(DateTime.SpecifyKind(renew.Value, DateTimeKind.Utc)) + TimeSpan.FromSeconds(seconds);
    }

    private bool IsFree(V1Lease lease) =>
        string.IsNullOrEmpty(lease.Spec?.HolderIdentity) || lease.Spec.HolderIdentity == _options.HolderIdentity
        || ExpiryOf(lease) is not { } expires || expires <= _options.TimeProvider.GetUtcNow();

    private async Task<(RepositoryLease? Lease, V1Lease? Current)> TryTakeAsync(string name, string repository, CancellationToken ct)
    {
        var now = _options.TimeProvider.GetUtcNow().UtcDateTime;
        V1Lease? current;
        try
        {
            current = await KubeRetry.RunAsync(c => _kubernetes.CoordinationV1.ReadNamespacedLeaseAsync(name, _options.Namespace, cancellationToken: c),
                _options.Retry, _logger, "read Lease", ct).ConfigureAwait(false);
        }
        catch (HttpOperationException ex) when (KubeRetry.IsNotFound(ex))
        {
            current = null;
        }

        if (current is null)
        {
            var lease = new V1Lease
            {
                Metadata = new V1ObjectMeta
                {
                    Name = name,
                    NamespaceProperty = _options.Namespace,
                    Labels = new Dictionary<string, string> { ["app.kubernetes.io/managed-by"] = "kubebackup" },
                    Annotations = new Dictionary<string, string> { ["kubebackup.io/repository-hash"] = name["kubebackup-repo-".Length..] },
                },
                Spec = NewSpec(now, transitions: 0),
            };
            try
            {
                var created = await KubeRetry.RunAsync(c => _kubernetes.CoordinationV1.CreateNamespacedLeaseAsync(lease, _options.Namespace, cancellationToken: c),
                    _options.Retry, _logger, "create Lease", ct).ConfigureAwait(false);
                return (Hold(created, repository), created);
            }
            catch (HttpOperationException ex) when (KubeRetry.IsAlreadyExists(ex))
            {
                // Another contender created it first; it is theirs.
                return (null, null);
            }
        }

        if (!IsFree(current))
        {
            return (null, current);
        }

        bool takeover = current.Spec?.HolderIdentity != _options.HolderIdentity;
        current.Spec = NewSpec(now, (current.Spec?.LeaseTransitions ?? 0) + (takeover ? 1 : 0), takeover ? now : current.Spec?.AcquireTime ?? now);
        try
        {
            // No retry of conflicts here: a 409 means another contender's update won, and the Lease is theirs.
            var updated = await KubeRetry.RunAsync(c => _kubernetes.CoordinationV1.ReplaceNamespacedLeaseAsync(current, name, _options.Namespace, cancellationToken: c),
                _options.Retry, _logger, "take Lease", ct).ConfigureAwait(false);
            return (Hold(updated, repository), updated);
        }
        catch (HttpOperationException ex) when (KubeRetry.IsConflict(ex))
        {
            return (null, current);
        }
    }

    private V1LeaseSpec NewSpec(DateTime now, int transitions, DateTime? acquired = null) => new()
    {
        HolderIdentity = _options.HolderIdentity,
        LeaseDurationSeconds = (int)Math.Ceiling(_options.LeaseDuration.TotalSeconds),
        AcquireTime = acquired ?? now,
        RenewTime = now,
        LeaseTransitions = transitions,
    };

    private RepositoryLease Hold(V1Lease lease, string repository)
    {
        _logger.LogInformation("Took maintenance Lease {Lease} for {Holder}", lease.Metadata.Name, _options.HolderIdentity);
        return new RepositoryLease(this, lease, repository);
    }

    internal RepositoryLeaseOptions Options => _options;

    /// <summary>Renews: a compare-and-swap on the last seen version. Returns the new Lease, or null if it is no longer ours.</summary>
    internal async Task<V1Lease?> RenewAsync(V1Lease lease, CancellationToken ct)
    {
        var now = _options.TimeProvider.GetUtcNow().UtcDateTime;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            lease.Spec.RenewTime = now;
            try
            {
                return await KubeRetry.RunAsync(c => _kubernetes.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, lease.Metadata.Name, _options.Namespace, cancellationToken: c),
                    _options.Retry, _logger, "renew Lease", ct).ConfigureAwait(false);
            }
            catch (HttpOperationException ex) when (KubeRetry.IsConflict(ex))
            {
                // Someone wrote the Lease: still ours (a retried write of our own) or taken?
                var fresh = await KubeRetry.RunAsync(c => _kubernetes.CoordinationV1.ReadNamespacedLeaseAsync(lease.Metadata.Name, _options.Namespace, cancellationToken: c),
                    _options.Retry, _logger, "read Lease", ct).ConfigureAwait(false);
                if (fresh.Spec?.HolderIdentity != _options.HolderIdentity)
                {
                    return null;
                }

                lease = fresh;
            }
            catch (HttpOperationException ex) when (KubeRetry.IsNotFound(ex))
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>Releases: clears the holder (a compare-and-swap; a Lease already taken by another is left alone).</summary>
    internal async Task ReleaseAsync(V1Lease lease)
    {
        lease.Spec.HolderIdentity = null;
        lease.Spec.RenewTime = null;
        try
        {
            await KubeRetry.RunAsync(c => _kubernetes.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, lease.Metadata.Name, _options.Namespace, cancellationToken: c),
                _options.Retry, _logger, "release Lease", CancellationToken.None).ConfigureAwait(false);
            _logger.LogInformation("Released maintenance Lease {Lease}", lease.Metadata.Name);
        }
        catch (HttpOperationException ex) when (KubeRetry.IsConflict(ex) || KubeRetry.IsNotFound(ex))
        {
        }
    }
}

/// <summary>A held repository Lease, renewed in the background until disposed (which releases it).</summary>
public sealed class RepositoryLease : IAsyncDisposable
{
    private readonly RepositoryLeaseManager _manager;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _lost = new();
    private readonly Task _renewer;
    private readonly object _gate = new();
    private V1Lease _lease;
    private int _disposed;

    internal RepositoryLease(RepositoryLeaseManager manager, V1Lease lease, string repository)
    {
        _manager = manager;
        _lease = lease;
        Repository = repository;
        _renewer = Task.Run(RenewLoopAsync);
    }

    /// <summary>The repository the Lease is for.</summary>
    public string Repository { get; }

    /// <summary>The Lease's name.</summary>
    public string Name => _lease.Metadata.Name;

    /// <summary>The holder identity.</summary>
    public string Holder => _manager.Options.HolderIdentity;

    /// <summary>Fires when the Lease is lost (it could not be renewed before it expired, or someone else has it): stop
    /// the maintenance at once.</summary>
    public CancellationToken Lost => _lost.Token;

    /// <summary>Whether the Lease was lost.</summary>
    public bool IsLost => _lost.IsCancellationRequested;

    /// <summary>The last renewal time the API server accepted.</summary>
    public DateTime? RenewTime
    {
        get
        {
            lock (_gate)
            {
                return _lease.Spec.RenewTime;
            }
        }
    }

    /// <summary>Renews now.</summary>
    /// <returns>Whether the Lease is still held.</returns>
    public async Task<bool> RenewAsync(CancellationToken cancellationToken = default)
    {
        V1Lease current;
        lock (_gate)
        {
            current = _lease;
        }

        var renewed = await _manager.RenewAsync(current, cancellationToken).ConfigureAwait(false);
        if (renewed is null)
        {
            await _lost.CancelAsync().ConfigureAwait(false);
            return false;
        }

        lock (_gate)
        {
            _lease = renewed;
        }

        return true;
    }

    private async Task RenewLoopAsync()
    {
        var options = _manager.Options;
        var lastRenewal = options.TimeProvider.GetUtcNow();
        // A fixed cadence from the acquisition: if the clock has already passed the next due time (a slow API call, a
        // paused process), the renewal happens at once instead of a whole interval later.
        var due = lastRenewal + options.RenewInterval;
        while (!_stop.IsCancellationRequested && !IsLost)
        {
            try
            {
                var wait = due - options.TimeProvider.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, options.TimeProvider, _stop.Token).ConfigureAwait(false);
                }

                due += options.RenewInterval;
                if (await RenewAsync(_stop.Token).ConfigureAwait(false))
                {
                    lastRenewal = options.TimeProvider.GetUtcNow();
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or IOException)
            {
                // Unreachable API server: the Lease is ours only until it would expire.
                if (options.TimeProvider.GetUtcNow() - lastRenewal >= options.LeaseDuration)
                {
                    await _lost.CancelAsync().ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>Stops renewing without releasing, as a crashed holder would; the Lease then expires. For tests and
    /// for holders that must not touch the API any more.</summary>
    public async Task AbandonAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _renewer.ConfigureAwait(false);
    }

    /// <summary>Stops renewing and releases the Lease (unless it was lost).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _renewer.ConfigureAwait(false);
        if (!IsLost)
        {
            V1Lease current;
            lock (_gate)
            {
                current = _lease;
            }

            await _manager.ReleaseAsync(current).ConfigureAwait(false);
        }

        _stop.Dispose();
    }
}
