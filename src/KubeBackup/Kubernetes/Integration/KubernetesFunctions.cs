using KubeBackup.Functions;
using KubeBackup.Kubernetes.Agentless;
using KubeBackup.Kubernetes.Snapshots;
using KubeBackup.Kubernetes.Streams;
using KubeBackup.Kubernetes.Targets;
using KubeBackup.Restic.Archiver;
using KubeBackup.Sessions;

namespace KubeBackup.Kubernetes.Integration;

/// <summary>Names under which the Kubernetes functions are registered.</summary>
public static class KubernetesFunctionNames
{
    /// <summary>A command's stdout in each pod of the target, straight into the repository.</summary>
    public const string PodStreamBackup = "pod-stream-backup";

    /// <summary>A snapshot file streamed into a command's stdin in the target's pod.</summary>
    public const string PodStreamRestore = "pod-stream-restore";

    /// <summary>Folders of the target's pods, by tar over exec.</summary>
    public const string PodFileBackup = "pod-file-backup";

    /// <summary>CSI VolumeSnapshots of the target's claims.</summary>
    public const string VolumeSnapshot = "volume-snapshot";
}

internal static class TargetOf
{
    public static async Task<ResolvedTarget> ResolveAsync(FunctionContext context, ITargetResolver resolver, string? container, CancellationToken ct)
    {
        var reference = KubernetesTargetRegistry.ToTargetRef(context.Configuration, context.Target)
            ?? throw new InvalidOperationException($"target {context.Target.Name} has kind '{context.Target.Kind}', not a Kubernetes kind (Deployment, StatefulSet, DaemonSet, Pod, PersistentVolumeClaim)");
        var options = new TargetResolveOptions { Container = container };
        foreach (var p in context.Target.Paths)
        {
            options.Paths.Add(p);
        }

        return await resolver.ResolveAsync(reference, options, ct).ConfigureAwait(false);
    }
}

/// <summary>Parameters of <c>pod-stream-backup</c>.</summary>
internal sealed record PodStreamBackupParameters(IReadOnlyList<string> Command, string? Container, string? FileName, IReadOnlyList<string> Tags, TimeSpan? Timeout);

/// <summary>
/// <c>pod-stream-backup</c>: in every pod of the target (each replica of a StatefulSet is its own host), runs
/// <c>command</c> in <c>container</c> and stores its stdout as <c>fileName</c> (default <c>/HOST-CONTAINER.dump</c>,
/// K8up's naming). A failed, killed or cut-off command writes no snapshot and fails the step with its reason.
/// </summary>
internal sealed class PodStreamBackupFunction(PodStreamBackup streamer, ITargetResolver resolver) : BackupFunction<PodStreamBackupParameters>
{
    protected override PodStreamBackupParameters BindParameters(FunctionParameters p) => new(
        p.GetStringList("command", required: true), p.GetOptionalString("container"), p.GetOptionalString("fileName"), p.GetStringList("tags"), p.GetDuration("timeout"));

    protected override async Task RunAsync(FunctionContext context, PodStreamBackupParameters parameters, CancellationToken cancellationToken)
    {
        var repository = await context.GetRepositoryAsync(cancellationToken).ConfigureAwait(false);
        var target = await TargetOf.ResolveAsync(context, resolver, parameters.Container, cancellationToken).ConfigureAwait(false);
        foreach (var pod in target.Pods)
        {
            string fileName = parameters.FileName ?? $"/{pod.BackupHost}-{pod.Container}.dump";
            var request = new PodStreamBackupRequest
            {
                Namespace = pod.Namespace, Pod = pod.Name, Container = pod.Container, Command = parameters.Command, FileName = fileName,
                Hostname = target.Pods.Count > 1 ? pod.BackupHost : context.Target.SnapshotHost, Timeout = parameters.Timeout,
                AllowEmpty = context.Completeness.EmptyStream != CompletenessAction.Fail,
            };
            foreach (var tag in context.Target.Tags.Concat(parameters.Tags))
            {
                request.Tags.Add(tag);
            }

            var result = await streamer.BackupAsync(repository, request, cancellationToken).ConfigureAwait(false);
            context.RecordBackup(result.Backup, result.Snapshot);
            context.RecordStream(new StreamRecord(context.StepName, "/" + fileName.TrimStart('/'), result.Bytes, result.Sha256, result.Command.ExitCode, [], result.Command.StderrText));
        }
    }
}

/// <summary>Parameters of <c>pod-stream-restore</c>.</summary>
internal sealed record PodStreamRestoreParameters(IReadOnlyList<string> Command, string? Container, string? FileName, TimeSpan? Timeout);

/// <summary><c>pod-stream-restore</c>: streams the session's snapshot file (<c>fileName</c>, default the one stream the
/// snapshot holds) into <c>command</c>'s stdin in the target's first pod (exec v5).</summary>
internal sealed class PodStreamRestoreFunction(PodStreamBackup streamer, ITargetResolver resolver) : BackupFunction<PodStreamRestoreParameters>
{
    protected override PodStreamRestoreParameters BindParameters(FunctionParameters p) => new(
        p.GetStringList("command", required: true), p.GetOptionalString("container"), p.GetOptionalString("fileName"), p.GetDuration("timeout"));

    protected override async Task RunAsync(FunctionContext context, PodStreamRestoreParameters parameters, CancellationToken cancellationToken)
    {
        var repository = await context.GetRepositoryAsync(cancellationToken).ConfigureAwait(false);
        var snapshot = await repository.FindSnapshotAsync(context.SnapshotSelector, new Restic.Snapshots.SnapshotFilter { Hosts = { context.Target.SnapshotHost } }, cancellationToken).ConfigureAwait(false);
        string fileName = parameters.FileName ?? snapshot.Paths.Single();
        var target = await TargetOf.ResolveAsync(context, resolver, parameters.Container, cancellationToken).ConfigureAwait(false);
        var pod = target.Pods.FirstOrDefault() ?? throw new InvalidOperationException($"target {context.Target.Name} has no running pod to restore into");
        await streamer.RestoreAsync(repository, snapshot, fileName, new PodStreamRestoreRequest
        {
            Namespace = pod.Namespace, Pod = pod.Name, Container = pod.Container, Command = parameters.Command, Timeout = parameters.Timeout,
        }, cancellationToken).ConfigureAwait(false);
        context.RecordSnapshot(snapshot);
    }
}

/// <summary>Parameters of <c>pod-file-backup</c>.</summary>
internal sealed record PodFileBackupParameters(string? Container, IReadOnlyList<string> Paths, IReadOnlyList<string> Tags, TimeSpan? Timeout);

/// <summary><c>pod-file-backup</c>: backs up the target's paths (or <c>paths</c>) in every pod of the target by tar over
/// exec, incrementally against the host's last snapshot. No agent in the pod.</summary>
internal sealed class PodFileBackupFunction(AgentlessFileBackup backup, ITargetResolver resolver) : BackupFunction<PodFileBackupParameters>
{
    protected override PodFileBackupParameters BindParameters(FunctionParameters p) => new(
        p.GetOptionalString("container"), p.GetStringList("paths"), p.GetStringList("tags"), p.GetDuration("timeout"));

    protected override async Task RunAsync(FunctionContext context, PodFileBackupParameters parameters, CancellationToken cancellationToken)
    {
        var repository = await context.GetRepositoryAsync(cancellationToken).ConfigureAwait(false);
        var paths = parameters.Paths.Count > 0 ? parameters.Paths : context.Target.Paths;
        if (paths.Count == 0)
        {
            throw new InvalidOperationException($"target {context.Target.Name} names no paths to back up");
        }

        var target = await TargetOf.ResolveAsync(context, resolver, parameters.Container, cancellationToken).ConfigureAwait(false);
        foreach (var pod in target.Pods)
        {
            foreach (var path in paths)
            {
                var request = new AgentlessBackupRequest
                {
                    Namespace = pod.Namespace, Pod = pod.Name, Container = pod.Container, Path = path, Timeout = parameters.Timeout,
                    Hostname = target.Pods.Count > 1 ? pod.BackupHost : context.Target.SnapshotHost,
                };
                foreach (var tag in context.Target.Tags.Concat(parameters.Tags))
                {
                    request.Tags.Add(tag);
                }

                var result = await backup.BackupAsync(repository, request, cancellationToken).ConfigureAwait(false);
                context.RecordBackup(new BackupResult
                {
                    Snapshot = result.Snapshot,
                    Summary = result.Snapshot.Summary!,
                    Errors = result.Skipped.Select(s => new BackupError(s, "vanished while it was read")).ToList(),
                    Parent = result.Parent,
                }, result.Snapshot);
            }
        }
    }
}

/// <summary>Parameters of <c>volume-snapshot</c>.</summary>
internal sealed record VolumeSnapshotParameters(string? SnapshotClass, TimeSpan ReadyTimeout);

/// <summary><c>volume-snapshot</c>: CSI VolumeSnapshots of all the target's claims, labelled with the session; the
/// session's pre and post hooks bracket them all. Fails with the controller's error or on timeout.</summary>
internal sealed class VolumeSnapshotFunction(CsiSnapshotDriver driver) : BackupFunction<VolumeSnapshotParameters>
{
    protected override VolumeSnapshotParameters BindParameters(FunctionParameters p) => new(
        p.GetOptionalString("snapshotClass"), p.GetDuration("readyTimeout", TimeSpan.FromMinutes(10))!.Value);

    protected override async Task RunAsync(FunctionContext context, VolumeSnapshotParameters parameters, CancellationToken cancellationToken)
    {
        var reference = KubernetesTargetRegistry.ToTargetRef(context.Configuration, context.Target)
            ?? throw new InvalidOperationException($"target {context.Target.Name} is not a Kubernetes object");
        string session = context.SessionId.ToLowerInvariant();
        var result = await driver.SnapshotAsync(reference, new VolumeSnapshotRequest
        {
            SessionName = session.Length > 40 ? session[^40..] : session, SnapshotClassName = parameters.SnapshotClass, ReadyTimeout = parameters.ReadyTimeout,
        }, cancellationToken).ConfigureAwait(false);
        foreach (var s in result.Snapshots)
        {
            context.AddWarning($"VolumeSnapshot {s.Namespace}/{s.Name} of claim {s.ClaimName} is ready ({s.RestoreSize})");
        }
    }
}
