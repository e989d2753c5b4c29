using System.ComponentModel;
using System.Security.Cryptography;
using KubeBackup.Hooks;
using KubeBackup.Restic.Restorer;
using KubeBackup.Sessions;

namespace KubeBackup.Functions;

/// <summary>Parameters of <c>restore</c>.</summary>
internal sealed record RestoreParameters(string Into, string? Snapshot, IReadOnlyList<string> Include, IReadOnlyList<string> Exclude, bool AllowPartial);

/// <summary>
/// <c>restore</c>: restores a snapshot of the target into a folder. Parameters: <c>into</c> (required), <c>snapshot</c>
/// (default: the session's, normally <c>latest</c>), <c>include</c>/<c>exclude</c> patterns, <c>allowPartial</c> (let
/// <c>latest</c> pick a snapshot tagged partial; default false: a restore takes the newest complete one).
/// </summary>
internal sealed class RestoreFunction : BackupFunction<RestoreParameters>
{
    protected override RestoreParameters BindParameters(FunctionParameters p) => new(
        p.GetString("into"), p.GetOptionalString("snapshot"), p.GetStringList("include"), p.GetStringList("exclude"), p.GetBoolean("allowPartial", false));

    protected override async Task RunAsync(FunctionContext context, RestoreParameters parameters, CancellationToken cancellationToken)
    {
        var repository = await context.GetRepositoryAsync(cancellationToken).ConfigureAwait(false);
        var snapshot = await SnapshotOperations.FindAsync(repository, parameters.Snapshot ?? context.SnapshotSelector, context.Target.SnapshotHost, null,
            parameters.AllowPartial, context.Completeness.PartialTag, cancellationToken).ConfigureAwait(false);
        var options = new RestoreOptions { Target = parameters.Into };
        foreach (var p in parameters.Include)
        {
            options.Includes.Add(p);
        }

        foreach (var p in parameters.Exclude)
        {
            options.Excludes.Add(p);
        }

        var result = await repository.RestoreAsync(snapshot, options, null, cancellationToken).ConfigureAwait(false);
        var s = context.Result.Statistics;
        s.FilesProcessed += result.Files;
        s.BytesProcessed += result.Bytes;
        s.Duration += result.Duration;
        context.Result.SnapshotList.Add(new SnapshotRecord(snapshot.Id, context.StepName, [.. snapshot.Paths], [.. snapshot.Tags ?? []],
            snapshot.Tags?.Contains(context.Completeness.PartialTag) == true));
        if (!result.IsComplete)
        {
            throw new InvalidOperationException($"{result.Errors.Count} items could not be restored (first: {result.Errors[0].Path}: {result.Errors[0].Message})");
        }
    }
}

/// <summary>Parameters of <c>stream-restore</c>.</summary>
internal sealed record StreamRestoreParameters(IReadOnlyList<string> Command, string? FileName, string? Snapshot, bool AllowPartial,
    IReadOnlyDictionary<string, string> Environment, string? WorkingDirectory);

/// <summary>
/// <c>stream-restore</c>: the counterpart of <c>stream-backup</c>: writes a file of a snapshot into a command's
/// standard input (for example <c>psql</c>), counted and hashed. Parameters: <c>command</c> (list, required),
/// <c>fileName</c> (default: the snapshot's only path), <c>snapshot</c>, <c>allowPartial</c>, <c>environment</c>,
/// <c>workingDirectory</c>. A non-zero exit fails the step.
/// </summary>
internal sealed class StreamRestoreFunction : BackupFunction<StreamRestoreParameters>
{
    protected override StreamRestoreParameters BindParameters(FunctionParameters p) => new(
        p.GetStringList("command", required: true), p.GetOptionalString("fileName"), p.GetOptionalString("snapshot"), p.GetBoolean("allowPartial", false),
        p.GetStringMap("environment"), p.GetOptionalString("workingDirectory"));

    protected override async Task RunAsync(FunctionContext context, StreamRestoreParameters parameters, CancellationToken cancellationToken)
    {
        var repository = await context.GetRepositoryAsync(cancellationToken).ConfigureAwait(false);
        string? path = parameters.FileName is { Length: > 0 } f ? "/" + f.TrimStart('/') : null;
        var snapshot = await SnapshotOperations.FindAsync(repository, parameters.Snapshot ?? context.SnapshotSelector, context.Target.SnapshotHost, path,
            parameters.AllowPartial, context.Completeness.PartialTag, cancellationToken).ConfigureAwait(false);
        path ??= snapshot.Paths.Count == 1 ? snapshot.Paths[0]
            : throw new InvalidOperationException($"snapshot {snapshot.Id.ToShortString()} has {snapshot.Paths.Count} paths: say which with fileName");

        System.Diagnostics.Process process;
        try
        {
            process = ChildProcess.Start(parameters.Command, parameters.Environment, parameters.WorkingDirectory);
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException($"cannot start {parameters.Command[0]}: {ex.Message}", ex);
        }

        using (process)
        {
            var tail = new OutputTail();
            var pumps = Task.WhenAll(tail.PumpAsync(process.StandardOutput), tail.PumpAsync(process.StandardError));
            using var hashing = new HashingWriteStream(process.StandardInput.BaseStream);
            try
            {
                await repository.DumpAsync(snapshot, path, hashing, cancellationToken).ConfigureAwait(false);
                await hashing.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                // The command stopped reading (it failed early): its exit code and output say why.
                context.Logger.LogDebugStreamClosed(ex.Message);
            }
            catch
            {
                ChildProcess.KillTree(process);
                throw;
            }
            finally
            {
                try
                {
                    process.StandardInput.Close();
                }
                catch (IOException)
                {
                }
            }

            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            await pumps.ConfigureAwait(false);
            context.RecordStream(new StreamRecord(context.StepName, path, hashing.Bytes, hashing.Sha256(), process.ExitCode, [], tail.ToString()));
            context.Result.SnapshotList.Add(new SnapshotRecord(snapshot.Id, context.StepName, [.. snapshot.Paths], [.. snapshot.Tags ?? []],
                snapshot.Tags?.Contains(context.Completeness.PartialTag) == true));
            context.Result.Statistics.FilesProcessed++;
            context.Result.Statistics.BytesProcessed += hashing.Bytes;
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"{parameters.Command[0]} exited with code {process.ExitCode}");
            }
        }
    }
}

/// <summary>Passes writes through while counting and hashing them.</summary>
internal sealed class HashingWriteStream(Stream inner) : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public long Bytes { get; private set; }

    public string Sha256() => Convert.ToHexStringLower(_hash.GetCurrentHash());

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => Bytes;

    public override long Position { get => Bytes; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        inner.Write(buffer);
        _hash.AppendData(buffer);
        Bytes += buffer.Length;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        _hash.AppendData(buffer.Span);
        Bytes += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }
}

internal static partial class FunctionLog
{
    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Debug, Message = "The restore command closed its input early: {Reason}")]
    public static partial void LogDebugStreamClosed(this Microsoft.Extensions.Logging.ILogger logger, string reason);
}
