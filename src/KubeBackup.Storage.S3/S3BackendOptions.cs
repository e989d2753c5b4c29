namespace KubeBackup.Storage.S3;

/// <summary>Where and how an S3 (or S3-compatible) backend stores a repository.</summary>
public sealed class S3BackendOptions : RemoteBackendOptions
{
    /// <summary>The bucket. Required.</summary>
    public string Bucket { get; set; } = string.Empty;

    /// <summary>The service endpoint of an S3-compatible store (MinIO, Ceph, s3rver…), for example
    /// <c>https://minio.example:9000</c>; null for Amazon S3 itself.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The region (<c>AWS_DEFAULT_REGION</c>); default <c>us-east-1</c>. For a custom endpoint it is the signing region.</summary>
    public string? Region { get; set; }

    /// <summary>An access key ID; with <see cref="SecretAccessKey"/>, used instead of the SDK's default credential
    /// chain (environment, profile, web identity, instance role).</summary>
    public string? AccessKeyId { get; set; }

    /// <summary>The secret access key. Never logged or shown.</summary>
    public string? SecretAccessKey { get; set; }

    /// <summary>A session token for temporary credentials. Never logged or shown.</summary>
    public string? SessionToken { get; set; }

    /// <summary>Addresses the bucket in the path (<c>host/bucket/key</c>) instead of the host name; needed by most
    /// S3-compatible stores. Default false (on for custom endpoints when resolved from a location).</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>Whether uploads use <c>aws-chunked</c> signed bodies. On by default, as real S3 expects; some
    /// S3-compatible servers (s3rver) store the chunk framing verbatim over plain http and need it off.</summary>
    public bool UseChunkEncoding { get; set; } = true;

    /// <summary>The storage class of new objects (<c>STANDARD</c>, <c>STANDARD_IA</c>, <c>INTELLIGENT_TIERING</c>…); null for the bucket's default.</summary>
    public string? StorageClass { get; set; }

    /// <summary>Server-side encryption of new objects: <c>AES256</c> or <c>aws:kms</c>; null for the bucket's default.</summary>
    public string? ServerSideEncryption { get; set; }

    /// <summary>The KMS key for <c>aws:kms</c> encryption; null for the account's default key.</summary>
    public string? ServerSideEncryptionKeyId { get; set; }

    /// <summary>Files larger than this are sent as a multipart upload, each part retried on its own. Default 64 MiB.</summary>
    public long MultipartThreshold { get; set; } = 64L * 1024 * 1024;

    /// <summary>The part size of multipart uploads (at least 5 MiB, S3's minimum). Default 16 MiB.</summary>
    public long MultipartPartSize { get; set; } = 16L * 1024 * 1024;

    /// <summary>Whether creating a repository creates the bucket when it does not exist. Default true.</summary>
    public bool CreateBucket { get; set; } = true;

    /// <inheritdoc />
    protected override void AddValidationErrors(ICollection<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (string.IsNullOrWhiteSpace(Bucket))
        {
            errors.Add("Bucket is required.");
        }

        if (string.IsNullOrEmpty(AccessKeyId) != string.IsNullOrEmpty(SecretAccessKey))
        {
            errors.Add("AccessKeyId and SecretAccessKey must be given together (or neither, for the default credential chain).");
        }

        if (Endpoint is { } e && (!e.IsAbsoluteUri || e.Scheme is not ("http" or "https")))
        {
            errors.Add("Endpoint must be an absolute http or https URL.");
        }

        if (MultipartPartSize < 5L * 1024 * 1024 || MultipartPartSize > 5L * 1024 * 1024 * 1024)
        {
            errors.Add("MultipartPartSize must be between 5 MiB and 5 GiB.");
        }

        if (MultipartThreshold < MultipartPartSize)
        {
            errors.Add("MultipartThreshold must be at least MultipartPartSize.");
        }
    }

    /// <summary>Describes the location without credentials.</summary>
    public override string ToString() =>
        $"s3:{Endpoint?.GetLeftPart(UriPartial.Authority) ?? "s3.amazonaws.com"}/{Bucket}/{Prefix.Trim('/')} (region {Region ?? "default"}, " +
        $"{(ForcePathStyle ? "path-style" : "virtual-host")}, credentials {(string.IsNullOrEmpty(AccessKeyId) ? "from the default chain" : "explicit (hidden)")})";
}
