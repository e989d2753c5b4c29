using KubeBackup.Restic.Checker;

namespace KubeBackup.Restic.Repository;

public sealed partial class ResticRepository
{
    /// <summary>
    /// Checks the repository as <c>restic check</c> does and reports exactly what is damaged: every index file decodes;
    /// every indexed pack exists with the size its entries add up to; every snapshot loads and every tree it reaches is
    /// indexed and decodes; every file's content is indexed; with <see cref="CheckOptions.ReadData"/> or
    /// <see cref="CheckOptions.ReadDataSubset"/>, packs hash to their names, blobs decrypt and hash to their IDs, and
    /// headers match the index. Errors name the pack, index or snapshot file and the blobs, and which snapshot paths
    /// lose data; findings restic treats as non-critical are <see cref="CheckResult.Hints"/>.
    /// </summary>
    /// <remarks>
    /// Takes a shared lock (restic 0.14 takes an exclusive one; check deletes nothing, so backups may run alongside,
    /// while prune and forget, which lock exclusively, are kept out). Reads the index files itself rather than through
    /// <see cref="LoadIndexAsync"/>, keeping every entry of every index (57 bytes per entry), so memory grows with
    /// the number of index entries; pack data is streamed, one buffer of the largest blob per pack being read.
    /// </remarks>
    /// <param name="options">What to check beyond the structure.</param>
    /// <param name="progress">Receives progress, at most about ten times a second.</param>
    /// <param name="cancellationToken">Stops the check.</param>
    /// <returns>The findings; <see cref="CheckResult.IsClean"/> is what restic's "no errors were found" means.</returns>
    /// <exception cref="RepositoryLockedException">Another process holds an exclusive lock.</exception>
    /// <exception cref="ArgumentException">The options contradict each other.</exception>
    /// <exception cref="Storage.StorageException">The storage cannot be listed (damage in files is reported, not thrown).</exception>
    public Task<CheckResult> CheckAsync(CheckOptions options, IProgress<CheckProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return new RepositoryChecker(this, options, progress).RunAsync(cancellationToken);
    }
}
