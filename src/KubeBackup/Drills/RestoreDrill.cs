using KubeBackup.Restic;
using KubeBackup.Restic.Model;

namespace KubeBackup.Drills;

/// <summary>The verdict of a restore drill: the latest snapshot was restored into a scratch place and a probe judged
/// what came back.</summary>
/// <param name="Time">When the probe finished.</param>
/// <param name="Verified">Whether the probe passed.</param>
/// <param name="Snapshot">The snapshot restored.</param>
/// <param name="Duration">Restore and probe together.</param>
/// <param name="Files">Files restored.</param>
/// <param name="Bytes">Bytes restored.</param>
/// <param name="ExitCode">A command probe's exit code.</param>
/// <param name="Detail">What the probe said (a command's output tail, or a delegate's message).</param>
public sealed record RestoreVerification(DateTimeOffset Time, bool Verified, ResticId Snapshot, TimeSpan Duration, long Files, long Bytes, int? ExitCode, string Detail);

/// <summary>Judges a restored snapshot, in .NET (a command probe is the other kind).</summary>
public interface IRestoreProbe
{
    /// <summary>Looks at what was restored and says whether it is good.</summary>
    Task<ProbeResult> ProbeAsync(RestoreProbeContext context, CancellationToken cancellationToken);
}

/// <summary>What a probe sees.</summary>
/// <param name="RestoredPath">The scratch folder holding the restored snapshot.</param>
/// <param name="Snapshot">The snapshot.</param>
/// <param name="TargetName">The target.</param>
public sealed record RestoreProbeContext(string RestoredPath, Snapshot Snapshot, string TargetName);

/// <summary>A probe's verdict.</summary>
/// <param name="Passed">Whether the restored data is good.</param>
/// <param name="Detail">Why.</param>
public sealed record ProbeResult(bool Passed, string Detail);

/// <summary>A probe from a delegate.</summary>
/// <param name="probe">The check.</param>
public sealed class DelegateRestoreProbe(Func<RestoreProbeContext, CancellationToken, Task<ProbeResult>> probe) : IRestoreProbe
{
    /// <inheritdoc />
    public Task<ProbeResult> ProbeAsync(RestoreProbeContext context, CancellationToken cancellationToken) => probe(context, cancellationToken);
}

/// <summary>Probes by name, for the <c>probe</c> parameter of <c>restore-drill</c>.</summary>
public sealed class RestoreProbeRegistry
{
    private readonly Dictionary<string, IRestoreProbe> _probes = new(StringComparer.Ordinal);

    /// <summary>Adds (or replaces) a probe.</summary>
    public RestoreProbeRegistry Register(string name, IRestoreProbe probe)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(probe);
        _probes[name] = probe;
        return this;
    }

    /// <summary>Adds a probe from a delegate.</summary>
    public RestoreProbeRegistry Register(string name, Func<RestoreProbeContext, CancellationToken, Task<ProbeResult>> probe) =>
        Register(name, new DelegateRestoreProbe(probe));

    /// <summary>The registered names.</summary>
    public IReadOnlyCollection<string> Names => _probes.Keys;

    /// <summary>Finds a probe.</summary>
    public bool TryGet(string name, out IRestoreProbe probe) => _probes.TryGetValue(name, out probe!);
}
