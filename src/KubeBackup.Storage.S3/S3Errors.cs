using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using KubeBackup.Storage.Resilience;

namespace KubeBackup.Storage.S3;

/// <summary>Classifies AWS SDK failures: missing, refused credentials, transient (retried) or final.</summary>
internal static class S3Errors
{
    private static readonly HashSet<string> TransientCodes = new(StringComparer.Ordinal)
    {
        "RequestTimeout", "SlowDown", "InternalError", "ServiceUnavailable", "Throttling", "ThrottlingException", "RequestTimeTooSkewed",
    };

    private static readonly HashSet<string> AuthenticationCodes = new(StringComparer.Ordinal)
    {
        "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken", "InvalidToken", "TokenRefreshRequired",
    };

    public static StorageException Map(Exception ex, string location, string operation, FileHandle? handle)
    {
        if (ex is AmazonServiceException service)
        {
            int status = (int)service.StatusCode;
            string code = service.ErrorCode ?? string.Empty;
            string detail = $"{location}: {operation} failed: HTTP {status}{(code.Length > 0 ? " " + code : string.Empty)}";
            if (handle is { } h && (service.StatusCode == HttpStatusCode.NotFound || code == "NoSuchKey"))
            {
                return new StorageFileNotFoundException(h, ex);
            }

            if (status is 401 or 403 || AuthenticationCodes.Contains(code))
            {
                return new StorageAuthenticationException($"{detail}: the credentials were refused ({service.Message})", ex);
            }

            if (StorageResiliencePipeline.IsTransientStatus(status) || TransientCodes.Contains(code))
            {
                return new TransientStorageException($"{detail}: {service.Message}", ex);
            }

            if (status == 0 && StorageResiliencePipeline.IsNetworkFailure(ex))
            {
                return new TransientStorageException($"{location}: {operation} failed: {ex.Message}", ex);
            }

            return new StorageException($"{detail}: {service.Message}", ex);
        }

        if (StorageResiliencePipeline.IsNetworkFailure(ex))
        {
            return new TransientStorageException($"{location}: {operation} failed: {ex.Message}", ex);
        }

        if (ex is AmazonClientException)
        {
            return new StorageException($"{location}: {operation} failed: {ex.Message}", ex);
        }

        return new StorageException($"{location}: {operation} failed: {ex.GetType().Name}: {ex.Message}", ex);
    }
}
