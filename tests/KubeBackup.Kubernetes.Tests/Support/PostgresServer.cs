using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace KubeBackup.Kubernetes.Tests.Support;

/// <summary>A throwaway PostgreSQL server (Debian's postgresql 15) on 127.0.0.1, trust authentication, stopped by its
/// data folder on dispose. Tests that need it are skipped where PostgreSQL is not installed.</summary>
public sealed class PostgresServer : IDisposable
{
    private static readonly string? BinDir = Directory.Exists("/usr/lib/postgresql")
        ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "pg_ctl"))).OrderDescending().FirstOrDefault()
        : null;

    private readonly string _root;

    private PostgresServer(string root, int port)
    {
        _root = root;
        Port = port;
    }

    public static bool IsAvailable => BinDir is not null && Environment.UserName == "root";

    public int Port { get; }

    public string DataDir => Path.Combine(_root, "data");

    public string ConnectionString(string database = "postgres") => $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=false";

    public static PostgresServer Start()
    {
        var root = Path.Combine(Path.GetTempPath(), "kbk-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        Run("chown", "postgres", root);
        int port = FreePort();
        var server = new PostgresServer(root, port);
        RunAsPostgres($"{BinDir}/initdb -D {server.DataDir} -A trust -U postgres --no-sync >/dev/null");
        RunAsPostgres($"{BinDir}/pg_ctl -D {server.DataDir} -l {root}/pg.log -o '-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off' -w start >/dev/null");
        return server;
    }

    public void Dispose()
    {
        try
        {
            RunAsPostgres($"{BinDir}/pg_ctl -D {DataDir} -m immediate stop >/dev/null");
        }
        finally
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static void RunAsPostgres(string command) => Run("su", "postgres", "-c", command);

    private static void Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = "/tmp" };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} failed ({p.ExitCode}): {err.Result}");
        }
    }
}

/// <summary>A fact that needs PostgreSQL and root (to run it as the postgres user).</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (!PostgresServer.IsAvailable)
        {
            Skip = "PostgreSQL 15 (apt-get install postgresql) and root are needed";
        }
    }
}
