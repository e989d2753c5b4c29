using System.Collections.Concurrent;

namespace KubeBackup.FakeKube;

/// <summary>A request the server received, with its answer.</summary>
/// <param name="Method">HTTP method.</param>
/// <param name="Path">Path and query.</param>
/// <param name="Status">The status code answered (101 for an accepted WebSocket).</param>
/// <param name="Injected">Whether the answer was an injected fault.</param>
/// <param name="Error">The error message answered, if any.</param>
public sealed record LoggedRequest(string Method, string Path, int Status, bool Injected, string? Error = null);

/// <summary>Makes the next matching requests fail or wait, and keeps a log of every request.</summary>
public sealed class FaultInjector
{
    private readonly object _gate = new();
    private readonly List<Rule> _rules = [];
    private readonly ConcurrentQueue<LoggedRequest> _log = new();
    private readonly ConcurrentDictionary<int, CancellationTokenSource> _watches = new();
    private int _nextWatch;

    private sealed class Rule
    {
        public required int Remaining { get; set; }
        public required int Status { get; init; }
        public required TimeSpan Delay { get; init; }
        public string? Method { get; init; }
        public string? PathContains { get; init; }
    }

    /// <summary>The next <paramref name="count"/> requests that match fail with <paramref name="status"/> (500, 409, 429, 503...).</summary>
    public void FailNext(int count, int status = 500, string? method = null, string? pathContains = null)
    {
        lock (_gate)
        {
            _rules.Add(new Rule { Remaining = count, Status = status, Delay = TimeSpan.Zero, Method = method, PathContains = pathContains });
        }
    }

    /// <summary>The next <paramref name="count"/> matching requests are answered only after <paramref name="delay"/>.</summary>
    public void DelayNext(int count, TimeSpan delay, string? method = null, string? pathContains = null)
    {
        lock (_gate)
        {
            _rules.Add(new Rule { Remaining = count, Status = 0, Delay = delay, Method = method, PathContains = pathContains });
        }
    }

    /// <summary>Removes every pending rule.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _rules.Clear();
        }
    }

    /// <summary>Ends every open watch stream at once, as a load balancer or an API server restart does.</summary>
    public int DropWatches()
    {
        int n = 0;
        foreach (var (_, cts) in _watches)
        {
            cts.Cancel();
            n++;
        }

        return n;
    }

    /// <summary>How many watch streams are open.</summary>
    public int OpenWatches => _watches.Count;

    /// <summary>Every request so far, oldest first.</summary>
    public IReadOnlyList<LoggedRequest> Requests => _log.ToArray();

    internal (int Status, TimeSpan Delay) Take(string method, string path)
    {
        lock (_gate)
        {
            var rule = _rules.FirstOrDefault(r => r.Remaining > 0 && (r.Method is null || string.Equals(r.Method, method, StringComparison.OrdinalIgnoreCase))
                && (r.PathContains is null || path.Contains(r.PathContains, StringComparison.Ordinal)));
            if (rule is null)
            {
                return (0, TimeSpan.Zero);
            }

            rule.Remaining--;
            if (rule.Remaining == 0)
            {
                _rules.Remove(rule);
            }

            return (rule.Status, rule.Delay);
        }
    }

    internal void Log(LoggedRequest request) => _log.Enqueue(request);

    internal (int Id, CancellationToken Token) RegisterWatch(CancellationToken requestAborted)
    {
        int id = Interlocked.Increment(ref _nextWatch);
        var cts = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
        _watches[id] = cts;
        return (id, cts.Token);
    }

    internal void UnregisterWatch(int id)
    {
        if (_watches.TryRemove(id, out var cts))
        {
            cts.Dispose();
        }
    }
}
