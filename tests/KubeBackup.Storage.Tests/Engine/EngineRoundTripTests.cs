using KubeBackup.Storage.Tests.Fixtures;
using KubeBackup.Storage.Tests.Support;
using KubeBackup.Testing;

namespace KubeBackup.Storage.Tests.Engine;

/// <summary>The whole engine on each provider: init, backup, restore identical, incremental backup, restore again.</summary>
public abstract class EngineRoundTripTests(StorageServer server)
{
    [Fact]
    public async Task Init_backup_restore_incremental_backup_restore()
    {
        using var dir = new TempDirectory("engine-" + server.Name);
        var source = dir.Combine("src");
        SimpleTree.Create(source, seed: 7, bigFileBytes: 9 * 1024 * 1024, smallFiles: 30);
        var first = SimpleTree.Describe(source);
        string prefix = "engine-" + Guid.NewGuid().ToString("N")[..12];

        Restic.Model.Snapshot firstSnapshot;
        await using (var backend = server.CreateBackend(prefix))
        await using (var repo = await Support.Engine.InitAsync(backend))
        {
            var backup = await Support.Engine.BackupAsync(repo, source);
            firstSnapshot = backup.Snapshot;
            Assert.Null(backup.Parent);
            await Support.Engine.RestoreAndCompareAsync(repo, backup.Snapshot, source, first, dir.Combine("out1"));
        }

        Support.Engine.Modify(source, seed: 8);
        var second = SimpleTree.Describe(source);
        await using (var backend = server.CreateBackend(prefix))
        await using (var repo = await Support.Engine.OpenAsync(backend))
        {
            var backup = await Support.Engine.BackupAsync(repo, source);
            // Incremental: the first snapshot is the parent and the big unchanged file is not stored again.
            Assert.Equal(firstSnapshot.Id, backup.Parent);
            Assert.True(backup.StoredBytesAdded < 1024 * 1024, $"{backup.StoredBytesAdded} bytes added by an incremental backup");
            Assert.Equal(2, (await repo.ListSnapshotsAsync()).Count);
            await Support.Engine.RestoreAndCompareAsync(repo, backup.Snapshot, source, second, dir.Combine("out2"));
            await Support.Engine.RestoreAndCompareAsync(repo, await repo.FindSnapshotAsync(firstSnapshot.Id.ToString()), source, first, dir.Combine("out3"));
        }
    }
}

[Collection("local")]
public sealed class LocalEngineRoundTripTests(LocalServer server) : EngineRoundTripTests(server);

[Collection("s3")]
public sealed class S3EngineRoundTripTests(S3Server server) : EngineRoundTripTests(server);

[Collection("azure")]
public sealed class AzureEngineRoundTripTests(AzureServer server) : EngineRoundTripTests(server);

[Collection("gcs")]
public sealed class GcsEngineRoundTripTests(GcsServer server) : EngineRoundTripTests(server);

[Collection("rest")]
public sealed class RestEngineRoundTripTests(RestServer server) : EngineRoundTripTests(server);
