using KubeBackup.Restic.Repository;
using KubeBackup.Storage.Local;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Restic.Repository;

public class RepositoryTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Init_then_open_gives_the_same_config(int version)
    {
        using var dir = new TempDirectory();
        var repoPath = dir.Combine("repo");
        ResticRepository created;
        await using (created = await TestRepository.InitAsync(repoPath, version))
        {
            Assert.Equal((uint)version, created.Config.Version);
            Assert.True(created.Config.ChunkerPolynomial.IsIrreducible);
        }

        await using var opened = await TestRepository.OpenAsync(repoPath);
        Assert.Equal(created.Config.Id, opened.Config.Id);
        Assert.Equal(created.Config.ChunkerPolynomial, opened.Config.ChunkerPolynomial);
        Assert.Equal((uint)version, opened.Config.Version);
        Assert.Equal(256, Directory.GetDirectories(Path.Combine(repoPath, "data")).Length);
    }

    [Fact]
    public async Task Wrong_password_raises_WrongPasswordException_and_writes_nothing()
    {
        using var dir = new TempDirectory();
        var repoPath = dir.Combine("repo");
        await (await TestRepository.InitAsync(repoPath)).DisposeAsync();
        var before = TestRepository.Listing(repoPath);

        var ex = await Assert.ThrowsAsync<WrongPasswordException>(() => TestRepository.OpenAsync(repoPath, password: "not the password"));
        Assert.DoesNotContain("not the password", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, TestRepository.Listing(repoPath));
    }

    [Fact]
    public async Task Opening_an_empty_folder_raises_RepositoryNotFoundException()
    {
        using var dir = new TempDirectory();
        await Assert.ThrowsAsync<RepositoryNotFoundException>(() => TestRepository.OpenAsync(dir.Path));
    }

    [Fact]
    public async Task Init_refuses_a_location_that_holds_a_repository()
    {
        using var dir = new TempDirectory();
        var repoPath = dir.Combine("repo");
        await (await TestRepository.InitAsync(repoPath)).DisposeAsync();
        var before = TestRepository.Listing(repoPath);
        await Assert.ThrowsAsync<RepositoryException>(() => TestRepository.InitAsync(repoPath));
        Assert.Equal(before, TestRepository.Listing(repoPath));
    }

    [Fact]
    public async Task Repository_we_initialise_opens_with_the_real_restic()
    {
        using var dir = new TempDirectory();
        var repoPath = dir.Combine("repo");
        await (await TestRepository.InitAsync(repoPath)).DisposeAsync();
        var restic = new ResticCli(repoPath, TestRepository.Password);
        var output = await restic.RunCheckedAsync("check");
        Assert.Contains("no errors were found", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Repository_restic_initialises_opens_with_us_and_calibrated_keys_open_too()
    {
        using var dir = new TempDirectory();
        var repoPath = dir.Combine("repo");
        var restic = new ResticCli(repoPath, TestRepository.Password);
        await restic.RunCheckedAsync("init");
        await using var repo = await TestRepository.OpenAsync(repoPath);
        Assert.Equal(2u, repo.Config.Version);
        await Assert.ThrowsAsync<WrongPasswordException>(() => TestRepository.OpenAsync(repoPath, password: "nope"));
    }

    [Fact]
    public async Task Local_backend_leaves_no_temporary_files_and_makes_files_read_only()
    {
        using var dir = new TempDirectory();
        var repoPath = dir.Combine("repo");
        await (await TestRepository.InitAsync(repoPath)).DisposeAsync();
        foreach (var f in Directory.EnumerateFiles(repoPath, "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain("-tmp-", f, StringComparison.Ordinal);
            Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(f));
        }

        var backend = new LocalBackend(repoPath);
        var keys = new List<KubeBackup.Storage.StorageFileInfo>();
        await foreach (var k in backend.ListAsync(KubeBackup.Storage.FileType.Key))
        {
            keys.Add(k);
        }

        Assert.Single(keys);
    }
}
