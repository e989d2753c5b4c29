using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace KubeBackup.Tests.Support;

/// <summary>
/// A throwaway PostgreSQL server (Debian's postgresql package) on 127.0.0.1 and a free port: initdb with trust
/// authentication into a temp folder, started with its socket in that folder, stopped with an immediate shutdown.
/// As root, the server runs as the postgres user (it refuses to run as root).
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("pg");

    public int Port { get; private set; }

    public string BinDirectory { get; } = FindBin();

    public string DataDirectory => _dir.Combine("data");

    public string SocketDirectory => _dir.Combine("sock");

    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=false;Timeout=30";

    /// <summary>pg_dumpall's argv against this server.</summary>
    public string[] DumpAllCommand => [Path.Combine(BinDirectory, "pg_dumpall"), "-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres"];

    /// <summary>psql's argv against this server (reads SQL from standard input).</summary>
    public string[] PsqlCommand => [Path.Combine(BinDirectory, "psql"), "-X", "-q", "-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", "-d", "postgres"];

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(DataDirectory);
        Directory.CreateDirectory(SocketDirectory);
        bool root = Environment.UserName == "root";
        if (root)
        {
            await RunAsync("chown", "-R", "postgres:postgres", _dir.Path);
        }

        await AsPostgresAsync(root, Path.Combine(BinDirectory, "initdb"), "-D", DataDirectory, "-A", "trust", "-U", "postgres", "--no-sync");
        Port = FreePort();
        await AsPostgresAsync(root, Path.Combine(BinDirectory, "pg_ctl"), "-D", DataDirectory, "-l", Path.Combine(SocketDirectory, "pg.log"),
            "-o", $"-p {Port} -k {SocketDirectory} -c listen_addresses=127.0.0.1 -c fsync=off", "-w", "start");
    }

    public async Task DisposeAsync()
    {
        try
        {
            await AsPostgresAsync(Environment.UserName == "root", Path.Combine(BinDirectory, "pg_ctl"), "-D", DataDirectory, "-m", "immediate", "stop");
        }
        finally
        {
            _dir.Dispose();
        }
    }

    public async Task ExecuteAsync(string sql, string database = "postgres")
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 120 };
        await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql, string database = "postgres")
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static string FindBin()
    {
        var versions = Directory.Exists("/usr/lib/postgresql") ? Directory.GetDirectories("/usr/lib/postgresql") : [];
        var bin = versions.Select(v => Path.Combine(v, "bin")).Where(b => File.Exists(Path.Combine(b, "initdb")))
            .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out int n) ? n : 0).FirstOrDefault();
        return bin ?? throw new InvalidOperationException("PostgreSQL is not installed (apt-get install postgresql; tests/run.sh does it).");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Task AsPostgresAsync(bool root, string program, params string[] args) =>
        root ? RunAsync("runuser", ["-u", "postgres", "--", program, .. args]) : RunAsync(program, args);

    private static Task RunAsync(string program, params string[] args) => ProcessRun.RunCheckedAsync(program, args);
}
