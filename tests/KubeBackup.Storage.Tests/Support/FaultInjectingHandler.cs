using System.Net;

namespace KubeBackup.Storage.Tests.Support;

/// <summary>
/// Sits between a storage client and the network and misbehaves on purpose: a share of requests fail as a reset
/// connection (before reaching the server) or as a 503 (after the server did the work, so retries meet their own
/// earlier effect), every request is delayed a little, and every request is counted.
/// </summary>
public sealed class FaultInjectingHandler : DelegatingHandler
{
    private readonly double _failureRate;
    private readonly TimeSpan _maxLatency;
    private readonly HttpStatusCode? _always;
    private readonly Random _random;
    private int _requests;
    private int _injected;

    private FaultInjectingHandler(HttpMessageHandler inner, double failureRate, TimeSpan maxLatency, HttpStatusCode? always, int seed) : base(inner)
    {
        _failureRate = failureRate;
        _maxLatency = maxLatency;
        _always = always;
        _random = new Random(seed);
    }

    /// <summary>Transient failures at <paramref name="failureRate"/> and up to <paramref name="maxLatency"/> of added delay.</summary>
    public static FaultInjectingHandler Chaos(HttpMessageHandler inner, double failureRate, TimeSpan maxLatency, int seed = 42) =>
        new(inner, failureRate, maxLatency, null, seed);

    /// <summary>Only counts requests.</summary>
    public static FaultInjectingHandler Counting(HttpMessageHandler inner) => new(inner, 0, TimeSpan.Zero, null, 0);

    /// <summary>Answers every request with <paramref name="status"/> without sending it (for a server that cannot refuse credentials itself).</summary>
    public static FaultInjectingHandler AlwaysStatus(HttpMessageHandler inner, HttpStatusCode status) => new(inner, 0, TimeSpan.Zero, status, 0);

    public int Requests => Volatile.Read(ref _requests);

    public int Injected => Volatile.Read(ref _injected);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        if (_always is { } status)
        {
            return new HttpResponseMessage(status) { RequestMessage = request, Content = new StringContent("{\"error\":{\"code\":401,\"message\":\"injected\"}}") };
        }

        double roll, latency;
        lock (_random)
        {
            roll = _random.NextDouble();
            latency = _random.NextDouble();
        }

        if (_maxLatency > TimeSpan.Zero)
        {
            await Task.Delay(_maxLatency * latency, cancellationToken);
        }

        if (roll < _failureRate / 2)
        {
            Interlocked.Increment(ref _injected);
            throw new HttpRequestException(HttpRequestError.ConnectionError, "injected fault: connection reset by peer", new IOException("connection reset"));
        }

        var response = await base.SendAsync(request, cancellationToken);
        if (roll < _failureRate)
        {
            Interlocked.Increment(ref _injected);
            // The server did the work; the client only hears that it failed.
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            response.Dispose();
            return new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { RequestMessage = request, Content = new StringContent(string.Empty) };
        }

        return response;
    }
}
