using Google;
using Google.Apis.Auth.OAuth2.Responses;
using KubeBackup.Storage.Resilience;

namespace KubeBackup.Storage.Gcs;

/// <summary>Classifies Google client failures: missing, refused credentials, transient (retried) or final.</summary>
internal static class GcsErrors
{
    public static StorageException Map(Exception ex, string location, string operation, FileHandle? handle)
    {
        if (ex is TokenResponseException token)
        {
            return new StorageAuthenticationException($"{location}: {operation} failed: the credentials were refused ({token.Error?.Error})", ex);
        }

        if (ex is GoogleApiException api)
        {
            int status = (int)api.HttpStatusCode;
            string detail = $"{location}: {operation} failed: HTTP {status}";
            if (handle is { } h && status == 404)
            {
                return new StorageFileNotFoundException(h, ex);
            }

            if (status is 401 or 403)
            {
                return new StorageAuthenticationException($"{detail}: the credentials were refused ({api.Error?.Message})", ex);
            }

            if (StorageResiliencePipeline.IsTransientStatus(status))
            {
                return new TransientStorageException($"{detail}: {api.Error?.Message}", ex);
            }

            if (status == 0 && StorageResiliencePipeline.IsNetworkFailure(ex))
            {
                return new TransientStorageException($"{location}: {operation} failed: {ex.InnerException?.Message ?? ex.Message}", ex);
            }

            return new StorageException($"{detail}: {api.Error?.Message ?? ex.Message}", ex);
        }

        if (StorageResiliencePipeline.IsNetworkFailure(ex))
        {
            return new TransientStorageException($"{location}: {operation} failed: {ex.Message}", ex);
        }

        return new StorageException($"{location}: {operation} failed: {ex.GetType().Name}: {ex.Message}", ex);
    }
}
