namespace KubeBackup.Storage.Local;

/// <summary>Resolves plain paths and <c>local:PATH</c> locations to a <see cref="LocalBackend"/>.</summary>
public sealed class LocalBackendProvider : IBackendProvider
{
    /// <inheritdoc />
    public string Scheme => "local";

    /// <inheritdoc />
    public IBackend Create(string location, IReadOnlyDictionary<string, string?> environment) => new LocalBackend(location);
}
