using System.Security.Cryptography;
using k8s.Models;
using KubeBackup.Kubernetes.Agentless;
using KubeBackup.Kubernetes.Exec;
using KubeBackup.Kubernetes.Tests.Support;

namespace KubeBackup.Kubernetes.Tests.Agentless;

public sealed class AgentlessFileBackupTests
{
    private static async Task<(TestCluster Cluster, string Data, string Restore)> StartAsync()
    {
        var cluster = await TestCluster.StartAsync();
        await cluster.CreatePodAsync("app", configure: p =>
        {
            p.Spec.Containers[0].VolumeMounts = [new V1VolumeMount { Name = "data", MountPath = "/data" }, new V1VolumeMount { Name = "restore", MountPath = "/restore" }];
            p.Spec.Volumes = [new V1Volume { Name = "data", EmptyDir = new V1EmptyDirVolumeSource() }, new V1Volume { Name = "restore", EmptyDir = new V1EmptyDirVolumeSource() }];
        });
        var data = cluster.Server.Kubelet.HostPathOf("default", "app", "main", "/data")!;
        var restore = cluster.Server.Kubelet.HostPathOf("default", "app", "main", "/restore")!;
        return (cluster, data, restore);
    }

    private static void Fill(string root)
    {
        Directory.CreateDirectory(Path.Combine(root, "docs", "deep", "er"));
        Directory.CreateDirectory(Path.Combine(root, "empty-dir"));
        var big = RandomNumberGenerator.GetBytes(5 * 1024 * 1024 + 123);
        File.WriteAllBytes(Path.Combine(root, "big.bin"), big);
        File.WriteAllBytes(Path.Combine(root, "docs", "copy-of-big.bin"), big);
        File.WriteAllText(Path.Combine(root, "docs", "readme.txt"), "hello\n");
        File.WriteAllText(Path.Combine(root, "docs", "deep", "er", "name with spaces & ünïcode.txt"), "deep\n");
        File.WriteAllBytes(Path.Combine(root, "empty"), []);
        File.WriteAllText(Path.Combine(root, "secret.key"), "k");
        File.SetUnixFileMode(Path.Combine(root, "secret.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.CreateSymbolicLink(Path.Combine(root, "link-to-readme"), "docs/readme.txt");
        var when = new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc).AddTicks(1234567);
        foreach (var f in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Where(f => new FileInfo(f).LinkTarget is null))
        {
            File.SetLastWriteTimeUtc(f, when);
        }
    }

    [Fact]
    public async Task Backup_and_restore_of_a_pod_folder_give_identical_trees_and_a_second_backup_reads_nothing_unchanged()
    {
        var (cluster, data, restore) = await StartAsync();
        await using var _ = cluster;
        using var repoDir = new TempFolder();
        await using var repo = await TestRepositories.InitAsync(repoDir.Path);
        Fill(data);
        var backup = new AgentlessFileBackup(new PodExecutor(cluster.Client));
        var request = new AgentlessBackupRequest { Namespace = "default", Pod = "app", Container = "main", Path = "/data", Hostname = "app" };

        var first = await backup.BackupAsync(repo, request);
        long total = 2 * (5 * 1024 * 1024 + 123) + 6 + 5 + 1;
        Assert.Equal(6, first.FilesNew);
        Assert.Equal(total, first.ContentBytesRead);
        // The two copies of the big file are stored once.
        Assert.True(first.BytesAdded < total / 2 + 64 * 1024, $"{first.BytesAdded} bytes added");
        Assert.Equal(["/data"], first.Snapshot.Paths);

        var restored = await backup.RestoreAsync(repo, first.Snapshot, "/data", new AgentlessBackupRequest { Namespace = "default", Pod = "app", Container = "main", Path = "/restore", Hostname = "app" });
        Assert.True(restored.Succeeded, restored.FailureReason);
        Assert.Equal(TreeCompare.Describe(data), TreeCompare.Describe(restore));

        int execsBefore = cluster.Server.Kubelet.Execs.Count;
        var second = await backup.BackupAsync(repo, request);
        Assert.Equal(0, second.ContentBytesRead);
        Assert.Equal(6, second.FilesUnmodified);
        Assert.Equal(0, second.FilesNew + second.FilesChanged);
        Assert.Equal(first.Snapshot.Id, second.Parent);
        Assert.Equal(first.Snapshot.Tree, second.Snapshot.Tree);
        // Only the listing ran: no tar was started for content.
        Assert.Equal(["find"], cluster.Server.Kubelet.Execs.Skip(execsBefore).Select(e => e.Command[0]));

        File.AppendAllText(Path.Combine(data, "docs", "readme.txt"), "more\n");
        var third = await backup.BackupAsync(repo, request);
        Assert.Equal(1, third.FilesChanged);
        Assert.Equal(11, third.ContentBytesRead);
        Assert.Equal(5, third.FilesUnmodified);
    }
}
