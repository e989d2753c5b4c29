using System.Buffers;
using KubeBackup.Restic.Json;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Repository;
using KubeBackup.Storage;
using Microsoft.Extensions.Logging;

namespace KubeBackup.Restic.Locking;

/// <summary>A lock file found in a repository, with whether it is stale.</summary>
/// <param name="Id">The lock file's ID.</param>
/// <param name="Document">Its content; null if it could not be read.</param>
/// <param name="IsStale">Whether the lock is stale: not refreshed for 30 minutes, or held by a process of this host that is gone.</param>
public sealed record LockInfo(ResticId Id, LockDocument? Document, bool IsStale);

/// <summary>
/// A lock held on a repository, restic-style: a lock file under <c>locks/</c>, shared (backup, restore) or exclusive
/// (prune, forget). While held it is refreshed every 5 minutes by writing a new lock file and deleting the old one, so
/// that other processes never mistake a long backup for a dead one. Disposing releases it. While a repository object
/// holds an exclusive lock, its own operations that need one (forget, prune) run under it rather than conflict with it,
/// so a caller can hold one lock across several of them.
/// </summary>
public sealed class RepositoryLock : IAsyncDisposable
{
    /// <summary>A lock not refreshed for this long is stale.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(30);

    /// <summary>How often a held lock is refreshed.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(5);

    private readonly ResticRepository _repository;
    private readonly LockDocument _document;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _refresher;
    private readonly SemaphoreSlim _fileLock = new(1, 1);
    private readonly CancellationTokenSource _lost = new();
    private readonly Task _confirmation;
    private ResticId _currentId;
    private bool _released;

    private RepositoryLock(ResticRepository repository, LockDocument document, ResticId id, TimeSpan refreshInterval, bool confirmInBackground)
    {
        _repository = repository;
        _document = document;
        _currentId = id;
        _refresher = Task.Run(() => RefreshLoopAsync(refreshInterval));
        _confirmation = confirmInBackground ? Task.Run(() => ConfirmInBackgroundAsync(id)) : Task.CompletedTask;
        if (document.Exclusive)
        {
            // Operations on this repository object that need an exclusive lock work under this one (forget then
            // prune, as restic's 'forget --prune' does under one lock) instead of conflicting with it.
            Interlocked.CompareExchange(ref repository.HeldExclusiveLock, this, null);
        }
    }

    /// <summary>Cancelled when the second look for conflicting locks (see <see cref="AcquireSharedAsync"/>) finds one:
    /// the work done under the lock must stop; <see cref="ConfirmAsync"/> then throws why.</summary>
    public CancellationToken LostToken => _lost.Token;

    /// <summary>Whether the lock is exclusive.</summary>
    public bool IsExclusive => _document.Exclusive;

    /// <summary>The current lock file's ID (it changes on every refresh).</summary>
    public ResticId Id => _currentId;

    /// <summary>Takes a lock, failing with <see cref="RepositoryLockedException"/> if a conflicting lock exists.
    /// An exclusive lock conflicts with every other lock; a shared one only with exclusive locks. Stale locks still
    /// conflict (as in restic) until removed with <see cref="RemoveStaleLocksAsync"/>.</summary>
    /// <param name="repository">The repository.</param>
    /// <param name="exclusive">Exclusive (for operations that delete) or shared.</param>
    /// <param name="retryFor">How long to keep retrying while the repository is locked (restic's <c>--retry-lock</c>); zero fails at once.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    public static Task<RepositoryLock> AcquireAsync(ResticRepository repository, bool exclusive, TimeSpan retryFor = default,
        CancellationToken cancellationToken = default) =>
        AcquireAsync(repository, exclusive, retryFor, confirmInBackground: false, cancellationToken);

    /// <summary>As the public overload; with <paramref name="confirmInBackground"/> it returns once the lock file is
    /// written and confirms as <see cref="AcquireSharedAsync"/> describes (for an exclusive lock: the caller reads
    /// while it confirms and deletes nothing before <see cref="ConfirmAsync"/>).</summary>
    internal static async Task<RepositoryLock> AcquireAsync(ResticRepository repository, bool exclusive, TimeSpan retryFor,
        bool confirmInBackground, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var deadline = DateTimeOffset.UtcNow + retryFor;
        var delay = TimeSpan.FromSeconds(5);
        while (true)
        {
            try
            {
                return await TryAcquireOnceAsync(repository, exclusive, cancellationToken, confirmInBackground).ConfigureAwait(false);
            }
            catch (RepositoryLockedException) when (DateTimeOffset.UtcNow + delay < deadline)
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMinutes(1).Ticks));
            }
        }
    }

    /// <summary>
    /// Takes a shared lock and returns as soon as the lock file is written. Restic's protocol looks for conflicting
    /// locks, writes its own, pauses 200 ms and looks again (two processes may have looked at the same moment; no pause
    /// where the backend lists saved files at once, see <see cref="IBackend.ListsSavedFilesAtOnce"/>); here
    /// the pause and the second look run in the background while the caller starts work that only reads or adds to
    /// the repository. Safe because an exclusive locker (prune, forget) does the same pause-and-look before it deletes
    /// anything and so sees this lock, and because the caller commits nothing before <see cref="ConfirmAsync"/>: a
    /// backup writes no index file and no snapshot before it, so losing the race leaves only unreferenced packs, like
    /// an interrupted backup. On a conflict <see cref="LostToken"/> is cancelled and <see cref="ConfirmAsync"/> throws
    /// <see cref="RepositoryLockedException"/>.
    /// </summary>
    /// <param name="repository">The repository.</param>
    /// <param name="cancellationToken">Cancels taking the lock.</param>
    /// <exception cref="RepositoryLockedException">An exclusive lock is held.</exception>
    public static async Task<RepositoryLock> AcquireSharedAsync(ResticRepository repository, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        return await TryAcquireOnceAsync(repository, exclusive: false, cancellationToken, confirmInBackground: true).ConfigureAwait(false);
    }

    /// <summary>Completes when the lock is confirmed (at once for locks taken with <see cref="AcquireAsync(ResticRepository, bool, TimeSpan, CancellationToken)"/>); throws
    /// <see cref="RepositoryLockedException"/> if a conflicting lock appeared while it was being taken.</summary>
    public Task ConfirmAsync(CancellationToken cancellationToken = default) => _confirmation.WaitAsync(cancellationToken);

    /// <summary>Whether <see cref="LostToken"/> fired; then <see cref="ConfirmAsync"/> throws the reason.</summary>
    internal bool IsLost => _lost.IsCancellationRequested;

    /// <summary>
    /// Runs work under this lock: the work's token is also cancelled when the lock is lost, and that cancellation
    /// surfaces as the <see cref="RepositoryLockedException"/> that explains it, not as an
    /// <see cref="OperationCanceledException"/> the caller never asked for.
    /// </summary>
    internal async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lost.Token);
        try
        {
            return await work(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (IsLost && !cancellationToken.IsCancellationRequested)
        {
            await ConfirmAsync(CancellationToken.None).ConfigureAwait(false); // throws RepositoryLockedException
            throw;
        }
    }

    private async Task ConfirmInBackgroundAsync(ResticId id)
    {
        try
        {
            await Task.Delay(RecheckDelayFor(_repository), _stop.Token).ConfigureAwait(false);
            await ThrowOnConflictAsync(_repository, _document.Exclusive, ignore: id, _stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Released before the second look: nothing left to confirm.
        }
        catch
        {
            await _lost.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// For operations that need an exclusive lock: the one this repository object already holds (taken by the caller
    /// around several operations; nothing to release, so <c>Owned</c> is null), or a new one confirming in the
    /// background (also returned as <c>Owned</c>, for the operation to dispose).
    /// </summary>
    internal static async Task<(RepositoryLock Lock, RepositoryLock? Owned)> AcquireExclusiveForOperationAsync(ResticRepository repository,
        TimeSpan retryFor, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref repository.HeldExclusiveLock) is { } held)
        {
            return (held, null);
        }

        var taken = await AcquireAsync(repository, exclusive: true, retryFor, confirmInBackground: true, cancellationToken).ConfigureAwait(false);
        return (taken, taken);
    }

    /// <summary>restic's pause between writing a lock file and looking for conflicting locks again.</summary>
    private static readonly TimeSpan RecheckDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>The pause before the second look: none where the backend lists every saved file at once (see
    /// <see cref="IBackend.ListsSavedFilesAtOnce"/>; restic's processes keep their own pause, which only makes them
    /// look later), restic's elsewhere.</summary>
    private static TimeSpan RecheckDelayFor(ResticRepository repository) =>
        repository.Backend.ListsSavedFilesAtOnce ? TimeSpan.Zero : RecheckDelay;

    private static async Task<RepositoryLock> TryAcquireOnceAsync(ResticRepository repository, bool exclusive, CancellationToken cancellationToken,
        bool confirmInBackground = false)
    {
        await ThrowOnConflictAsync(repository, exclusive, ignore: null, cancellationToken).ConfigureAwait(false);
        var document = new LockDocument
        {
            Time = GoTime.Now(),
            Exclusive = exclusive,
            Hostname = repository.Options.Hostname,
            Username = repository.Options.Username,
            Pid = Environment.ProcessId,
            Uid = Platform.PosixFile.EffectiveUserId,
        };
        var id = await WriteAsync(repository, document, cancellationToken).ConfigureAwait(false);
        if (confirmInBackground)
        {
            repository.Logger.LogDebug("Acquired {Kind} lock {LockId}, confirming in the background", exclusive ? "exclusive" : "shared", id.ToShortString());
            return new RepositoryLock(repository, document, id, RefreshInterval, confirmInBackground: true);
        }

        try
        {
            // Two processes may have checked at the same moment; looking again after a pause catches the loser of that race.
            await Task.Delay(RecheckDelayFor(repository), cancellationToken).ConfigureAwait(false);
            await ThrowOnConflictAsync(repository, exclusive, ignore: id, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await TryRemoveAsync(repository, id).ConfigureAwait(false);
            throw;
        }

        repository.Logger.LogDebug("Acquired {Kind} lock {LockId}", exclusive ? "exclusive" : "shared", id.ToShortString());
        return new RepositoryLock(repository, document, id, RefreshInterval, confirmInBackground: false);
    }

    private static async Task ThrowOnConflictAsync(ResticRepository repository, bool exclusive, ResticId? ignore, CancellationToken cancellationToken)
    {
        foreach (var info in await ListAsync(repository, cancellationToken).ConfigureAwait(false))
        {
            if (info.Id == ignore)
            {
                continue;
            }

            if (info.Document is null)
            {
                throw new RepositoryLockedException(
                    $"The repository has a lock file that cannot be read ({info.Id.ToShortString()}); if no other process uses the repository, remove it with 'unlock --remove-all'.",
                    info.Id.ToString());
            }

            if (exclusive || info.Document.Exclusive)
            {
                var d = info.Document;
                throw new RepositoryLockedException(
                    $"The repository is already locked {(d.Exclusive ? "exclusively" : "")} by PID {d.Pid} on {d.Hostname} by {d.Username} since {d.Time}" +
                    (info.IsStale ? " (the lock is stale; 'unlock' removes it)." : "."),
                    info.Id.ToString(), d.Exclusive, info.IsStale);
            }
        }
    }

    /// <summary>Lists the repository's locks with their staleness.</summary>
    public static async Task<IReadOnlyList<LockInfo>> ListAsync(ResticRepository repository, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var result = new List<LockInfo>();
        await foreach (var f in repository.Backend.ListAsync(FileType.Lock, cancellationToken).ConfigureAwait(false))
        {
            if (f.Size == 0)
            {
                // restic ignores empty lock files (a crash between create and write on some backends).
                continue;
            }

            var id = ResticId.Parse(f.Name);
            LockDocument? doc = null;
            try
            {
                doc = ResticJson.ReadLock(await repository.LoadJsonFileAsync(new FileHandle(FileType.Lock, f.Name), cancellationToken).ConfigureAwait(false));
            }
            catch (StorageFileNotFoundException)
            {
                // Released (or refreshed) while we listed.
                continue;
            }
            catch (Exception ex) when (ex is IntegrityException or FormatException)
            {
            }

            result.Add(new LockInfo(id, doc, doc is not null && IsStale(doc, repository.Options.Hostname)));
        }

        return result;
    }

    /// <summary>Whether a lock is stale: older than <see cref="StaleAfter"/>, or from this host with its process gone.</summary>
    public static bool IsStale(LockDocument document, string thisHost)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (DateTimeOffset.UtcNow - document.Time.ToDateTimeOffset() > StaleAfter)
        {
            return true;
        }

        return string.Equals(document.Hostname, thisHost, StringComparison.Ordinal) && !Platform.PosixFile.ProcessExists(document.Pid);
    }

    /// <summary>Removes stale locks (restic's <c>unlock</c>), or every lock with <paramref name="all"/>
    /// (<c>unlock --remove-all</c>). Returns how many were removed.</summary>
    public static async Task<int> RemoveStaleLocksAsync(ResticRepository repository, bool all = false, CancellationToken cancellationToken = default)
    {
        int removed = 0;
        foreach (var info in await ListAsync(repository, cancellationToken).ConfigureAwait(false))
        {
            if (all || info.IsStale)
            {
                if (await TryRemoveAsync(repository, info.Id).ConfigureAwait(false))
                {
                    removed++;
                }
            }
        }

        return removed;
    }

    private static async Task<ResticId> WriteAsync(ResticRepository repository, LockDocument document, CancellationToken cancellationToken)
    {
        var json = new ArrayBufferWriter<byte>(256);
        ResticJson.WriteLock(document, json);
        return await repository.SaveJsonFileAsync(FileType.Lock, json.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<bool> TryRemoveAsync(ResticRepository repository, ResticId id)
    {
        try
        {
            await repository.Backend.RemoveAsync(new FileHandle(FileType.Lock, id.ToString()), CancellationToken.None).ConfigureAwait(false);
            return true;
        }
        catch (StorageException)
        {
            return false;
        }
    }

    private async Task RefreshLoopAsync(TimeSpan interval)
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, _stop.Token).ConfigureAwait(false);
                await RefreshAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is KubeBackupException or IOException)
            {
                // A failed refresh is retried at the next tick; the lock only goes stale after 30 minutes.
                _repository.Logger.LogWarning(ex, "Refreshing lock {LockId} failed", _currentId.ToShortString());
            }
        }
    }

    /// <summary>Refreshes the lock now: writes a new lock file with the current time and removes the old one.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        await _fileLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_released)
            {
                return;
            }

            _document.Time = GoTime.Now();
            var old = _currentId;
            _currentId = await WriteAsync(_repository, _document, cancellationToken).ConfigureAwait(false);
            await TryRemoveAsync(_repository, old).ConfigureAwait(false);
        }
        finally
        {
            _fileLock.Release();
        }
    }

    /// <summary>Releases the lock (removes its file).</summary>
    public async ValueTask DisposeAsync()
    {
        Interlocked.CompareExchange(ref _repository.HeldExclusiveLock, null, this);
        await _stop.CancelAsync().ConfigureAwait(false);
        await _refresher.ConfigureAwait(false);
        await _confirmation.ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        await _fileLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_released)
            {
                _released = true;
                await TryRemoveAsync(_repository, _currentId).ConfigureAwait(false);
            }
        }
        finally
        {
            _fileLock.Release();
        }

        _stop.Dispose();
        // _lost stays undisposed: callers may still hold tokens linked to it (it has no timer to release).
    }
}
