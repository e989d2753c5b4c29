using System.Security.Cryptography;
using KubeBackup.Kubernetes.Exec;
using KubeBackup.Restic.Archiver;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Repository;
using KubeBackup.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KubeBackup.Kubernetes.Streams;

/// <summary>A command whose stdout is backed up as one file (K8up's backup command, <c>pg_dumpall</c>).</summary>
public sealed class PodStreamBackupRequest
{
    /// <summary>The pod's namespace.</summary>
    public required string Namespace { get; init; }

    /// <summary>The pod.</summary>
    public required string Pod { get; init; }

    /// <summary>The container; null for the pod's first.</summary>
    public string? Container { get; init; }

    /// <summary>The argv (no shell unless you ask for one). Never put a secret here: argv is visible in audit logs and
    /// to every process in the container; let the container's own environment carry credentials.</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>The file's path in the snapshot, e.g. <c>/db-0-postgres.sql</c>.</summary>
    public required string FileName { get; init; }

    /// <summary>The host recorded in the snapshot (the target's backup host).</summary>
    public string? Hostname { get; init; }

    /// <summary>Extra tags of the snapshot.</summary>
    public IList<string> Tags { get; } = [];

    /// <summary>Time limit of the whole dump; null for none.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>After the snapshot is written, read the file back from the repository and compare its SHA-256 with what
    /// the command sent. Default true: a dump is only as good as its restore.</summary>
    public bool VerifyAfterWrite { get; init; } = true;

    /// <summary>Accept a command that wrote nothing (an empty dump is usually a broken one). Default false.</summary>
    public bool AllowEmpty { get; init; }
}

/// <summary>A dump that was backed up.</summary>
public sealed class PodStreamBackupResult
{
    /// <summary>The snapshot holding the dump.</summary>
    public required Snapshot Snapshot { get; init; }

    /// <summary>Bytes the command wrote and the repository holds.</summary>
    public required long Bytes { get; init; }

    /// <summary>SHA-256 (lower-case hex) of the bytes, also recorded as a snapshot tag.</summary>
    public required string Sha256 { get; init; }

    /// <summary>The command's result (stderr included).</summary>
    public required PodExecResult Command { get; init; }

    /// <summary>The engine's statistics.</summary>
    public required BackupResult Backup { get; init; }
}

/// <summary>A dump or a restore through a pod command failed; no snapshot was written (backup) or the restore is incomplete.</summary>
public sealed class PodStreamException : KubeBackupException
{
    /// <summary>Creates the exception.</summary>
    public PodStreamException(string message, PodExecResult? command = null, Exception? innerException = null) : base(message, innerException)
    {
        Command = command;
    }

    /// <summary>The command's result, if it ended.</summary>
    public PodExecResult? Command { get; }
}

/// <summary>A command that reads a file of a snapshot on its stdin (<c>psql</c>).</summary>
public sealed class PodStreamRestoreRequest
{
    /// <summary>The pod's namespace.</summary>
    public required string Namespace { get; init; }

    /// <summary>The pod.</summary>
    public required string Pod { get; init; }

    /// <summary>The container; null for the pod's first.</summary>
    public string? Container { get; init; }

    /// <summary>The argv.</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>Time limit; null for none.</summary>
    public TimeSpan? Timeout { get; init; }
}

/// <summary>
/// Streams a command's stdout in a pod straight into a repository, and a stored file back into a command's stdin.
/// The dump is never on disk. Every byte is counted and hashed as it arrives; the stream only ends normally when the
/// command exited with 0, so a killed or failed command, a broken connection or a short stream makes the engine write no
/// snapshot, and the caller gets the reason. Users of K8up lost data exactly there: truncated dumps stored as good ones.
/// </summary>
public sealed class PodStreamBackup
{
    /// <summary>Prefix of the tag that records the dump's SHA-256.</summary>
    public const string Sha256TagPrefix = "sha256=";

    private readonly IPodExecutor _executor;
    private readonly ILogger _logger;

    /// <summary>Creates the streamer.</summary>
    public PodStreamBackup(IPodExecutor executor, ILogger<PodStreamBackup>? logger = null)
    {
        _executor = executor ?? throw new ArgumentNullException(nameof(executor));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Runs the command and stores its stdout as one file in a new snapshot.</summary>
    /// <exception cref="PodStreamException">The command failed, was killed, or its output did not arrive whole; no snapshot exists.</exception>
    public async Task<PodStreamBackupResult> BackupAsync(ResticRepository repository, PodStreamBackupRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(request);
        var exec = new PodExecRequest
        {
            Namespace = request.Namespace, Pod = request.Pod, Container = request.Container, Command = request.Command,
            Stdout = ExecOutputMode.Stream, Timeout = request.Timeout,
        };
        var session = await _executor.StartAsync(exec, cancellationToken).ConfigureAwait(false);
        await using (session.ConfigureAwait(false))
        {
            var options = new StreamBackupOptions { FileName = request.FileName, Hostname = request.Hostname };
            foreach (var tag in request.Tags)
            {
                options.Tags.Add(tag);
            }

            using var stream = new CheckedStream(session, exec, options, request.AllowEmpty);
            BackupResult backup;
            try
            {
                backup = await repository.BackupStreamAsync(stream, options, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (TruncatedStreamException ex)
            {
                var result = session.Completion.IsCompletedSuccessfully ? session.Completion.Result : null;
                throw new PodStreamException(
                    $"The dump of {exec} was not stored: {stream.Failure ?? ex.Message} ({stream.Bytes} bytes had arrived; no snapshot was written).", result, ex);
            }

            var command = await session.WaitAsync(cancellationToken).ConfigureAwait(false);
            var snapshot = backup.Snapshot;
            if (backup.Summary.TotalBytesProcessed != (ulong)stream.Bytes)
            {
                await ForgetAsync(repository, snapshot).ConfigureAwait(false);
                throw new PodStreamException($"The repository took {backup.Summary.TotalBytesProcessed} bytes of {exec} but {stream.Bytes} arrived; the snapshot was removed.", command);
            }

            if (request.VerifyAfterWrite)
            {
                using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                await using (var sink = new HashingSink(sha))
                {
                    await repository.DumpAsync(snapshot, request.FileName, sink, cancellationToken).ConfigureAwait(false);
                    var stored = Convert.ToHexStringLower(sha.GetHashAndReset());
                    if (stored != stream.Sha256 || sink.Length != stream.Bytes)
                    {
                        await ForgetAsync(repository, snapshot).ConfigureAwait(false);
                        throw new PodStreamException($"Reading the dump of {exec} back from the repository gave other bytes than were sent; the snapshot was removed.", command);
                    }
                }
            }

            _logger.LogInformation("Dump of {Command} stored as snapshot {Snapshot}: {Bytes} bytes, sha256 {Sha}", exec.ToString(), snapshot.Id.ToShortString(), stream.Bytes, stream.Sha256);
            return new PodStreamBackupResult { Snapshot = snapshot, Bytes = stream.Bytes, Sha256 = stream.Sha256!, Command = command, Backup = backup };
        }
    }

    /// <summary>Streams a file of a snapshot into a command's stdin (needs the v5 exec protocol) and waits for the command.</summary>
    /// <exception cref="PodStreamException">The command failed or did not take the whole file.</exception>
    public async Task<PodExecResult> RestoreAsync(ResticRepository repository, Snapshot snapshot, string fileName, PodStreamRestoreRequest request,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(request);
        var node = await repository.FindNodeAsync(snapshot, fileName, cancellationToken).ConfigureAwait(false);
        var exec = new PodExecRequest
        {
            Namespace = request.Namespace, Pod = request.Pod, Container = request.Container, Command = request.Command,
            Stdin = true, Stdout = ExecOutputMode.Capture, Timeout = request.Timeout,
        };
        var session = await _executor.StartAsync(exec, cancellationToken).ConfigureAwait(false);
        await using (session.ConfigureAwait(false))
        {
            await using (var content = repository.OpenFile(node))
            {
                await session.CopyToStdinAsync(content, cancellationToken).ConfigureAwait(false);
            }

            var result = await session.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                throw new PodStreamException($"Restoring {fileName} into {exec} failed: {result.FailureReason}", result);
            }

            if (result.StdinBytes != (long)node.Size)
            {
                throw new PodStreamException($"{exec} ended after taking {result.StdinBytes} of {node.Size} bytes of {fileName}.", result);
            }

            return result;
        }
    }

    private async Task ForgetAsync(ResticRepository repository, Snapshot snapshot)
    {
        _logger.LogWarning("Removing snapshot {Snapshot}: its content does not match what was sent", snapshot.Id.ToShortString());
        await repository.Backend.RemoveAsync(new FileHandle(FileType.Snapshot, snapshot.Id.ToString()), CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// The command's stdout as the engine reads it: counted and hashed on the way, and ending normally only once the
    /// command has exited with 0. Any other ending is an <see cref="IOException"/>, which the engine turns into "no
    /// snapshot". The checksum tag is added just before the end is reported, when it is known.
    /// </summary>
    private sealed class CheckedStream : Stream
    {
        private readonly PodExecSession _session;
        private readonly PodExecRequest _request;
        private readonly StreamBackupOptions _options;
        private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        private readonly bool _allowEmpty;

        public CheckedStream(PodExecSession session, PodExecRequest request, StreamBackupOptions options, bool allowEmpty)
        {
            _session = session;
            _request = request;
            _options = options;
            _allowEmpty = allowEmpty;
        }

        public long Bytes { get; private set; }

        public string? Sha256 { get; private set; }

        public string? Failure { get; private set; }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Bytes; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int n = await _session.StandardOutput!.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (n > 0)
            {
                _sha.AppendData(buffer.Span[..n]);
                Bytes += n;
                return n;
            }

            var result = await _session.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                Failure = result.FailureReason;
                throw new IOException(result.FailureReason);
            }

            if (Bytes == 0 && !_allowEmpty)
            {
                Failure = $"{_request} exited with 0 but wrote nothing";
                throw new IOException(Failure);
            }

            if (result.StdoutBytes != Bytes)
            {
                Failure = $"{result.StdoutBytes} bytes arrived on the connection but {Bytes} reached the repository";
                throw new IOException(Failure);
            }

            Sha256 ??= Convert.ToHexStringLower(_sha.GetHashAndReset());
            if (!_options.Tags.Contains(Sha256TagPrefix + Sha256))
            {
                _options.Tags.Add(Sha256TagPrefix + Sha256);
            }

            return 0;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _sha.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private sealed class HashingSink : Stream
    {
        private readonly IncrementalHash _sha;

        public HashingSink(IncrementalHash sha) => _sha = sha;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Position;
        public override long Position { get; set; }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _sha.AppendData(buffer);
            Position += buffer.Length;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }
    }
}
