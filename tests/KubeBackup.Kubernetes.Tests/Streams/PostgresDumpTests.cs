using System.Security.Cryptography;
using k8s.Models;
using KubeBackup.FakeKube;
using KubeBackup.Kubernetes.Exec;
using KubeBackup.Kubernetes.Streams;
using KubeBackup.Kubernetes.Tests.Support;
using KubeBackup.Restic.Repository;
using Npgsql;

namespace KubeBackup.Kubernetes.Tests.Streams;

/// <summary>The dump path end to end: a real PostgreSQL behind the fake kubelet, pg_dumpall streamed into a repository,
/// the database dropped, the dump streamed into psql over exec v5.</summary>
public sealed class PostgresDumpTests
{
    private static async Task<(TestCluster Cluster, PostgresServer Pg)> StartAsync()
    {
        var pg = PostgresServer.Start();
        var cluster = await TestCluster.StartAsync();
        await cluster.CreatePodAsync("db-0", configure: p => p.Spec.Containers[0] = new V1Container
        {
            Name = "postgres",
            Image = "postgres:15",
            Env =
            [
                new V1EnvVar { Name = "PGHOST", Value = "127.0.0.1" },
                new V1EnvVar { Name = "PGPORT", Value = pg.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                new V1EnvVar { Name = "PGUSER", Value = "postgres" },
            ],
        });
        return (cluster, pg);
    }

    private static async Task ExecSqlAsync(PostgresServer pg, string db, string sql)
    {
        await using var conn = new NpgsqlConnection(pg.ConnectionString(db));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 600 };
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<List<string>> RowsAsync(PostgresServer pg)
    {
        await using var conn = new NpgsqlConnection(pg.ConnectionString("shop"));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT id || ':' || name || ':' || price FROM items ORDER BY id", conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private static PodStreamBackupRequest DumpRequest(params string[] argv) => new()
    {
        Namespace = "default", Pod = "db-0", Container = "postgres", Command = argv.Length == 0 ? ["pg_dumpall"] : argv,
        FileName = "/db-0-postgres.sql", Hostname = "db-0",
    };

    [PostgresFact]
    public async Task Rows_survive_dump_drop_and_restore_through_psql()
    {
        var (cluster, pg) = await StartAsync();
        using var _ = pg;
        await using var __ = cluster;
        using var repoDir = new TempFolder();
        await using var repo = await TestRepositories.InitAsync(repoDir.Path);
        await ExecSqlAsync(pg, "postgres", "CREATE DATABASE shop");
        await ExecSqlAsync(pg, "shop", "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric); INSERT INTO items SELECT g, 'item ' || g || ' ''quoted'' ü', g * 1.5 FROM generate_series(1, 2000) g");
        var before = await RowsAsync(pg);

        var streamer = new PodStreamBackup(new PodExecutor(cluster.Client));
        var backup = await streamer.BackupAsync(repo, DumpRequest());
        Assert.True(backup.Bytes > 50_000);
        Assert.Contains(PodStreamBackup.Sha256TagPrefix + backup.Sha256, backup.Snapshot.Tags!);
        Assert.Equal("db-0", backup.Snapshot.Hostname);

        await ExecSqlAsync(pg, "postgres", "DROP DATABASE shop");
        var restored = await streamer.RestoreAsync(repo, backup.Snapshot, "/db-0-postgres.sql",
            new PodStreamRestoreRequest { Namespace = "default", Pod = "db-0", Container = "postgres", Command = ["psql", "-X", "-q", "-d", "postgres"] });
        Assert.Equal(backup.Bytes, restored.StdinBytes);
        Assert.Equal(PodExecSession.V5Protocol, restored.Protocol);
        Assert.Equal(before, await RowsAsync(pg));
    }

    [PostgresFact]
    public async Task A_dump_over_100_MiB_arrives_whole()
    {
        var (cluster, pg) = await StartAsync();
        using var _ = pg;
        await using var __ = cluster;
        using var repoDir = new TempFolder();
        await using var repo = await TestRepositories.InitAsync(repoDir.Path);
        await ExecSqlAsync(pg, "postgres", "CREATE DATABASE big");
        await ExecSqlAsync(pg, "big", "CREATE TABLE t (id int, payload text); INSERT INTO t SELECT g, repeat(md5(g::text), 12) FROM generate_series(1, 300000) g");

        // The container keeps its own copy of exactly what it sent (tee), to compare with what the repository holds.
        var backup = await new PodStreamBackup(new PodExecutor(cluster.Client)).BackupAsync(repo, DumpRequest("sh", "-c", "pg_dumpall | tee sent.sql"));
        var sent = Path.Combine(cluster.Server.Kubelet.SandboxOf("default", "db-0", "postgres"), "sent.sql");
        Assert.True(backup.Bytes > 100L * 1024 * 1024, $"dump is only {backup.Bytes} bytes");
        Assert.Equal(new FileInfo(sent).Length, backup.Bytes);
        await using (var f = File.OpenRead(sent))
        {
            Assert.Equal(Convert.ToHexStringLower(await SHA256.HashDataAsync(f)), backup.Sha256);
        }

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var node = await repo.FindNodeAsync(backup.Snapshot, "/db-0-postgres.sql");
        Assert.Equal((ulong)backup.Bytes, node.Size);
    }

    [PostgresFact]
    public async Task A_dump_killed_midway_fails_with_the_reason_and_leaves_no_snapshot()
    {
        var (cluster, pg) = await StartAsync();
        using var _ = pg;
        await using var __ = cluster;
        using var repoDir = new TempFolder();
        await using var repo = await TestRepositories.InitAsync(repoDir.Path);
        await ExecSqlAsync(pg, "postgres", "CREATE DATABASE big");
        await ExecSqlAsync(pg, "big", "CREATE TABLE t (id int, payload text); INSERT INTO t SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 40000) g");
        var streamer = new PodStreamBackup(new PodExecutor(cluster.Client));

        cluster.Server.Kubelet.FailNextExec((pod, _, argv) => argv[0] == "pg_dumpall", afterStdoutBytes: 1024 * 1024, ExecFaultMode.Kill);
        var killed = await Assert.ThrowsAsync<PodStreamException>(() => streamer.BackupAsync(repo, DumpRequest()));
        Assert.True(killed.Message.Contains("exited with code 137", StringComparison.Ordinal), killed.Message);
        Assert.True(killed.Message.Contains("no snapshot was written", StringComparison.Ordinal), killed.Message);
        Assert.Equal(137, killed.Command!.ExitCode);

        cluster.Server.Kubelet.FailNextExec((pod, _, argv) => argv[0] == "pg_dumpall", afterStdoutBytes: 512 * 1024, ExecFaultMode.DropConnection);
        var dropped = await Assert.ThrowsAsync<PodStreamException>(() => streamer.BackupAsync(repo, DumpRequest()));
        Assert.True(dropped.Message.Contains("the exec connection for", StringComparison.Ordinal), dropped.Message);
        Assert.Null(dropped.Command?.ExitCode);

        var failing = await Assert.ThrowsAsync<PodStreamException>(() => streamer.BackupAsync(repo, DumpRequest("pg_dumpall", "--database", "no_such_db_here")));
        Assert.Contains("exited with code 1", failing.Message, StringComparison.Ordinal);

        Assert.Empty(await repo.ListSnapshotsAsync());
        var ok = await streamer.BackupAsync(repo, DumpRequest());
        Assert.Single(await repo.ListSnapshotsAsync());
        Assert.True(ok.Bytes > 1024 * 1024);
    }
}
