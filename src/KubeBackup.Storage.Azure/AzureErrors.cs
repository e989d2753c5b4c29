using Azure;
using Azure.Identity;
using KubeBackup.Storage.Resilience;

namespace KubeBackup.Storage.Azure;

/// <summary>Classifies Azure SDK failures: missing, refused credentials, transient (retried) or final.</summary>
internal static class AzureErrors
{
    public static StorageException Map(Exception ex, string location, string operation, FileHandle? handle)
    {
        if (ex is AuthenticationFailedException or CredentialUnavailableException)
        {
            return new StorageAuthenticationException($"{location}: {operation} failed: no usable Azure credential: {ex.Message}", ex);
        }

        if (ex is RequestFailedException failed)
        {
            // The SDK's message lists request headers (sanitized); ours carries only status and error code.
            string code = failed.ErrorCode ?? string.Empty;
            string detail = $"{location}: {operation} failed: HTTP {failed.Status}{(code.Length > 0 ? " " + code : string.Empty)}";
            if (handle is { } h && failed.Status == 404)
            {
                return new StorageFileNotFoundException(h, ex);
            }

            if (failed.Status is 401 or 403)
            {
                return new StorageAuthenticationException($"{detail}: the credentials were refused", ex);
            }

            if (StorageResiliencePipeline.IsTransientStatus(failed.Status) || code is "ServerBusy" or "OperationTimedOut" or "InternalError")
            {
                return new TransientStorageException(detail, ex);
            }

            if (failed.Status == 0 && StorageResiliencePipeline.IsNetworkFailure(ex))
            {
                return new TransientStorageException($"{detail}: {ex.InnerException?.Message ?? "network failure"}", ex);
            }

            return new StorageException(detail, ex);
        }

        if (StorageResiliencePipeline.IsNetworkFailure(ex))
        {
            return new TransientStorageException($"{location}: {operation} failed: {ex.Message}", ex);
        }

        return new StorageException($"{location}: {operation} failed: {ex.GetType().Name}: {ex.Message}", ex);
    }
}
