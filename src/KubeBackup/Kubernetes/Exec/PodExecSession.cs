using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace KubeBackup.Kubernetes.Exec;

/// <summary>
/// A command running in a pod, over one exec WebSocket. This type reads the socket itself instead of using the client's
/// demultiplexer, which buffers each channel without limit and silently drops what a slow reader has not taken: here a
/// slow stdout reader stops the socket from being read, so TCP slows the command down and nothing is lost. Stderr and
/// the status channel are read all the while.
/// </summary>
public sealed class PodExecSession : IAsyncDisposable
{
    /// <summary>The sub-protocol that can close stdin (Kubernetes 1.30+).</summary>
    public const string V5Protocol = "v5.channel.k8s.io";

    /// <summary>The older sub-protocol: no way to signal the end of stdin.</summary>
    public const string V4Protocol = "v4.channel.k8s.io";

    private const byte StdinChannel = 0, StdoutChannel = 1, StderrChannel = 2, StatusChannel = 3, CloseChannel = 255;
    private const int MaxFrame = 1024 * 1024;

    private readonly WebSocket _socket;
    private readonly PodExecRequest _request;
    private readonly Channel<byte[]>? _stdout;
    private readonly CancellationTokenSource _abort;
    private readonly CancellationTokenSource _timeout;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly TaskCompletionSource<PodExecResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Capture _stdoutCapture;
    private readonly Capture _stderrCapture;
    private readonly StringBuilder _status = new();
    private readonly Task _readLoop;
    private long _stdoutBytes;
    private long _stdinBytes;
    private bool _stdinClosed;
    private int _disposed;

    internal PodExecSession(WebSocket socket, string protocol, PodExecRequest request, CancellationToken cancellationToken)
    {
        _socket = socket;
        _request = request;
        Protocol = protocol;
        _timeout = request.Timeout is { } timeout ? new CancellationTokenSource(timeout) : new CancellationTokenSource();
        _abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _timeout.Token);

        if (request.Stdout == ExecOutputMode.Stream)
        {
            // A few MiB in flight at most; beyond that the socket is not read and the server waits.
            _stdout = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(64) { SingleReader = true, SingleWriter = true });
            StandardOutput = new ChannelReadStream(_stdout.Reader);
        }

        _stdoutCapture = new Capture(request.Stdout == ExecOutputMode.Capture ? request.MaxCapturedBytes : 0);
        _stderrCapture = new Capture(request.MaxCapturedBytes);
        _readLoop = Task.Run(ReadLoopAsync, CancellationToken.None);
    }

    /// <summary>The negotiated sub-protocol.</summary>
    public string Protocol { get; }

    /// <summary>Whether stdin can be closed (v5). On v4 a command that reads stdin to its end never sees the end.</summary>
    public bool CanCloseStdin => Protocol == V5Protocol;

    /// <summary>The command's stdout, when the request asked for <see cref="ExecOutputMode.Stream"/>. It ends when the
    /// command's output ends; check <see cref="Completion"/> to learn whether it ended because the command succeeded.</summary>
    public Stream? StandardOutput { get; }

    /// <summary>Bytes received on stdout so far.</summary>
    public long StdoutBytes => Interlocked.Read(ref _stdoutBytes);

    /// <summary>Completes when the command has ended (or the connection broke) with its result. Never faults: failures
    /// are in <see cref="PodExecResult.FailureReason"/>; cancellation by the caller's token faults with
    /// <see cref="OperationCanceledException"/>.</summary>
    public Task<PodExecResult> Completion => _completion.Task;

    /// <summary>Writes to the command's stdin.</summary>
    public async Task WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        if (!_request.Stdin)
        {
            throw new InvalidOperationException("The exec was started without stdin.");
        }

        if (_stdinClosed)
        {
            throw new InvalidOperationException("stdin is already closed.");
        }

        var frame = ArrayPool<byte>.Shared.Rent(Math.Min(data.Length, MaxFrame) + 1);
        try
        {
            frame[0] = StdinChannel;
            for (int offset = 0; offset < data.Length; offset += MaxFrame)
            {
                int n = Math.Min(MaxFrame, data.Length - offset);
                data.Slice(offset, n).CopyTo(frame.AsMemory(1));
                await SendAsync(frame.AsMemory(0, n + 1), cancellationToken).ConfigureAwait(false);
                Interlocked.Add(ref _stdinBytes, n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    /// <summary>Copies a stream into the command's stdin, then closes stdin.</summary>
    public async Task CopyToStdinAsync(Stream source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ThrowIfStdinCannotClose();
        var buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
        try
        {
            int n;
            while ((n = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (_completion.Task.IsCompleted)
                {
                    // The command ended before taking all its input; its result says why.
                    return;
                }

                await WriteStdinAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        await CloseStdinAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes the command's stdin (v5 only), so a command reading it to the end can finish.</summary>
    /// <exception cref="PodExecException">The server speaks only v4, which cannot close stdin.</exception>
    public async Task CloseStdinAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfStdinCannotClose();
        if (_stdinClosed)
        {
            return;
        }

        _stdinClosed = true;
        await SendAsync(new byte[] { CloseChannel, StdinChannel }, cancellationToken).ConfigureAwait(false);
    }

    private void ThrowIfStdinCannotClose()
    {
        if (!CanCloseStdin)
        {
            throw new PodExecException(
                $"The API server offers only the {V4Protocol} exec protocol (Kubernetes before 1.30), which cannot signal the end of stdin: "
                + $"{_request} would wait for more input forever. Streaming into a command's stdin needs {V5Protocol}.");
        }
    }

    private async Task SendAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _abort.Token);
            await _socket.SendAsync(frame, WebSocketMessageType.Binary, true, linked.Token).ConfigureAwait(false);
        }
        catch (WebSocketException ex)
        {
            throw new PodExecException($"Writing to the stdin of {_request} failed: the connection is gone ({ex.Message}).", null, ex);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxFrame + 1);
        string? failure = null;
        try
        {
            int channel = -1;
            while (true)
            {
                var r = await _socket.ReceiveAsync(buffer.AsMemory(), _abort.Token).ConfigureAwait(false);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                int offset = 0;
                if (channel < 0)
                {
                    if (r.Count == 0)
                    {
                        continue;
                    }

                    channel = buffer[0];
                    offset = 1;
                }

                int n = r.Count - offset;
                if (n > 0)
                {
                    var payload = buffer.AsMemory(offset, n);
                    switch (channel)
                    {
                        case StdoutChannel:
                            Interlocked.Add(ref _stdoutBytes, n);
                            if (_stdout is not null)
                            {
                                await _stdout.Writer.WriteAsync(payload.ToArray(), _abort.Token).ConfigureAwait(false);
                            }
                            else
                            {
                                _stdoutCapture.Append(payload.Span);
                            }

                            break;
                        case StderrChannel:
                            _stderrCapture.Append(payload.Span);
                            break;
                        case StatusChannel:
                            _status.Append(Encoding.UTF8.GetString(payload.Span));
                            break;
                    }
                }

                if (r.EndOfMessage)
                {
                    channel = -1;
                }
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            _socket.Abort();
            if (_request.Timeout is { } t && _timeout.IsCancellationRequested)
            {
                failure = $"{_request} did not finish within {t.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s and was abandoned";
            }
            else
            {
                _stdout?.Writer.TryComplete(new OperationCanceledException());
                _completion.TrySetCanceled();
                return;
            }
        }
        catch (WebSocketException ex)
        {
            failure = $"the exec connection for {_request} broke: {ex.Message}";
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        var result = BuildResult(failure);
        _stdout?.Writer.TryComplete();
        _completion.TrySetResult(result);
    }

    private PodExecResult BuildResult(string? failure)
    {
        int? exitCode = null;
        string? reason = failure;
        if (failure is null)
        {
            var statusText = _status.ToString();
            if (statusText.Length == 0)
            {
                reason = $"the exec connection for {_request} ended without an exit status (the container may have been restarted or the node lost)";
            }
            else
            {
                (exitCode, reason) = ParseStatus(statusText);
            }
        }

        if (exitCode is { } code && code != 0)
        {
            var tail = _stderrCapture.Tail(512);
            reason = $"{_request} exited with code {code}" + (tail.Length > 0 ? $": {tail}" : "");
        }

        return new PodExecResult
        {
            ExitCode = exitCode,
            FailureReason = exitCode == 0 ? null : reason,
            Stdout = _stdoutCapture.ToArray(),
            Stderr = _stderrCapture.ToArray(),
            StdoutBytes = StdoutBytes,
            StdinBytes = Interlocked.Read(ref _stdinBytes),
            Protocol = Protocol,
            Duration = _clock.Elapsed,
        };
    }

    private (int? ExitCode, string? Reason) ParseStatus(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            string status = root.TryGetProperty("status", out var s) ? s.GetString() ?? "" : "";
            if (status == "Success")
            {
                return (0, null);
            }

            if (root.TryGetProperty("reason", out var reason) && reason.GetString() == "NonZeroExitCode"
                && root.TryGetProperty("details", out var details) && details.TryGetProperty("causes", out var causes))
            {
                foreach (var cause in causes.EnumerateArray())
                {
                    if (cause.TryGetProperty("reason", out var cr) && cr.GetString() == "ExitCode" && cause.TryGetProperty("message", out var cm)
                        && int.TryParse(cm.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int code))
                    {
                        return (code, null);
                    }
                }
            }

            string message = root.TryGetProperty("message", out var m) ? m.GetString() ?? "" : text;
            return (null, $"{_request} failed: {message}");
        }
        catch (JsonException)
        {
            // The original channel.k8s.io protocol sends plain text errors.
            return (null, $"{_request} failed: {text}");
        }
    }

    /// <summary>Waits for the command to end and returns its result.</summary>
    public async Task<PodExecResult> WaitAsync(CancellationToken cancellationToken = default) =>
        await _completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>Abandons the command if it still runs (the connection is dropped) and releases the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (!_completion.Task.IsCompleted)
        {
            await _abort.CancelAsync().ConfigureAwait(false);
        }

        try
        {
            await _readLoop.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ChannelClosedException)
        {
        }

        _socket.Dispose();
        _abort.Dispose();
        _timeout.Dispose();
        _sendLock.Dispose();
    }

    /// <summary>Keeps the first bytes of an output, counting the rest.</summary>
    private sealed class Capture
    {
        private readonly int _limit;
        private readonly MemoryStream _data = new();

        public Capture(int limit) => _limit = limit;

        public void Append(ReadOnlySpan<byte> data)
        {
            lock (_data)
            {
                int room = (int)Math.Max(0, _limit - _data.Length);
                _data.Write(data[..Math.Min(room, data.Length)]);
            }
        }

        public byte[] ToArray()
        {
            lock (_data)
            {
                return _data.ToArray();
            }
        }

        public string Tail(int chars)
        {
            var text = Encoding.UTF8.GetString(ToArray()).Trim();
            return text.Length <= chars ? text : "…" + text[^chars..];
        }
    }

    /// <summary>A read-only stream over chunks handed over by the read loop.</summary>
    private sealed class ChannelReadStream : Stream
    {
        private readonly ChannelReader<byte[]> _reader;
        private byte[]? _current;
        private int _offset;

        public ChannelReadStream(ChannelReader<byte[]> reader) => _reader = reader;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (_current is null || _offset == _current.Length)
            {
                if (!await _reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return 0;
                }

                _reader.TryRead(out _current);
                _offset = 0;
            }

            int n = Math.Min(buffer.Length, _current.Length - _offset);
            _current.AsMemory(_offset, n).CopyTo(buffer);
            _offset += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
