namespace KubeBackup.Restic.Model;

/// <summary>A key file (<c>keys/ID</c>, plain JSON): the master key sealed with a key derived from a password by scrypt.</summary>
public sealed class KeyDocument
{
    /// <summary>When the key was created.</summary>
    public GoTime Created { get; set; }
    /// <summary>Who created it.</summary>
    public string? Username { get; set; }
    /// <summary>Where it was created.</summary>
    public string? Hostname { get; set; }
    /// <summary>The key derivation function; always <c>scrypt</c>.</summary>
    public string Kdf { get; set; } = "scrypt";
    /// <summary>scrypt N.</summary>
    public int N { get; set; }
    /// <summary>scrypt r.</summary>
    public int R { get; set; }
    /// <summary>scrypt p.</summary>
    public int P { get; set; }
    /// <summary>The 64-byte salt.</summary>
    public byte[] Salt { get; set; } = [];
    /// <summary>The sealed master key JSON.</summary>
    public byte[] Data { get; set; } = [];
}

/// <summary>The master key JSON inside a key file: <c>{"mac":{"k":…,"r":…},"encrypt":…}</c>.</summary>
/// <param name="MacK">The MAC key k (16 bytes).</param>
/// <param name="MacR">The MAC key r (16 bytes).</param>
/// <param name="Encrypt">The encryption key (32 bytes).</param>
public sealed record MasterKeyDocument(byte[] MacK, byte[] MacR, byte[] Encrypt);
