using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using KubeBackup.Hooks;
using KubeBackup.Sessions;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Sessions;

/// <summary>
/// The whole model against a real PostgreSQL server: a YAML configuration with a pre hook, a file backup, a stream
/// backup of pg_dumpall, retention and update-status runs three times; then the database is dropped and a restore
/// session pipes the dump back into psql, and the rows are compared.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresEndToEndTests(PostgresServer server)
{
    private const string Yaml = """
        name: shop
        repository:
          location: {REPO}
          password:
            file: {PWFILE}
        variables:
          PGBIN: "@PGBIN@"
          PGPORT: "@PGPORT@"
        hooks:
          preBackup:
            - name: checkpoint
              command: ["${PGBIN}/psql", "-X", "-h", "127.0.0.1", "-p", "${PGPORT}", "-U", "postgres", "-c", "CHECKPOINT"]
              timeout: 30s
          postBackup:
            - name: notify
              command: ["sh", "-c", "echo \"done ${TARGET_NAME} ${SESSION_ID}\" >> {DIR}/notifications"]
              when: OnSuccess
        retention:
          keepLast: 2
        targets:
          - name: app-files
            paths: ["{DIR}/files"]
            task: files
          - name: shop-db
            task: postgres
            restoreTask: postgres-restore
        tasks:
          files:
            steps:
              - function: file-backup
              - function: retention-apply
              - function: update-status
                params: { statusFile: "{DIR}/${TARGET_NAME}.status.json" }
          postgres:
            steps:
              - name: dump
                function: stream-backup
                params:
                  command: ["${PGBIN}/pg_dumpall", "-h", "127.0.0.1", "-p", "${PGPORT}", "-U", "postgres"]
                  fileName: "${TARGET_NAME}/all.sql"
                  endMarker: "PostgreSQL database cluster dump complete"
              - function: retention-apply
              - function: update-status
                params: { statusFile: "{DIR}/${TARGET_NAME}.status.json" }
          postgres-restore:
            steps:
              - function: stream-restore
                params:
                  command: ["${PGBIN}/psql", "-X", "-q", "-h", "127.0.0.1", "-p", "${PGPORT}", "-U", "postgres", "-d", "postgres"]
        """;

    private const string RowDigest = "SELECT count(*)::text || ':' || sum(qty)::text || ':' || md5(string_agg(id::text || item || qty::text, ',' ORDER BY id)) FROM orders";

    [Fact]
    public async Task Configuration_with_hooks_files_pg_dumpall_retention_and_status_backs_up_and_restores_the_database()
    {
        using var kit = await SessionKit.CreateAsync();
        Directory.CreateDirectory(kit.Dir.Combine("files"));
        File.WriteAllText(kit.Dir.Combine("files", "app.conf"), "port = 8080\n");
        await server.ExecuteAsync("DROP DATABASE IF EXISTS shop");
        await server.ExecuteAsync("CREATE DATABASE shop");
        await server.ExecuteAsync("CREATE TABLE orders (id int PRIMARY KEY, item text NOT NULL, qty int NOT NULL); " +
            "INSERT INTO orders SELECT g, 'item-' || g, g % 97 FROM generate_series(1, 20000) g", "shop");
        string before = await server.ScalarAsync<string>(RowDigest, "shop");

        var configuration = kit.Load(Yaml.Replace("@PGBIN@", server.BinDirectory, StringComparison.Ordinal)
            .Replace("@PGPORT@", server.Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));

        var sessions = new List<BackupSession>();
        for (int i = 0; i < 3; i++)
        {
            var session = await kit.Runner.RunBackupAsync(configuration);
            Assert.True(session.Phase == SessionPhase.Succeeded, Explain(session));
            sessions.Add(session);
        }

        // Run 1: the pre hook ran first with its exit code, the post hook after the data; both targets wrote an
        // untagged snapshot; the dump was counted and hashed; the status file (of the last run) says Succeeded.
        var first = sessions[0];
        var db = first.Targets.Single(t => t.Name == "shop-db");
        var pre = db.Hooks.First();
        Assert.Equal(("checkpoint", HookPhase.PreBackup, 0), (pre.Name, pre.Phase, pre.ExitCode));
        Assert.Contains(db.Hooks, h => h is { Name: "notify", Phase: HookPhase.PostBackup, Succeeded: true, Skipped: false });
        var stream = Assert.Single(db.Streams);
        Assert.Equal("/shop-db/all.sql", stream.FileName);
        Assert.True(stream.Bytes > 100_000, $"{stream.Bytes} bytes");
        Assert.Equal(0, stream.ExitCode);
        Assert.Empty(stream.Conditions);
        var dbSnapshot = Assert.Single(db.Snapshots);
        Assert.False(dbSnapshot.Partial);
        Assert.Equal(stream.Bytes, db.Statistics.BytesProcessed);
        Assert.Equal(["file-backup", "retention-apply", "update-status"], first.Targets.Single(t => t.Name == "app-files").Steps.Select(s => s.Function));
        using (var status = JsonDocument.Parse(File.ReadAllText(kit.Dir.Combine("shop-db.status.json"))))
        {
            Assert.Equal("Succeeded", status.RootElement.GetProperty("phase").GetString());
            Assert.Equal(sessions[2].Targets.Single(t => t.Name == "shop-db").Snapshots[0].Id.ToString(),
                status.RootElement.GetProperty("snapshots")[0].GetProperty("id").GetString());
        }

        Assert.Equal(6, File.ReadAllLines(kit.Dir.Combine("notifications")).Length);

        // Retention kept the last two snapshots of each target: the third run removed one per target.
        Assert.All(sessions[2].Targets, t => Assert.Single(t.SnapshotsRemoved));
        var snapshots = await kit.SnapshotsAsync();
        Assert.Equal(2, snapshots.Count(s => s.Hostname == "shop-db"));
        Assert.Equal(2, snapshots.Count(s => s.Hostname == "app-files"));
        Assert.All(snapshots, s => Assert.Null(s.Tags));

        // What is in the repository is byte for byte what pg_dumpall wrote: its hash matches the one taken on the way in.
        var last = sessions[2].Targets.Single(t => t.Name == "shop-db");
        await using (var repo = await kit.OpenAsync())
        {
            var snapshot = await repo.FindSnapshotAsync(last.Snapshots[0].Id.ToString());
            using var copy = new MemoryStream();
            await repo.DumpAsync(snapshot, "/shop-db/all.sql", copy);
            Assert.Equal(last.Streams[0].Sha256, Convert.ToHexStringLower(SHA256.HashData(copy.ToArray())));
        }

        // Drop the database, restore the latest dump through psql, compare the rows.
        await server.ExecuteAsync("DROP DATABASE shop");
        var restore = await kit.Runner.RunRestoreAsync(configuration, new RestoreRequest { Targets = { "shop-db" } });
        Assert.True(restore.Phase == SessionPhase.Succeeded, Explain(restore));
        var restored = Assert.Single(Assert.Single(restore.Targets).Streams);
        Assert.Equal(last.Streams[0].Sha256, restored.Sha256);
        Assert.Equal(last.Snapshots[0].Id, Assert.Single(restore.Targets).Snapshots[0].Id);
        Assert.Equal(before, await server.ScalarAsync<string>(RowDigest, "shop"));
    }

    internal static string Explain(SessionResult session) =>
        $"{session.Phase} {session.Reason}: " + string.Join(" | ", session.Targets.Select(t =>
            $"{t.Name} {t.Phase} failures=[{string.Join("; ", t.Failures)}] problems=[{string.Join("; ", t.Problems)}] hooks=[{string.Join("; ", t.Hooks.Select(h => h + " " + h.Error + " " + h.OutputTail))}]"));
}
