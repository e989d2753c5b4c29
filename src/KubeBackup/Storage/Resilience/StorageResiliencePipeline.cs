using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace KubeBackup.Storage.Resilience;

/// <summary>
/// Runs every call a remote backend makes through one Polly pipeline — retry with exponential backoff and jitter,
/// circuit breaker, per-attempt timeout — and bounds how many calls run at once. Shared by all providers, so they
/// differ only in how they classify their SDK's errors: a provider turns transient failures into
/// <see cref="TransientStorageException"/> (retried), "missing" into <see cref="StorageFileNotFoundException"/> and refused
/// credentials into <see cref="StorageAuthenticationException"/> (both never retried).
/// </summary>
/// <remarks>One instance per backend, so that its circuit breaker sees every call to the service.</remarks>
public sealed partial class StorageResiliencePipeline : IDisposable
{
    private static readonly ResiliencePropertyKey<string> OperationKey = new("KubeBackup.Storage.Operation");
    private readonly SemaphoreSlim _connections;
    private readonly ILogger _logger;
    private readonly string _backendName;
    private readonly StorageResilienceOptions _options;

    /// <summary>Builds the pipeline.</summary>
    /// <param name="backendName">Names the backend in log messages and errors, for example <c>s3:host/bucket</c> (no credentials).</param>
    /// <param name="maxConcurrency">How many calls may run at once (the backend's connection count).</param>
    /// <param name="options">Retry, timeout and circuit-breaker settings.</param>
    /// <param name="logger">Where retries and give-ups are logged.</param>
    public StorageResiliencePipeline(string backendName, int maxConcurrency, StorageResilienceOptions options, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(backendName);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrency, 1);
        var errors = new List<string>();
        options.Validate(errors);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }

        _backendName = backendName;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _connections = new SemaphoreSlim(maxConcurrency, maxConcurrency);

        var transient = new PredicateBuilder().Handle<TransientStorageException>().Handle<TimeoutRejectedException>();
        var builder = new ResiliencePipelineBuilder { Name = backendName, TimeProvider = options.TimeProvider };
        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = transient,
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                OnRetry = args =>
                {
                    LogRetry(_logger, _backendName, args.Context.Properties.GetValue(OperationKey, "call"), args.AttemptNumber + 1,
                        args.RetryDelay.TotalMilliseconds, args.Outcome.Exception?.Message ?? "failed");
                    return default;
                },
            });
        }

        if (options.CircuitBreakerEnabled)
        {
            builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = transient,
                FailureRatio = options.CircuitBreakerFailureRatio,
                MinimumThroughput = options.CircuitBreakerMinimumThroughput,
                SamplingDuration = options.CircuitBreakerSamplingDuration,
                BreakDuration = options.CircuitBreakerBreakDuration,
                OnOpened = args =>
                {
                    LogCircuitOpened(_logger, _backendName, args.BreakDuration.TotalSeconds);
                    return default;
                },
            });
        }

        builder.AddTimeout(options.AttemptTimeout);
        options.ConfigurePipeline?.Invoke(builder);
        Pipeline = builder.Build();
    }

    /// <summary>The Polly pipeline itself (for inspection with Polly.Testing, or to run extra calls through it).</summary>
    public ResiliencePipeline Pipeline { get; }

    /// <summary>Runs a call with retries. <paramref name="operation"/> names it in logs and errors (for example <c>stat config</c>).</summary>
    public async ValueTask<T> ExecuteAsync<T>(string operation, Func<CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(OperationKey, operation);
        try
        {
            return await Pipeline.ExecuteAsync(static async (ctx, state) =>
            {
                // The semaphore is taken per attempt, so a call waiting out its backoff holds no connection slot.
                await state.Self._connections.WaitAsync(ctx.CancellationToken).ConfigureAwait(false);
                try
                {
                    return await state.call(ctx.CancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    state.Self._connections.Release();
                }
            }, context, (Self: this, call)).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException ex)
        {
            throw new TransientStorageException($"{_backendName}: {operation} timed out (each attempt may take {_options.AttemptTimeout}; {_options.MaxRetryAttempts + 1} attempts made).", ex);
        }
        catch (BrokenCircuitException ex)
        {
            throw new TransientStorageException($"{_backendName}: {operation} was not attempted: the service failed repeatedly and calls are suspended for a while ({ex.Message})", ex);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>Runs a call without a result with retries.</summary>
    public async ValueTask ExecuteAsync(string operation, Func<CancellationToken, ValueTask> call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        await ExecuteAsync(operation, async ct =>
        {
            await call(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Uploads <paramref name="content"/> (from its current position to its end) with retries. Each attempt gets a
    /// fresh view of the same bytes, positioned at its start, that the upload may read, seek and dispose without
    /// affecting the caller's stream: retrying a save is safe because names are content hashes.
    /// </summary>
    /// <param name="operation">Names the save in logs and errors.</param>
    /// <param name="content">The bytes to upload; must be seekable.</param>
    /// <param name="upload">Sends the bytes: gets the view and its length.</param>
    /// <param name="cancellationToken">Cancels the save.</param>
    public async Task SaveAsync(string operation, Stream content, Func<Stream, long, CancellationToken, ValueTask> upload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(upload);
        if (!content.CanSeek)
        {
            throw new ArgumentException("The content of a save must be seekable, so that it can be sent again.", nameof(content));
        }

        long start = content.Position;
        long length = content.Length - start;
        await ExecuteAsync(operation, async ct =>
        {
            using var view = new ContentView(content, start, length);
            await upload(view, length, ct).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Gives a seekable view of part of a seekable stream (for one part of a multipart upload); reading it
    /// moves the underlying stream, so use one view at a time.</summary>
    public static Stream CreateView(Stream content, long start, long length) => new ContentView(content, start, length);

    /// <summary>
    /// Opens a stream over <paramref name="length"/> bytes from <paramref name="offset"/> (-1: to the end). The opening
    /// call is retried; if the connection breaks while the caller reads, the stream reopens where it stopped (a ranged
    /// request), so a long read survives a reset connection too.
    /// </summary>
    /// <param name="operation">Names the read in logs and errors.</param>
    /// <param name="offset">Where to start.</param>
    /// <param name="length">How many bytes, or -1 for all that follow.</param>
    /// <param name="open">Opens a ranged read: offset, length (-1: to the end), cancellation.</param>
    /// <param name="cancellationToken">Cancels the opening.</param>
    public async Task<Stream> OpenReadAsync(string operation, long offset, long length, Func<long, long, CancellationToken, ValueTask<Stream>> open,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(open);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var first = await ExecuteAsync(operation, ct => open(offset, length, ct), cancellationToken).ConfigureAwait(false);
        return new ResumingReadStream(this, operation, first, offset, length, open, _options.MaxRetryAttempts);
    }

    internal ValueTask<Stream> OpenReadAsyncRaw(string operation, long offset, long length, Func<long, long, CancellationToken, ValueTask<Stream>> open,
        CancellationToken cancellationToken) => ExecuteAsync(operation, ct => open(offset, length, ct), cancellationToken);

    /// <inheritdoc />
    public void Dispose() => _connections.Dispose();

    /// <summary>Whether an exception (anywhere in its chain) is a network failure worth retrying: a reset, refused or
    /// broken connection, or an I/O failure of the transport. Providers use it to classify SDK errors.</summary>
    public static bool IsNetworkFailure(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException or IOException or System.Net.Sockets.SocketException or TimeoutException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether an HTTP status is a transient failure: 408, 429, 500, 502, 503, 504.</summary>
    public static bool IsTransientStatus(int status) => status is 408 or 429 or 500 or 502 or 503 or 504;

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Backend}: {Operation} failed (attempt {Attempt}), retrying in {DelayMs:F0} ms: {Error}")]
    private static partial void LogRetry(ILogger logger, string backend, string operation, int attempt, double delayMs, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Backend}: too many failures; calls are suspended for {Seconds:F0} s")]
    private static partial void LogCircuitOpened(ILogger logger, string backend, double seconds);
}
