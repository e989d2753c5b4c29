using KubeBackup.Restic.Chunking;
using KubeBackup.Restic.Crypto;
using KubeBackup.Restic.Repository;
using KubeBackup.Storage.Local;

namespace KubeBackup.Tests.Support;

/// <summary>Repositories for tests: a temp folder, a cheap key derivation (restic accepts any scrypt parameters), a
/// known password.</summary>
public static class TestRepository
{
    public const string Password = "correct horse battery staple";

    /// <summary>Cheap but valid scrypt parameters so tests do not spend half a second per key.</summary>
    public static readonly ScryptParameters FastKdf = new(1024, 8, 1);

    public static ResticRepositoryOptions Options(int? packSize = null) => new()
    {
        Hostname = "kb-test-host",
        Username = "kb-test",
        PackSize = packSize ?? 4 * 1024 * 1024,
    };

    /// <summary>restic's own test polynomial (irreducible, degree 53), for tests whose chunk boundaries must not
    /// depend on the random polynomial a new repository gets.</summary>
    public static readonly ChunkerPolynomial FixedPolynomial = new(0x3DA3358B4DC173);

    public static Task<ResticRepository> InitAsync(string path, int version = 2, ResticRepositoryOptions? options = null, ChunkerPolynomial? polynomial = null) =>
        ResticRepository.InitAsync(new LocalBackend(new LocalBackendOptions { Path = path, Durable = false }), Password,
            new RepositoryInitOptions { Version = version, KeyDerivation = FastKdf, ChunkerPolynomial = polynomial }, options ?? Options());

    public static Task<ResticRepository> OpenAsync(string path, ResticRepositoryOptions? options = null, string password = Password) =>
        ResticRepository.OpenAsync(new LocalBackend(new LocalBackendOptions { Path = path, Durable = false }), password, options ?? Options());

    /// <summary>Every file under a folder with its content, to prove that an operation wrote nothing.</summary>
    public static SortedDictionary<string, string> Listing(string root)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            result[Path.GetRelativePath(root, f)] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)));
        }

        return result;
    }
}
