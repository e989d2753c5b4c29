using System.Text.Json.Serialization;

namespace KubeBackup.Configuration;

/// <summary>Where a configuration's snapshots live: a restic-style location and references to the secrets that open it.
/// Only references are stored here; their values are read when a session opens the repository and are never logged.</summary>
public sealed class RepositoryReference
{
    /// <summary>A restic-style location: a path, or <c>s3:…</c>, <c>azure:…</c>, <c>gs:…</c>, <c>rest:…</c> with the
    /// provider package registered. Variables (<c>${NAME}</c>) are resolved in it.</summary>
    public string Location { get; set; } = "";

    /// <summary>Where the repository password comes from.</summary>
    public SecretReference Password { get; set; } = new();

    /// <summary>Settings and credentials for the storage provider, by restic's environment variable names
    /// (<c>AWS_ACCESS_KEY_ID</c>, <c>AZURE_ACCOUNT_KEY</c>…), each from a secret.</summary>
    public Dictionary<string, SecretReference> Environment { get; set; } = [];

    /// <summary>Create the repository when the location holds none yet.</summary>
    public bool Create { get; set; }

    /// <inheritdoc />
    public override string ToString() => $"repository {Location}";
}

/// <summary>
/// A reference to a secret: an environment variable, a file, a command's output, or (with the Kubernetes package) a key
/// of a Kubernetes secret. <see cref="ToString"/> names the source, never the value.
/// </summary>
public sealed class SecretReference
{
    private string? _literal;

    /// <summary>Read the value from this environment variable.</summary>
    public string? Env { get; set; }

    /// <summary>Read the value from this file (one trailing newline is removed, as restic does).</summary>
    public string? File { get; set; }

    /// <summary>Run this command (argv, no shell) and use its standard output, trimmed of the trailing newline.</summary>
    public List<string>? Command { get; set; }

    /// <summary>The name of a Kubernetes secret (resolved by the Kubernetes package's <see cref="ISecretResolver"/>).</summary>
    public string? Name { get; set; }

    /// <summary>The key in the Kubernetes secret named <see cref="Name"/>.</summary>
    public string? Key { get; set; }

    /// <summary>A value given in code (never loaded from a file: configuration files hold references only).</summary>
    [JsonIgnore]
    internal string? LiteralValue => _literal;

    /// <summary>Whether any source is set.</summary>
    [JsonIgnore]
    public bool IsSet => _literal is not null || !string.IsNullOrEmpty(Env) || !string.IsNullOrEmpty(File) || Command is { Count: > 0 } || !string.IsNullOrEmpty(Name);

    /// <summary>A secret whose value is given in code, for hosts that hold it already (for example from a vault client).</summary>
    public static SecretReference FromValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new SecretReference { _literal = value };
    }

    /// <summary>A secret read from an environment variable.</summary>
    public static SecretReference FromEnvironment(string variable) => new() { Env = variable };

    /// <summary>A secret read from a file.</summary>
    public static SecretReference FromFile(string path) => new() { File = path };

    /// <summary>Names the source only.</summary>
    public override string ToString() =>
        _literal is not null ? "secret given in code"
        : !string.IsNullOrEmpty(Env) ? $"environment variable {Env}"
        : !string.IsNullOrEmpty(File) ? $"file {File}"
        : Command is { Count: > 0 } ? $"output of {Command[0]}"
        : !string.IsNullOrEmpty(Name) ? $"secret {Name}/{Key}"
        : "no secret";
}
