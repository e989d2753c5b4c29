using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using KubeBackup.Restic.Crypto;
using KubeBackup.Restic.Json;
using KubeBackup.Restic.Model;
using KubeBackup.Storage;

namespace KubeBackup.Restic.Repository;

/// <summary>
/// Key files: each holds the repository's master key sealed with a key derived from one password by scrypt. Opening
/// tries the key files until one opens; adding a key seals the same master key under a new password.
/// </summary>
internal static class KeyFiles
{
    /// <summary>restic's salt length; it refuses any other.</summary>
    public const int SaltSize = 64;

    /// <summary>restic's calibration: half a second, at most 60 MiB.</summary>
    public static readonly TimeSpan CalibrationTime = TimeSpan.FromMilliseconds(500);
    public const long CalibrationMemory = 60L * 1024 * 1024;

    public static async Task<(CryptoKey MasterKey, ResticId KeyId)> OpenAsync(IBackend backend, string password, CancellationToken cancellationToken)
    {
        var names = new List<StorageFileInfo>();
        await foreach (var f in backend.ListAsync(FileType.Key, cancellationToken).ConfigureAwait(false))
        {
            names.Add(f);
        }

        if (names.Count == 0)
        {
            throw new RepositoryException($"The repository at {backend.Location} has no key files.");
        }

        byte[] passwordBytes = Encoding.UTF8.GetBytes(password);
        var damaged = new List<string>();
        try
        {
            foreach (var info in names)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var handle = new FileHandle(FileType.Key, info.Name);
                KeyDocument doc;
                try
                {
                    var bytes = new byte[info.Size];
                    await backend.ReadAsync(handle, 0, bytes, cancellationToken).ConfigureAwait(false);
                    if (!ResticId.TryParse(info.Name, out var expected) || ResticId.Hash(bytes) != expected)
                    {
                        // Key files are named by their hash: a mismatch is damage, not a wrong password.
                        damaged.Add(handle.RelativePath);
                        continue;
                    }

                    doc = ResticJson.ReadKey(bytes);
                }
                catch (FormatException)
                {
                    // A damaged key file must not hide a good one; try the others first.
                    damaged.Add(handle.RelativePath);
                    continue;
                }

                var master = TryOpen(doc, passwordBytes);
                if (master is not null)
                {
                    return (master, ResticId.Parse(info.Name));
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passwordBytes);
        }

        if (damaged.Count > 0)
        {
            // The damaged key might have been the one for this password: say so rather than blame the password.
            throw new IntegrityException($"the password opens no intact key, and {damaged.Count} key file(s) are damaged", string.Join(", ", damaged));
        }

        throw new WrongPasswordException($"The password opens none of the {names.Count} key(s) of the repository at {backend.Location}.");
    }

    private static CryptoKey? TryOpen(KeyDocument doc, byte[] password)
    {
        if (!string.Equals(doc.Kdf, "scrypt", StringComparison.OrdinalIgnoreCase) || doc.Salt.Length != SaltSize)
        {
            return null;
        }

        var parameters = new ScryptParameters(doc.N, doc.R, doc.P);
        try
        {
            parameters.Validate();
        }
        catch (ArgumentException)
        {
            return null;
        }

        Span<byte> derived = stackalloc byte[64];
        Scrypt.DeriveKey(password, doc.Salt, parameters, derived);
        var userKey = CryptoKey.FromDerivedBytes(derived);
        CryptographicOperations.ZeroMemory(derived);
        if (doc.Data.Length < CryptoKey.Overhead)
        {
            return null;
        }

        var plain = new byte[doc.Data.Length - CryptoKey.Overhead];
        if (!userKey.TryOpen(doc.Data, plain))
        {
            return null;
        }

        try
        {
            var mk = ResticJson.ReadMasterKey(plain);
            var master = new CryptoKey(mk.Encrypt, mk.MacK, mk.MacR);
            return master.IsValid ? master : null;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            return null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    /// <summary>Writes a new key file sealing <paramref name="masterKey"/> under <paramref name="password"/>.</summary>
    public static async Task<ResticId> AddAsync(IBackend backend, CryptoKey masterKey, string password, ScryptParameters? parameters,
        string hostname, string username, CancellationToken cancellationToken)
    {
        var kdf = parameters ?? Scrypt.Calibrate(CalibrationTime, CalibrationMemory);
        kdf.Validate();
        var salt = new byte[SaltSize];
        RandomNumberGenerator.Fill(salt);
        byte[] passwordBytes = Encoding.UTF8.GetBytes(password);
        Span<byte> derived = stackalloc byte[64];
        Scrypt.DeriveKey(passwordBytes, salt, kdf, derived);
        CryptographicOperations.ZeroMemory(passwordBytes);
        var userKey = CryptoKey.FromDerivedBytes(derived);
        CryptographicOperations.ZeroMemory(derived);

        var masterJson = new ArrayBufferWriter<byte>(160);
        ResticJson.WriteMasterKey(new MasterKeyDocument(masterKey.MacK.ToArray(), masterKey.MacR.ToArray(), masterKey.EncryptionKey.ToArray()), masterJson);
        var sealedMaster = userKey.Seal(masterJson.WrittenSpan);
        CryptographicOperations.ZeroMemory(MemoryMarshalHelper.AsMutable(masterJson.WrittenSpan));

        var doc = new KeyDocument
        {
            Created = GoTime.Now(),
            Username = username,
            Hostname = hostname,
            Kdf = "scrypt",
            N = kdf.N,
            R = kdf.R,
            P = kdf.P,
            Salt = salt,
            Data = sealedMaster,
        };
        var json = new ArrayBufferWriter<byte>(512);
        ResticJson.WriteKey(doc, json);
        var id = ResticId.Hash(json.WrittenSpan);
        using var ms = new MemoryStream(json.WrittenSpan.ToArray(), writable: false);
        await backend.SaveAsync(new FileHandle(FileType.Key, id.ToString()), ms, cancellationToken).ConfigureAwait(false);
        return id;
    }
}

internal static class MemoryMarshalHelper
{
    /// <summary>Lets secret material in a buffer we own be wiped even when only a read-only view is at hand.</summary>
    public static Span<byte> AsMutable(ReadOnlySpan<byte> span) =>
        System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(span), span.Length);
}
