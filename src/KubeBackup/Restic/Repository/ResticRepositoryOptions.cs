using KubeBackup.Restic.Compression;

namespace KubeBackup.Restic.Repository;

/// <summary>How an open repository writes and reads.</summary>
public sealed class ResticRepositoryOptions
{
    /// <summary>Compression of data blobs in a format-2 repository. Default <see cref="CompressionMode.Auto"/>.</summary>
    public CompressionMode Compression { get; set; } = CompressionMode.Auto;

    /// <summary>Target pack size in bytes (restic: 16 MiB; 4 to 128 MiB allowed).</summary>
    public int PackSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>Where packs are assembled before upload. Default: for a local repository, unnamed files in the
    /// repository's own <c>data</c> folder, linked into place when complete (each pack is written once); for other
    /// backends, the system temp folder. Setting it stages every pack here.</summary>
    public string? TempDirectory { get; set; }

    /// <summary>How many CPU-bound workers (chunking, hashing, compression, encryption) run at once. Default: the core count.</summary>
    public int Parallelism { get; set; } = Environment.ProcessorCount;

    /// <summary>How many packs may be uploaded at once. Default: the backend's <see cref="Storage.IBackend.MaxConcurrency"/>, at most 8.</summary>
    public int? UploadConcurrency { get; set; }

    /// <summary>Host name recorded in locks and, by default, in snapshots. Default: the full host name, as restic records it (so snapshots of both tools find each other as parents).</summary>
    public string Hostname { get; set; } = System.Net.Dns.GetHostName();

    /// <summary>User name recorded in locks and snapshots. Default: the process user.</summary>
    public string Username { get; set; } = Environment.UserName;

    /// <summary>Logs what the engine does. Passwords and keys are never logged.</summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; set; }

    internal void Validate()
    {
        if (PackSize < 4 * 1024 * 1024 || PackSize > 128 * 1024 * 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(PackSize), PackSize, "The pack size must be between 4 MiB and 128 MiB.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(Parallelism, 1);
    }
}

/// <summary>How a new repository is created.</summary>
public sealed class RepositoryInitOptions
{
    /// <summary>The repository format: 2 (default, with compression) or 1.</summary>
    public int Version { get; set; } = 2;

    /// <summary>The chunker polynomial; null picks a random one. Copy another repository's polynomial so that
    /// copies between the two deduplicate (restic's <c>--copy-chunker-params</c>).</summary>
    public Chunking.ChunkerPolynomial? ChunkerPolynomial { get; set; }

    /// <summary>scrypt parameters of the first key; null calibrates them as restic does (about half a second).</summary>
    public Crypto.ScryptParameters? KeyDerivation { get; set; }
}
