using KubeBackup.Restic.Crypto;
using KubeBackup.Restic.Json;
using KubeBackup.Restic.Model;
using KubeBackup.Storage;

namespace KubeBackup.Restic.Repository;

/// <summary>A key file of a repository: one password that opens it.</summary>
/// <param name="Id">The key file's ID.</param>
/// <param name="Username">Who created it.</param>
/// <param name="Hostname">Where it was created.</param>
/// <param name="Created">When it was created.</param>
/// <param name="IsCurrent">Whether it is the key this repository was opened with.</param>
/// <param name="KeyDerivation">Its scrypt parameters.</param>
public sealed record RepositoryKey(ResticId Id, string? Username, string? Hostname, GoTime Created, bool IsCurrent, ScryptParameters KeyDerivation);

public sealed partial class ResticRepository
{
    /// <summary>Lists the key files (restic's <c>key list</c>).</summary>
    public async Task<IReadOnlyList<RepositoryKey>> ListKeysAsync(CancellationToken cancellationToken = default)
    {
        var keys = new List<RepositoryKey>();
        await foreach (var f in Backend.ListAsync(FileType.Key, cancellationToken).ConfigureAwait(false))
        {
            var bytes = new byte[f.Size];
            await Backend.ReadAsync(new FileHandle(FileType.Key, f.Name), 0, bytes, cancellationToken).ConfigureAwait(false);
            KeyDocument doc;
            try
            {
                doc = ResticJson.ReadKey(bytes);
            }
            catch (FormatException ex)
            {
                throw new IntegrityException($"key file is malformed: {ex.Message}", "keys/" + f.Name, ex);
            }

            var id = ResticId.Parse(f.Name);
            keys.Add(new RepositoryKey(id, doc.Username, doc.Hostname, doc.Created, id == KeyId, new ScryptParameters(doc.N, doc.R, doc.P)));
        }

        return [.. keys.OrderBy(k => k.Created)];
    }

    /// <summary>Adds a password (restic's <c>key add</c>): a new key file sealing the same master key, so data need not
    /// be re-encrypted and every existing password keeps working.</summary>
    /// <param name="newPassword">The new password.</param>
    /// <param name="keyDerivation">scrypt parameters; null calibrates as restic does.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The new key file's ID.</returns>
    public Task<ResticId> AddKeyAsync(string newPassword, ScryptParameters? keyDerivation = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(newPassword);
        return KeyFiles.AddAsync(Backend, Key, newPassword, keyDerivation, Options.Hostname, Options.Username, cancellationToken);
    }

    /// <summary>Removes a key file (restic's <c>key remove</c>). The key this repository was opened with cannot be
    /// removed (so the last key never can be): use <see cref="ChangePasswordAsync"/> to replace it.</summary>
    /// <exception cref="RepositoryException">The key is the current one.</exception>
    /// <exception cref="NotFoundException">No such key.</exception>
    public async Task RemoveKeyAsync(ResticId keyId, CancellationToken cancellationToken = default)
    {
        if (keyId == KeyId)
        {
            throw new RepositoryException("The key in use cannot be removed; open the repository with another key first, or change the password.");
        }

        try
        {
            await Backend.RemoveAsync(new FileHandle(FileType.Key, keyId.ToString()), cancellationToken).ConfigureAwait(false);
        }
        catch (StorageFileNotFoundException ex)
        {
            throw new NotFoundException($"key {keyId.ToShortString()} does not exist", ex);
        }
    }

    /// <summary>Changes the password of the current key (restic's <c>key passwd</c>): writes a new key file for the
    /// same master key, then removes the old one. The master key, and so all data, stays as it is.</summary>
    /// <returns>The new key file's ID.</returns>
    public async Task<ResticId> ChangePasswordAsync(string newPassword, ScryptParameters? keyDerivation = null, CancellationToken cancellationToken = default)
    {
        var newId = await AddKeyAsync(newPassword, keyDerivation, cancellationToken).ConfigureAwait(false);
        var old = KeyId;
        KeyId = newId;
        // The new key is durable before the old one goes: a crash in between leaves two working keys, never none.
        await Backend.RemoveAsync(new FileHandle(FileType.Key, old.ToString()), cancellationToken).ConfigureAwait(false);
        return newId;
    }
}
