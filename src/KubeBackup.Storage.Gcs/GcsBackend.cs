using System.Net;
using System.Runtime.CompilerServices;
using Google;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Http;
using Google.Cloud.Storage.V1;
using KubeBackup.Storage.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KubeBackup.Storage.Gcs;

/// <summary>
/// A repository in a Google Cloud Storage bucket, laid out as restic lays it out. Uploads are resumable uploads in
/// chunks of <see cref="GcsBackendOptions.ChunkSize"/>; an object becomes visible only when its upload completes.
/// </summary>
public sealed partial class GcsBackend : IBackend
{
    /// <summary>Ranged reads up to this size are buffered in memory; larger ones in a temporary file.</summary>
    private const long MemoryBufferLimit = 32L * 1024 * 1024;

    private readonly GcsBackendOptions _options;
    private readonly StorageClient _client;
    private readonly StorageResiliencePipeline _pipeline;
    private readonly ILogger _logger;
    private int _disposed;

    /// <summary>Creates the backend. The options are validated here.</summary>
    public GcsBackend(GcsBackendOptions options, ILogger<GcsBackend>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        Location = $"gs:{options.Bucket}:/{options.Prefix.Trim('/')}";
        _pipeline = new StorageResiliencePipeline(Location, options.MaxConcurrency, options.Resilience, _logger);

        var builder = new StorageClientBuilder
        {
            HttpClientFactory = new BackendHttpClientFactory(options),
            // The emulator is named explicitly by the options (the provider reads STORAGE_EMULATOR_HOST).
            EmulatorDetection = Google.Api.Gax.EmulatorDetection.None,
        };
        if (options.Endpoint is { } endpoint)
        {
            builder.BaseUri = endpoint.ToString();
        }

        if (options.Credential is { } credential)
        {
            builder.GoogleCredential = credential;
        }
        else if (!string.IsNullOrEmpty(options.AccessToken))
        {
            builder.GoogleCredential = GoogleCredential.FromAccessToken(options.AccessToken);
        }
        else if (!string.IsNullOrEmpty(options.CredentialsFile))
        {
            builder.GoogleCredential = CredentialFactory.FromFile(options.CredentialsFile, ReadCredentialType(options.CredentialsFile));
        }
        else if (options.UnauthenticatedAccess)
        {
            builder.UnauthenticatedAccess = true;
        }

        try
        {
            _client = builder.Build();
        }
        catch (InvalidOperationException ex)
        {
            // Application Default Credentials were asked for and none were found.
            throw new StorageAuthenticationException($"{Location}: no Google credentials: {ex.Message}", ex);
        }
    }

    private static string ReadCredentialType(string path)
    {
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(path));
        return json.RootElement.TryGetProperty("type", out var type) && type.GetString() is { } t
            ? t
            : throw new ArgumentException($"The credentials file {path} has no \"type\".");
    }

    /// <inheritdoc />
    public string Location { get; }

    /// <inheritdoc />
    public int MaxConcurrency => _options.MaxConcurrency;

    /// <inheritdoc />
    public bool ListsSavedFilesAtOnce => _options.ListsSavedFilesAtOnce;

    /// <summary>The resilience pipeline every call goes through.</summary>
    public StorageResiliencePipeline Pipeline => _pipeline;

    /// <inheritdoc />
    public async Task CreateAsync(CancellationToken cancellationToken = default)
    {
        if (_options.CreateBucket && _options.ProjectId is { Length: > 0 } project)
        {
            bool exists = await CallAsync("check bucket", null, async ct =>
            {
                try
                {
                    await _client.GetBucketAsync(_options.Bucket, new GetBucketOptions { RetryOptions = RetryOptions.Never }, ct).ConfigureAwait(false);
                    return true;
                }
                catch (GoogleApiException ex) when (ex.HttpStatusCode == HttpStatusCode.NotFound)
                {
                    return false;
                }
            }, cancellationToken).ConfigureAwait(false);
            if (!exists)
            {
                await CallAsync("create bucket", null, async ct =>
                {
                    try
                    {
                        await _client.CreateBucketAsync(project, _options.Bucket, new CreateBucketOptions { RetryOptions = RetryOptions.Never }, ct).ConfigureAwait(false);
                    }
                    catch (GoogleApiException ex) when (ex.HttpStatusCode == HttpStatusCode.Conflict)
                    {
                        // Created meanwhile (a retried request): fine.
                    }

                    return true;
                }, cancellationToken).ConfigureAwait(false);
                LogBucketCreated(_logger, Location);
            }
        }

        try
        {
            await StatAsync(FileHandle.Config, cancellationToken).ConfigureAwait(false);
        }
        catch (StorageFileNotFoundException)
        {
            return;
        }

        throw new RepositoryException($"{Location} already holds a repository (it has a config file).");
    }

    /// <inheritdoc />
    public Task SaveAsync(FileHandle handle, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        string name = _options.ObjectName(handle);
        return _pipeline.SaveAsync("save " + handle.RelativePath, content, async (view, _, ct) =>
        {
            await Translate("save", handle, () => _client.UploadObjectAsync(_options.Bucket, name, "application/octet-stream", view,
                new UploadObjectOptions { ChunkSize = _options.ChunkSize }, ct)).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask ReadAsync(FileHandle handle, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (destination.Length == 0)
        {
            await StatAsync(handle, cancellationToken).ConfigureAwait(false);
            return;
        }

        await CallAsync("read " + handle.RelativePath, handle, async ct =>
        {
            var target = new MemoryWriteStream(destination);
            await DownloadAsync(handle, offset, destination.Length, target, ct).ConfigureAwait(false);
            if (target.Written < destination.Length)
            {
                throw new StorageException($"{Location}: {handle.RelativePath} is shorter than expected: wanted {destination.Length} bytes at offset {offset}, got {target.Written}.");
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    private Task DownloadAsync(FileHandle handle, long offset, long count, Stream target, CancellationToken cancellationToken) =>
        _client.DownloadObjectAsync(_options.Bucket, _options.ObjectName(handle), target, new DownloadObjectOptions
        {
            Range = new System.Net.Http.Headers.RangeHeaderValue(offset, offset + count - 1),
            DownloadValidationMode = _options.DownloadValidation == GcsDownloadValidation.Never ? DownloadValidationMode.Never : DownloadValidationMode.Always,
        }, cancellationToken);

    /// <inheritdoc />
    public Task<Stream> OpenReadAsync(FileHandle handle, long offset = 0, long length = -1, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        // The client library downloads into a stream rather than handing one out: buffer the range, in memory or on disk.
        return _pipeline.OpenReadAsync("read " + handle.RelativePath, offset, length, async (from, count, ct) =>
        {
            if (count < 0)
            {
                var info = await StatAsync(handle, ct).ConfigureAwait(false);
                if (from > info.Size)
                {
                    throw new StorageException($"{Location}: {handle.RelativePath} has {info.Size} bytes; cannot read from offset {from}.");
                }

                count = info.Size - from;
            }

            if (count == 0)
            {
                await StatAsync(handle, ct).ConfigureAwait(false);
                return Stream.Null;
            }

            Stream buffer = count <= MemoryBufferLimit
                ? new MemoryStream((int)count)
                : new FileStream(Path.Combine(Path.GetTempPath(), $"kb-gcs-{Guid.NewGuid():N}"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None,
                    1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
            try
            {
                await Translate("read", handle, async () =>
                {
                    await DownloadAsync(handle, from, count, buffer, ct).ConfigureAwait(false);
                    return true;
                }).ConfigureAwait(false);
                buffer.Position = 0;
                return buffer;
            }
            catch
            {
                await buffer.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<StorageFileInfo> StatAsync(FileHandle handle, CancellationToken cancellationToken = default) =>
        CallAsync("stat " + handle.RelativePath, handle, async ct =>
        {
            var obj = await _client.GetObjectAsync(_options.Bucket, _options.ObjectName(handle), new GetObjectOptions { RetryOptions = RetryOptions.Never }, ct).ConfigureAwait(false);
            return new StorageFileInfo(handle.Name, (long)(obj.Size ?? 0));
        }, cancellationToken);

    /// <inheritdoc />
    public async IAsyncEnumerable<StorageFileInfo> ListAsync(FileType type, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (type == FileType.Config)
        {
            // The config is one object, not a folder: listing it is looking it up.
            if (await this.TryStatAsync(FileHandle.Config, cancellationToken).ConfigureAwait(false) is { } config)
            {
                yield return config;
            }

            yield break;
        }

        string prefix = _options.ListPrefix(type);
        string? token = null;
        do
        {
            // One page per call, so a retry repeats one page and never yields a name twice.
            string? pageToken = token;
            var page = await CallAsync("list " + prefix, null, ct => _client.ListObjectsAsync(_options.Bucket, prefix, new ListObjectsOptions
            {
                PageSize = 1000,
                PageToken = pageToken,
                RetryOptions = RetryOptions.Never,
                Fields = "nextPageToken,items(name,size)",
            }).ReadPageAsync(1000, ct), cancellationToken).ConfigureAwait(false);
            foreach (var obj in page)
            {
                string name = obj.Name[(obj.Name.LastIndexOf('/') + 1)..];
                if (Restic.ResticId.IsIdName(name))
                {
                    yield return new StorageFileInfo(name, (long)(obj.Size ?? 0));
                }
            }

            token = string.IsNullOrEmpty(page.NextPageToken) ? null : page.NextPageToken;
        }
        while (token is not null);
    }

    /// <inheritdoc />
    public async Task RemoveAsync(FileHandle handle, CancellationToken cancellationToken = default)
    {
        // Stat first so a missing file is reported; after that a 404 from the delete means an earlier attempt of this
        // same delete went through (its answer was lost), which is success.
        await StatAsync(handle, cancellationToken).ConfigureAwait(false);
        await CallAsync("remove " + handle.RelativePath, null, async ct =>
        {
            try
            {
                await _client.DeleteObjectAsync(_options.Bucket, _options.ObjectName(handle), new DeleteObjectOptions { RetryOptions = RetryOptions.Never }, ct).ConfigureAwait(false);
            }
            catch (GoogleApiException ex) when (ex.HttpStatusCode == HttpStatusCode.NotFound)
            {
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _client.Dispose();
            _pipeline.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override string ToString() => Location;

    private Task<T> CallAsync<T>(string operation, FileHandle? handle, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(operation, ct => new ValueTask<T>(Translate(operation, handle, () => call(ct))), cancellationToken).AsTask();

    /// <summary>Runs one client call and turns its failures into the storage exceptions the pipeline and callers understand.</summary>
    private async Task<T> Translate<T>(string operation, FileHandle? handle, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or StorageException))
        {
            throw GcsErrors.Map(ex, Location, operation, handle);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Location}: created the bucket")]
    private static partial void LogBucketCreated(ILogger logger, string location);

    /// <summary>Sends the client library's requests through the backend's handler, with the library's own retries off.</summary>
    private sealed class BackendHttpClientFactory(GcsBackendOptions options) : IHttpClientFactory
    {
        public ConfigurableHttpClient CreateHttpClient(CreateHttpClientArgs args)
        {
            var handler = new ConfigurableMessageHandler(options.CreateHttpMessageHandler())
            {
                ApplicationName = args.ApplicationName,
                GoogleApiClientHeader = args.GoogleApiClientHeader,
                // Polly retries; the library's back-off handlers would multiply attempts and hide them from the circuit breaker.
                NumTries = 1,
                NumRedirects = 5,
            };
            var client = new ConfigurableHttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
            foreach (var initializer in args.Initializers)
            {
                initializer.Initialize(client);
            }

            return client;
        }
    }
}
