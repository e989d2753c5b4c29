using System.Net;
using System.Net.WebSockets;
using k8s;
using k8s.Autorest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KubeBackup.Kubernetes.Exec;

/// <summary>Runs commands in pod containers.</summary>
public interface IPodExecutor
{
    /// <summary>Starts a command and returns the running session (stream stdout, write stdin, wait for the result).</summary>
    Task<PodExecSession> StartAsync(PodExecRequest request, CancellationToken cancellationToken = default);

    /// <summary>Runs a command to its end and returns its result (stdout and stderr captured). A non-zero exit code is a
    /// result, not an exception; a command that could not be started throws <see cref="PodExecException"/>.</summary>
    Task<PodExecResult> RunAsync(PodExecRequest request, CancellationToken cancellationToken = default);
}

/// <summary>How exec sessions are opened.</summary>
public sealed class PodExecutorOptions
{
    /// <summary>Ask for the v5 protocol first (so stdin can be closed). Default true.</summary>
    public bool PreferV5 { get; set; } = true;

    /// <summary>Fall back to v4 when the server refuses v5. Default true; a session that needs to close stdin then fails
    /// with a clear message when it tries.</summary>
    public bool AllowV4 { get; set; } = true;

    /// <summary>Retries of the connection handshake (the command has not started yet, so retrying is safe).</summary>
    public KubeRetryOptions Retry { get; set; } = new();
}

/// <summary>
/// Runs commands in pod containers through the Kubernetes exec API (WebSocket), using the host's <see cref="IKubernetes"/>.
/// Negotiates v5 where the server offers it and falls back to v4 otherwise; see <see cref="PodExecSession"/> for how
/// output is read without loss.
/// </summary>
public sealed class PodExecutor : IPodExecutor
{
    private readonly IKubernetes _kubernetes;
    private readonly PodExecutorOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates an executor over a configured client.</summary>
    public PodExecutor(IKubernetes kubernetes, PodExecutorOptions? options = null, ILogger<PodExecutor>? logger = null)
    {
        _kubernetes = kubernetes ?? throw new ArgumentNullException(nameof(kubernetes));
        _options = options ?? new PodExecutorOptions();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <inheritdoc />
    public async Task<PodExecSession> StartAsync(PodExecRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Command.Count == 0)
        {
            throw new ArgumentException("The command needs at least a program name.", nameof(request));
        }

        var protocols = new List<string>();
        if (_options.PreferV5)
        {
            protocols.Add(PodExecSession.V5Protocol);
        }

        if (_options.AllowV4 || !_options.PreferV5)
        {
            protocols.Add(PodExecSession.V4Protocol);
        }

        Exception? last = null;
        foreach (var protocol in protocols)
        {
            try
            {
                var socket = await KubeRetry.RunAsync(ct => _kubernetes.WebSocketNamespacedPodExecAsync(request.Pod, request.Namespace, request.Command,
                    request.Container, stderr: true, stdin: request.Stdin, stdout: true, tty: false, webSocketSubProtocol: protocol, cancellationToken: ct),
                    _options.Retry, _logger, $"exec {request}", cancellationToken).ConfigureAwait(false);
                string negotiated = string.IsNullOrEmpty(socket.SubProtocol) ? protocol : socket.SubProtocol;
                _logger.LogDebug("Exec {Request} started over {Protocol}", request.ToString(), negotiated);
                return new PodExecSession(socket, negotiated, request, cancellationToken);
            }
            catch (Exception ex) when (protocol == PodExecSession.V5Protocol && protocols.Count > 1 && IsHandshakeRefusal(ex))
            {
                // An API server before 1.30 refuses v5 with 400 or 403; the same request over v4 tells whether that was
                // the protocol or something else (a missing container answers the same on both).
                _logger.LogInformation("The API server refused {Protocol} for {Request}; trying {Fallback}", protocol, request.ToString(), PodExecSession.V4Protocol);
                last = ex;
            }
            catch (Exception ex) when (ex is HttpOperationException or WebSocketException or HttpRequestException)
            {
                throw new PodExecException($"Cannot start {request}: {await DiagnoseAsync(request, ex, cancellationToken).ConfigureAwait(false)}", null, ex);
            }
        }

        throw new PodExecException($"Cannot start {request}: {(last is null ? "no usable exec protocol" : KubeRetry.Describe(last))}", null, last);
    }

    /// <summary>A refused WebSocket handshake carries no reason; the same request as plain HTTP gets the API's Status
    /// (pod not found, container not valid, pod not running).</summary>
    private async Task<string> DiagnoseAsync(PodExecRequest request, Exception handshakeError, CancellationToken cancellationToken)
    {
        if (handshakeError is not WebSocketException)
        {
            return KubeRetry.Describe(handshakeError);
        }

        try
        {
            using var probe = await _kubernetes.CoreV1.ConnectGetNamespacedPodExecWithHttpMessagesAsync(request.Pod, request.Namespace, request.Command[0],
                request.Container, stderr: true, stdin: false, stdout: true, tty: false, cancellationToken: cancellationToken).ConfigureAwait(false);
            return handshakeError.Message;
        }
        catch (HttpOperationException ex)
        {
            return KubeRetry.Describe(ex);
        }
        catch (HttpRequestException)
        {
            return handshakeError.Message;
        }
    }

    private static bool IsHandshakeRefusal(Exception ex) => ex switch
    {
        HttpOperationException h => h.Response?.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Forbidden,
        WebSocketException w => w.Message.Contains("'400'", StringComparison.Ordinal) || w.Message.Contains("'403'", StringComparison.Ordinal)
            || w.WebSocketErrorCode == WebSocketError.UnsupportedProtocol,
        _ => false,
    };

    /// <inheritdoc />
    public async Task<PodExecResult> RunAsync(PodExecRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Stdout == ExecOutputMode.Stream)
        {
            throw new ArgumentException("RunAsync captures or discards stdout; use StartAsync to stream it.", nameof(request));
        }

        var session = await StartAsync(request, cancellationToken).ConfigureAwait(false);
        await using (session.ConfigureAwait(false))
        {
            if (request.Stdin)
            {
                await session.CloseStdinAsync(cancellationToken).ConfigureAwait(false);
            }

            return await session.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
