using KubeBackup.Restic.Archiver;
using KubeBackup.Restic.Crypto;
using KubeBackup.Restic.Model;
using KubeBackup.Restic.Repository;
using KubeBackup.Restic.Restorer;
using KubeBackup.Testing;

namespace KubeBackup.Storage.Tests.Support;

/// <summary>Drives the engine in tests: cheap keys, small packs, backup and restore with comparison.</summary>
public static class Engine
{
    public const string Password = "correct horse battery staple";

    /// <summary>Cheap but valid scrypt parameters (restic accepts any).</summary>
    public static readonly ScryptParameters FastKdf = new(1024, 8, 1);

    public static ResticRepositoryOptions Options() => new()
    {
        Hostname = "kb-test-host",
        Username = "kb-test",
        PackSize = 4 * 1024 * 1024,
    };

    public static Task<ResticRepository> InitAsync(IBackend backend) =>
        ResticRepository.InitAsync(backend, Password, new RepositoryInitOptions { KeyDerivation = FastKdf }, Options());

    public static Task<ResticRepository> OpenAsync(IBackend backend) => ResticRepository.OpenAsync(backend, Password, Options());

    public static async Task<BackupResult> BackupAsync(ResticRepository repository, string path)
    {
        var options = new BackupOptions();
        options.Paths.Add(path);
        var result = await repository.BackupAsync(options);
        Assert.True(result.IsComplete, string.Join("\n", result.Errors));
        return result;
    }

    /// <summary>Restores a snapshot into a fresh folder and asserts it matches <paramref name="source"/> as described before the backup.</summary>
    public static async Task RestoreAndCompareAsync(ResticRepository repository, Snapshot snapshot, string source, SortedDictionary<string, string> expected, string target)
    {
        var restore = await repository.RestoreAsync(snapshot, new RestoreOptions { Target = target });
        Assert.True(restore.IsComplete, string.Join("\n", restore.Errors));
        Assert.Equal(expected, SimpleTree.Describe(target + source));
    }

    /// <summary>Changes a tree made by <see cref="SimpleTree.Create"/>: one file rewritten, one added, one removed.</summary>
    public static void Modify(string root, int seed)
    {
        var rng = new Random(seed);
        var changed = new byte[70_000];
        rng.NextBytes(changed);
        File.WriteAllBytes(Path.Combine(root, "docs", "file-000.dat"), changed);
        File.WriteAllBytes(Path.Combine(root, "added.bin"), changed[..5000]);
        File.Delete(Path.Combine(root, "docs", "nested", "file-001.dat"));
    }
}
