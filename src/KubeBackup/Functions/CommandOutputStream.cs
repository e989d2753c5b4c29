using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using KubeBackup.Hooks;
using KubeBackup.Sessions;

namespace KubeBackup.Functions;

/// <summary>
/// A command's standard output as a stream for <c>BackupStreamAsync</c>, counted and hashed end to end.
/// </summary>
/// <remarks>
/// <para>The engine writes the snapshot as soon as the stream reports its end, before anyone sees the command's exit
/// code. This stream therefore does not report the end when the pipe closes: it first waits for the command to exit,
/// judges the whole stream (exit code, signal, end marker, byte count) with the completeness policy, and only then
/// answers. If the verdict is Fail it throws instead of ending, and the engine, which writes a snapshot only after a
/// clean end, writes none. If the verdict is TagPartial it adds the partial tag to the snapshot's tag list before
/// ending, so the snapshot is written tagged in the first place.</para>
/// <para>Deciding before the snapshot exists (rather than tagging or deleting it afterwards) leaves no window in which
/// an untagged snapshot of a truncated dump is visible, or survives a crash: the data loss K8up users hit came from
/// exactly such snapshots being treated as good backups.</para>
/// </remarks>
internal sealed class CommandOutputStream : Stream
{
    private const int MarkerWindow = 4096;
    private readonly Process _process;
    private readonly Stream _output;
    private readonly CompletenessPolicy _policy;
    private readonly string? _endMarker;
    private readonly IList<string> _snapshotTags;
    private readonly Func<string> _errorTail;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _window = new byte[MarkerWindow];
    private readonly Action<long>? _progress;
    private int _windowLength;
    private StreamVerdict? _verdict;

    public CommandOutputStream(Process process, CompletenessPolicy policy, string? endMarker, IList<string> snapshotTags, Func<string> errorTail, Action<long>? progress)
    {
        _process = process;
        _output = process.StandardOutput.BaseStream;
        _policy = policy;
        _endMarker = endMarker;
        _snapshotTags = snapshotTags;
        _errorTail = errorTail;
        _progress = progress;
    }

    /// <summary>Bytes read so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>The verdict, once the stream has ended.</summary>
    public StreamVerdict? Verdict => _verdict;

    /// <summary>The SHA-256 of everything read, once the stream has ended.</summary>
    public string? Sha256 { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_verdict is not null)
        {
            return Finish(_verdict);
        }

        int n = await _output.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (n > 0)
        {
            var data = buffer.Span[..n];
            _hash.AppendData(data);
            Remember(data);
            BytesRead += n;
            _progress?.Invoke(BytesRead);
            return n;
        }

        // The pipe closed. The verdict needs the exit code: wait for it before the engine learns the stream ended.
        await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        Sha256 = Convert.ToHexStringLower(_hash.GetHashAndReset());
        _verdict = Judge(_process.ExitCode);
        if (_verdict.Action == CompletenessAction.TagPartial && !_snapshotTags.Contains(_policy.PartialTag))
        {
            _snapshotTags.Add(_policy.PartialTag);
        }

        return Finish(_verdict);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private static int Finish(StreamVerdict verdict) =>
        verdict.Action == CompletenessAction.Fail ? throw new StreamRejectedException(verdict) : 0;

    private StreamVerdict Judge(int exitCode)
    {
        var conditions = new List<CompletenessCondition>();
        var reasons = new List<string>();
        if (exitCode != 0)
        {
            conditions.Add(CompletenessCondition.NonZeroExit);
            reasons.Add($"the command exited with code {exitCode}");
        }

        if (ChildProcess.IsSignalExit(exitCode))
        {
            conditions.Add(CompletenessCondition.ShortStream);
            reasons.Add($"a signal ({exitCode - 128}) ended the command, so its output may stop mid-way");
        }

        if (BytesRead == 0)
        {
            conditions.Add(CompletenessCondition.EmptyStream);
            reasons.Add("the stream was empty");
        }
        else if (_endMarker is { Length: > 0 } marker && !EndsWithMarker(marker))
        {
            if (!conditions.Contains(CompletenessCondition.ShortStream))
            {
                conditions.Add(CompletenessCondition.ShortStream);
            }

            reasons.Add($"the end marker \"{marker}\" is not in the last {MarkerWindow} bytes, so the output stopped early");
        }

        var action = _policy.Decide(conditions);
        return new StreamVerdict(exitCode, BytesRead, conditions, reasons, action, _errorTail());
    }

    private void Remember(ReadOnlySpan<byte> data)
    {
        if (data.Length >= MarkerWindow)
        {
            data[^MarkerWindow..].CopyTo(_window);
            _windowLength = MarkerWindow;
            return;
        }

        int keep = Math.Min(_windowLength, MarkerWindow - data.Length);
        Buffer.BlockCopy(_window, _windowLength - keep, _window, 0, keep);
        data.CopyTo(_window.AsSpan(keep));
        _windowLength = keep + data.Length;
    }

    private bool EndsWithMarker(string marker) =>
        _window.AsSpan(0, _windowLength).IndexOf(Encoding.UTF8.GetBytes(marker)) >= 0;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>How a finished stream was judged.</summary>
internal sealed record StreamVerdict(int ExitCode, long Bytes, IReadOnlyList<CompletenessCondition> Conditions, IReadOnlyList<string> Reasons,
    CompletenessAction? Action, string ErrorTail)
{
    public string Describe() => Reasons.Count == 0 ? "complete" : string.Join("; ", Reasons);
}

/// <summary>Thrown into the engine in place of the end of a stream the policy rejects, so it writes no snapshot.</summary>
internal sealed class StreamRejectedException(StreamVerdict verdict) : Exception($"The stream was rejected: {verdict.Describe()}.")
{
    public StreamVerdict Verdict { get; } = verdict;
}
