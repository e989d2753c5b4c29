using Azure.Core;

namespace KubeBackup.Storage.Azure;

/// <summary>Where and how an Azure Blob Storage backend stores a repository.</summary>
/// <remarks>Credentials, in order of precedence: <see cref="ConnectionString"/>, <see cref="AccountKey"/>,
/// <see cref="SasToken"/>, <see cref="Credential"/>, else Azure.Identity's <c>DefaultAzureCredential</c>
/// (managed identity, workload identity, environment, Azure CLI…).</remarks>
public sealed class AzureBackendOptions : RemoteBackendOptions
{
    /// <summary>The container. Required.</summary>
    public string Container { get; set; } = string.Empty;

    /// <summary>The storage account name (<c>AZURE_ACCOUNT_NAME</c>). Required unless a connection string is given.</summary>
    public string? AccountName { get; set; }

    /// <summary>The account's shared key (<c>AZURE_ACCOUNT_KEY</c>). Never logged or shown.</summary>
    public string? AccountKey { get; set; }

    /// <summary>A shared access signature (<c>AZURE_ACCOUNT_SAS</c>), with or without its leading <c>?</c>. Never logged or shown.</summary>
    public string? SasToken { get; set; }

    /// <summary>A storage connection string (<c>AZURE_STORAGE_CONNECTION_STRING</c>), for example the development
    /// storage of azurite. Never logged or shown.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>An Entra ID credential (Azure.Identity), used when no key, SAS or connection string is given.</summary>
    public TokenCredential? Credential { get; set; }

    /// <summary>The blob service endpoint, for example <c>http://127.0.0.1:10000/devstoreaccount1</c>; default
    /// <c>https://ACCOUNT.blob.ENDPOINTSUFFIX</c>.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The DNS suffix of the cloud (<c>AZURE_ENDPOINT_SUFFIX</c>). Default <c>core.windows.net</c>.</summary>
    public string EndpointSuffix { get; set; } = "core.windows.net";

    /// <summary>The access tier of new blobs: <c>Hot</c>, <c>Cool</c>, <c>Cold</c> (not <c>Archive</c>: a repository must
    /// stay readable); null for the account's default.</summary>
    public string? AccessTier { get; set; }

    /// <summary>Files larger than this are uploaded as staged blocks, each retried on its own. Default 64 MiB.</summary>
    public long BlockUploadThreshold { get; set; } = 64L * 1024 * 1024;

    /// <summary>The block size of staged uploads. Default 16 MiB.</summary>
    public long BlockSize { get; set; } = 16L * 1024 * 1024;

    /// <summary>Whether creating a repository creates the container when it does not exist. Default true.</summary>
    public bool CreateContainer { get; set; } = true;

    /// <inheritdoc />
    protected override void AddValidationErrors(ICollection<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (string.IsNullOrWhiteSpace(Container))
        {
            errors.Add("Container is required.");
        }

        if (string.IsNullOrEmpty(ConnectionString) && string.IsNullOrEmpty(AccountName) && Endpoint is null)
        {
            errors.Add("AccountName (or Endpoint, or ConnectionString) is required.");
        }

        if (AccessTier is { Length: > 0 } tier && !(tier.Equals("Hot", StringComparison.OrdinalIgnoreCase) || tier.Equals("Cool", StringComparison.OrdinalIgnoreCase) || tier.Equals("Cold", StringComparison.OrdinalIgnoreCase)))
        {
            errors.Add("AccessTier must be Hot, Cool or Cold.");
        }

        if (BlockSize < 1024 * 1024 || BlockSize > 4000L * 1024 * 1024)
        {
            errors.Add("BlockSize must be between 1 MiB and 4000 MiB.");
        }

        if (BlockUploadThreshold < BlockSize)
        {
            errors.Add("BlockUploadThreshold must be at least BlockSize.");
        }
    }

    /// <summary>Describes the location without credentials.</summary>
    public override string ToString() =>
        $"azure:{Container}:/{Prefix.Trim('/')} (account {AccountName ?? "from the connection string"}, credentials {CredentialKind})";

    internal string CredentialKind =>
        !string.IsNullOrEmpty(ConnectionString) ? "connection string (hidden)"
        : !string.IsNullOrEmpty(AccountKey) ? "shared key (hidden)"
        : !string.IsNullOrEmpty(SasToken) ? "SAS (hidden)"
        : Credential is not null ? "token credential"
        : "DefaultAzureCredential";
}
