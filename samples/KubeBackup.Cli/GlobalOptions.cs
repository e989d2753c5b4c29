using System.CommandLine;
using KubeBackup.Restic.Compression;
using KubeBackup.Restic.Repository;
using KubeBackup.Storage;

namespace KubeBackup.Cli;

/// <summary>The options every command takes, named as restic names them.</summary>
internal sealed class GlobalOptions
{
    public Option<string?> Repository { get; } = new("--repo", "-r")
    {
        Description = "repository to back up to or restore from (default: $RESTIC_REPOSITORY)",
        Recursive = true,
    };

    public Option<string?> RepositoryFile { get; } = new("--repository-file")
    {
        Description = "file to read the repository location from (default: $RESTIC_REPOSITORY_FILE)",
        Recursive = true,
    };

    public Option<string?> PasswordFile { get; } = new("--password-file", "-p")
    {
        Description = "file to read the repository password from (default: $RESTIC_PASSWORD_FILE)",
        Recursive = true,
    };

    public Option<string?> PasswordCommand { get; } = new("--password-command")
    {
        Description = "command whose output is the repository password (default: $RESTIC_PASSWORD_COMMAND)",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "print machine-readable JSON",
        Recursive = true,
    };

    public Option<bool> Quiet { get; } = new("--quiet", "-q")
    {
        Description = "do not print progress or informational messages",
        Recursive = true,
    };

    public Option<string> Compression { get; } = new("--compression")
    {
        Description = "compression mode for data (format 2 only): auto, off or max (default: $RESTIC_COMPRESSION or auto)",
        Recursive = true,
    };

    public Option<int?> PackSize { get; } = new("--pack-size")
    {
        Description = "target pack size in MiB, 4 to 128 (default: $RESTIC_PACK_SIZE or 16)",
        Recursive = true,
    };

    public IEnumerable<Option> All => [Repository, RepositoryFile, PasswordFile, PasswordCommand, Json, Quiet, Compression, PackSize];
}

/// <summary>What a command needs from the global options: the repository, the password, output settings.</summary>
internal sealed class CliContext
{
    private readonly ParseResult _parse;
    private readonly GlobalOptions _options;

    public CliContext(ParseResult parse, GlobalOptions options)
    {
        _parse = parse;
        _options = options;
    }

    public bool Json => _parse.GetValue(_options.Json);

    public bool Quiet => _parse.GetValue(_options.Quiet);

    /// <summary>Progress is drawn only for a person watching: on a terminal, and not in JSON or quiet mode.</summary>
    public bool ShowProgress => !Json && !Quiet && !Console.IsErrorRedirected;

    public void Info(string message)
    {
        if (!Quiet && !Json)
        {
            Console.Out.WriteLine(message);
        }
    }

    public string RepositoryLocation
    {
        get
        {
            var repo = _parse.GetValue(_options.Repository) ?? Environment.GetEnvironmentVariable("RESTIC_REPOSITORY");
            if (string.IsNullOrEmpty(repo))
            {
                var file = _parse.GetValue(_options.RepositoryFile) ?? Environment.GetEnvironmentVariable("RESTIC_REPOSITORY_FILE");
                if (!string.IsNullOrEmpty(file))
                {
                    repo = File.ReadAllText(file).Trim();
                }
            }

            return string.IsNullOrEmpty(repo)
                ? throw new CliException("Please specify the repository location (-r or RESTIC_REPOSITORY).")
                : repo;
        }
    }

    /// <summary>Resolves the location with every storage provider; each reads its credentials from the environment
    /// variables restic documents for it (never from an argument, which every process on the machine can see).</summary>
    public IBackend CreateBackend() => new BackendRegistry()
        .Register(new KubeBackup.Storage.S3.S3BackendProvider())
        .Register(new KubeBackup.Storage.Azure.AzureBackendProvider())
        .Register(new KubeBackup.Storage.Gcs.GcsBackendProvider())
        .Register(new KubeBackup.Storage.Rest.RestBackendProvider())
        .Create(RepositoryLocation);

    public string GetPassword(bool confirm = false) =>
        PasswordSource.Get(_parse.GetValue(_options.PasswordFile), _parse.GetValue(_options.PasswordCommand), confirm);

    public ResticRepositoryOptions RepositoryOptions()
    {
        var options = new ResticRepositoryOptions();
        var compression = _parse.GetValue(_options.Compression) ?? Environment.GetEnvironmentVariable("RESTIC_COMPRESSION") ?? "auto";
        options.Compression = compression.ToLowerInvariant() switch
        {
            "auto" => CompressionMode.Auto,
            "off" => CompressionMode.Off,
            "max" => CompressionMode.Max,
            _ => throw new CliException($"Invalid compression mode '{compression}': use auto, off or max."),
        };
        var packSize = _parse.GetValue(_options.PackSize);
        if (packSize is null && int.TryParse(Environment.GetEnvironmentVariable("RESTIC_PACK_SIZE"), out var envPack))
        {
            packSize = envPack;
        }

        if (packSize is { } mib)
        {
            if (mib is < 4 or > 128)
            {
                throw new CliException("The pack size must be between 4 and 128 MiB.");
            }

            options.PackSize = mib * 1024 * 1024;
        }

        return options;
    }

    public async Task<ResticRepository> OpenAsync(CancellationToken cancellationToken)
    {
        var backend = CreateBackend();
        var repo = await ResticRepository.OpenAsync(backend, GetPassword(), RepositoryOptions(), cancellationToken).ConfigureAwait(false);
        if (!Quiet && !Json)
        {
            Console.Error.WriteLine($"repository {repo.Config.Id.ToShortString()} opened (version {repo.Config.Version}{(repo.SupportsCompression ? ", compression level " + RepositoryOptions().Compression.ToString().ToLowerInvariant() : "")})");
        }

        return repo;
    }
}
