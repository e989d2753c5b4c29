using KubeBackup.Restic.Crypto;
using KubeBackup.Restic.Repository;
using KubeBackup.Storage.Local;

namespace KubeBackup.Kubernetes.Tests.Support;

/// <summary>Repositories for tests: a cheap (valid) key derivation and a known password.</summary>
public static class TestRepositories
{
    public const string Password = "correct horse battery staple";

    public static Task<ResticRepository> InitAsync(string path) =>
        ResticRepository.InitAsync(new LocalBackend(new LocalBackendOptions { Path = path, Durable = false }), Password,
            new RepositoryInitOptions { KeyDerivation = new ScryptParameters(1024, 8, 1) },
            new ResticRepositoryOptions { Hostname = "kbk-test", Username = "kbk", PackSize = 4 * 1024 * 1024 });

    public static Task<ResticRepository> OpenAsync(string path) =>
        ResticRepository.OpenAsync(new LocalBackend(new LocalBackendOptions { Path = path, Durable = false }), Password,
            new ResticRepositoryOptions { Hostname = "kbk-test", Username = "kbk", PackSize = 4 * 1024 * 1024 });
}
