using Xunit.Abstractions;
using KubeBackup.Restic.Archiver;
using KubeBackup.Tests.Support;
namespace KubeBackup.Tests;
public class ScratchDebug(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(3)] [InlineData(4)] [InlineData(5)] [InlineData(6)]
    public async Task Debug(int n)
    {
        using var dir = new TempDirectory();
        var source = dir.Combine("src");
        SimpleTree.Create(source, seed: n);
        await using var repo = await TestRepository.InitAsync(dir.Combine("repo"));
        var options = new BackupOptions();
        options.Paths.Add(source);
        var first = await repo.BackupAsync(options);
        var second = await repo.BackupAsync(options);
        var a = new Dictionary<string, KubeBackup.Restic.Model.Node>();
        await foreach (var e in repo.ListFilesAsync(first.Snapshot)) a[e.Path] = e.Node;
        await foreach (var e in repo.ListFilesAsync(second.Snapshot))
        {
            var p = a[e.Path];
            if (p.Type == KubeBackup.Restic.Model.NodeType.File && (p.ModTime != e.Node.ModTime || p.ChangeTime != e.Node.ChangeTime || p.Size != e.Node.Size || p.Inode != e.Node.Inode || (p.Content?.Count ?? -1) != (e.Node.Content?.Count ?? -1)))
                output.WriteLine($"{e.Path} {p.ModTime} {e.Node.ModTime} {p.ChangeTime} {e.Node.ChangeTime} {p.Size} {e.Node.Size} {p.Content?.Count} {e.Node.Content?.Count}");
        }
        output.WriteLine($"{second.Summary.FilesNew} {second.Summary.FilesChanged}");
        Assert.Equal(0ul, second.Summary.FilesNew + second.Summary.FilesChanged);
    }
}
