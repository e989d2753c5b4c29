using Google.Apis.Auth.OAuth2;

namespace KubeBackup.Storage.Gcs;

/// <summary>How downloads of ranges are checked against the object's hash.</summary>
public enum GcsDownloadValidation
{
    /// <summary>Validate when the service sends a hash for what was downloaded (the client library's default).</summary>
    Automatic,

    /// <summary>Never validate. For emulators that send the whole object's hash with a partial (206) response;
    /// restic verifies every blob by its own hash anyway.</summary>
    Never,
}

/// <summary>Where and how a Google Cloud Storage backend stores a repository.</summary>
/// <remarks>Credentials, in order: <see cref="Credential"/>, <see cref="AccessToken"/>, <see cref="CredentialsFile"/>,
/// none when <see cref="UnauthenticatedAccess"/>, else Application Default Credentials.</remarks>
public sealed class GcsBackendOptions : RemoteBackendOptions
{
    /// <summary>The bucket. Required.</summary>
    public string Bucket { get; set; } = string.Empty;

    /// <summary>The project that owns the bucket (<c>GOOGLE_PROJECT_ID</c>); needed only to create the bucket.</summary>
    public string? ProjectId { get; set; }

    /// <summary>A service-account or external-account JSON key file (<c>GOOGLE_APPLICATION_CREDENTIALS</c>).</summary>
    public string? CredentialsFile { get; set; }

    /// <summary>An OAuth access token (<c>GOOGLE_ACCESS_TOKEN</c>). Never logged or shown.</summary>
    public string? AccessToken { get; set; }

    /// <summary>An explicit credential.</summary>
    public GoogleCredential? Credential { get; set; }

    /// <summary>Sends no credentials at all: for emulators.</summary>
    public bool UnauthenticatedAccess { get; set; }

    /// <summary>The JSON API base URI, for example <c>http://127.0.0.1:9199/storage/v1/</c> for an emulator
    /// (<c>STORAGE_EMULATOR_HOST</c>); null for Google Cloud Storage.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The chunk size of (resumable) uploads, a multiple of 256 KiB. Default 16 MiB. The firebase storage
    /// emulator keeps only the first chunk of a multi-chunk upload: against it, use at least the largest file size.</summary>
    public int ChunkSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>How ranged downloads are validated. Default <see cref="GcsDownloadValidation.Automatic"/>.</summary>
    public GcsDownloadValidation DownloadValidation { get; set; } = GcsDownloadValidation.Automatic;

    /// <summary>Whether creating a repository creates the bucket when missing (needs <see cref="ProjectId"/>).
    /// Default true; emulators without a bucket API need it off.</summary>
    public bool CreateBucket { get; set; } = true;

    /// <inheritdoc />
    protected override void AddValidationErrors(ICollection<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (string.IsNullOrWhiteSpace(Bucket))
        {
            errors.Add("Bucket is required.");
        }

        if (ChunkSize <= 0 || ChunkSize % (256 * 1024) != 0)
        {
            errors.Add("ChunkSize must be a positive multiple of 256 KiB.");
        }

        if (CredentialsFile is { Length: > 0 } file && !File.Exists(file))
        {
            errors.Add($"CredentialsFile '{file}' does not exist.");
        }

        if (Endpoint is { } e && (!e.IsAbsoluteUri || e.Scheme is not ("http" or "https")))
        {
            errors.Add("Endpoint must be an absolute http or https URL.");
        }
    }

    /// <summary>Describes the location without credentials.</summary>
    public override string ToString() =>
        $"gs:{Bucket}:/{Prefix.Trim('/')} ({(Endpoint is null ? "Google Cloud Storage" : "endpoint " + Endpoint)}, credentials {CredentialKind})";

    internal string CredentialKind =>
        Credential is not null ? "explicit"
        : !string.IsNullOrEmpty(AccessToken) ? "access token (hidden)"
        : !string.IsNullOrEmpty(CredentialsFile) ? "key file " + CredentialsFile
        : UnauthenticatedAccess ? "none"
        : "application default";
}
