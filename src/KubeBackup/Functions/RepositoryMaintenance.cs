using KubeBackup.Configuration;
using KubeBackup.Restic;
using KubeBackup.Restic.Repository;

namespace KubeBackup.Functions;

/// <summary>
/// Applies a retention policy to one target's snapshots. The <c>retention-apply</c> function talks to this seam rather
/// than to <c>ResticRepository.ForgetAsync</c> directly because the retention engine lands separately; until it is
/// bound, <see cref="UnboundRetentionRunner"/> fails the step with NotSupportedException.
/// </summary>
internal interface IRetentionRunner
{
    /// <summary>Decides and (unless a dry run) removes snapshots of <paramref name="scope"/>'s host that carry none of
    /// its excluded tags.</summary>
    Task<RetentionRunResult> ApplyAsync(ResticRepository repository, RetentionSpec policy, RetentionScope scope, CancellationToken cancellationToken);
}

/// <summary>Which snapshots a retention run judges.</summary>
/// <param name="Host">Only snapshots of this host.</param>
/// <param name="ExcludedTags">Snapshots with any of these tags are neither kept nor removed by the policy.</param>
/// <param name="DryRun">Decide only.</param>
internal sealed record RetentionScope(string Host, IReadOnlyList<string> ExcludedTags, bool DryRun);

/// <summary>What a retention run removed and kept.</summary>
internal sealed record RetentionRunResult(IReadOnlyList<ResticId> Removed, IReadOnlyList<ResticId> Kept);

/// <summary>Checks a repository's integrity (restic's <c>check</c>), behind a seam for the same reason.</summary>
internal interface IRepositoryChecker
{
    Task<RepositoryCheckOutcome> CheckAsync(ResticRepository repository, bool readData, string? readDataSubset, CancellationToken cancellationToken);
}

/// <summary>A check's verdict.</summary>
internal sealed record RepositoryCheckOutcome(bool Ok, IReadOnlyList<string> Errors, IReadOnlyList<string> Hints);

/// <summary>Stands in until the retention engine (ResticRepository.ForgetAsync) is merged.</summary>
internal sealed class UnboundRetentionRunner : IRetentionRunner
{
    public Task<RetentionRunResult> ApplyAsync(ResticRepository repository, RetentionSpec policy, RetentionScope scope, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Retention is not available in this build: ResticRepository.ForgetAsync has not been merged yet.");
}

/// <summary>Stands in until the checker (ResticRepository.CheckAsync) is merged.</summary>
internal sealed class UnboundRepositoryChecker : IRepositoryChecker
{
    public Task<RepositoryCheckOutcome> CheckAsync(ResticRepository repository, bool readData, string? readDataSubset, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Checking is not available in this build: ResticRepository.CheckAsync has not been merged yet.");
}
