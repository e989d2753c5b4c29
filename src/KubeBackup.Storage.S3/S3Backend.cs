using System.Net;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using KubeBackup.Storage.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KubeBackup.Storage.S3;

/// <summary>
/// A repository in an S3 bucket (Amazon S3 or an S3-compatible store), laid out as restic lays it out
/// (<c>prefix/data/ab/ab12…</c>, <c>prefix/config</c>…). Every call goes through the shared resilience pipeline;
/// large files are uploaded in parts, each retried on its own.
/// </summary>
public sealed partial class S3Backend : IBackend
{
    private readonly S3BackendOptions _options;
    private readonly IAmazonS3 _client;
    private readonly SharedHttpClientFactory _httpFactory;
    private readonly StorageResiliencePipeline _pipeline;
    private readonly ILogger _logger;
    private int _disposed;

    /// <summary>Creates the backend. The options are validated here.</summary>
    public S3Backend(S3BackendOptions options, ILogger<S3Backend>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        Location = $"s3:{options.Endpoint?.GetLeftPart(UriPartial.Authority) ?? "s3.amazonaws.com"}/{options.Bucket}" +
            (options.Prefix.Trim('/') is { Length: > 0 } p ? "/" + p : string.Empty);
        _pipeline = new StorageResiliencePipeline(Location, options.MaxConcurrency, options.Resilience, _logger);
        _httpFactory = new SharedHttpClientFactory(options.CreateHttpMessageHandler());

        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            // Polly retries; the SDK's own retries would multiply attempts and hide them from the circuit breaker.
            MaxErrorRetry = 0,
            HttpClientFactory = _httpFactory,
            Timeout = options.Resilience.AttemptTimeout + TimeSpan.FromSeconds(30),
            // Checksums are computed only where S3 requires them: restic verifies every file by its hash anyway, and
            // trailing checksums need aws-chunked bodies that some S3-compatible servers do not understand.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        string region = options.Region is { Length: > 0 } r ? r : "us-east-1";
        if (options.Endpoint is { } endpoint)
        {
            config.ServiceURL = endpoint.ToString();
            config.AuthenticationRegion = region;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
        }

        _client = string.IsNullOrEmpty(options.AccessKeyId)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(string.IsNullOrEmpty(options.SessionToken)
                ? new BasicAWSCredentials(options.AccessKeyId, options.SecretAccessKey)
                : new SessionAWSCredentials(options.AccessKeyId, options.SecretAccessKey, options.SessionToken), config);
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
        if (_options.CreateBucket && !await BucketExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            await CallAsync("create bucket", null, async ct =>
            {
                try
                {
                    await _client.PutBucketAsync(new PutBucketRequest { BucketName = _options.Bucket, UseClientRegion = true }, ct).ConfigureAwait(false);
                }
                catch (AmazonS3Exception ex) when (ex.ErrorCode is "BucketAlreadyOwnedByYou")
                {
                    // Created meanwhile by us (a retried request) or another process of the same owner: fine.
                }

                return true;
            }, cancellationToken).ConfigureAwait(false);
            LogBucketCreated(_logger, Location);
        }

        if (await ExistsAsync(FileHandle.Config, cancellationToken).ConfigureAwait(false))
        {
            throw new RepositoryException($"{Location} already holds a repository (it has a config file).");
        }
    }

    private Task<bool> BucketExistsAsync(CancellationToken cancellationToken) =>
        CallAsync("check bucket", null, async ct =>
        {
            try
            {
                // Listing one key needs only object-level permission, unlike HeadBucket on some stores.
                await _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _options.Bucket, MaxKeys = 1, Prefix = _options.ObjectName(FileHandle.Config) }, ct).ConfigureAwait(false);
                return true;
            }
            catch (AmazonS3Exception ex) when (ex.ErrorCode == "NoSuchBucket")
            {
                return false;
            }
        }, cancellationToken);

    private async Task<bool> ExistsAsync(FileHandle handle, CancellationToken cancellationToken)
    {
        try
        {
            await StatAsync(handle, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (StorageFileNotFoundException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async Task SaveAsync(FileHandle handle, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        string key = _options.ObjectName(handle);
        long length = content.Length - content.Position;
        if (length > _options.MultipartThreshold)
        {
            await MultipartUploadAsync(handle, key, content, length, cancellationToken).ConfigureAwait(false);
            return;
        }

        await _pipeline.SaveAsync("save " + handle.RelativePath, content, async (view, size, ct) =>
        {
            var request = new PutObjectRequest
            {
                BucketName = _options.Bucket,
                Key = key,
                InputStream = view,
                AutoCloseStream = false,
                UseChunkEncoding = _options.UseChunkEncoding,
                ContentType = "application/octet-stream",
            };
            request.Headers.ContentLength = size;
            ApplyWriteSettings(request);
            await Translate("save", handle, () => _client.PutObjectAsync(request, ct)).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    private void ApplyWriteSettings(PutObjectRequest request)
    {
        if (_options.StorageClass is { Length: > 0 } storageClass)
        {
            request.StorageClass = S3StorageClass.FindValue(storageClass);
        }

        if (_options.ServerSideEncryption is { Length: > 0 } sse)
        {
            request.ServerSideEncryptionMethod = ServerSideEncryptionMethod.FindValue(sse);
            request.ServerSideEncryptionKeyManagementServiceKeyId = _options.ServerSideEncryptionKeyId;
        }
    }

    private async Task MultipartUploadAsync(FileHandle handle, string key, Stream content, long length, CancellationToken cancellationToken)
    {
        long start = content.Position;
        var initiate = new InitiateMultipartUploadRequest { BucketName = _options.Bucket, Key = key, ContentType = "application/octet-stream" };
        if (_options.StorageClass is { Length: > 0 } storageClass)
        {
            initiate.StorageClass = S3StorageClass.FindValue(storageClass);
        }

        if (_options.ServerSideEncryption is { Length: > 0 } sse)
        {
            initiate.ServerSideEncryptionMethod = ServerSideEncryptionMethod.FindValue(sse);
            initiate.ServerSideEncryptionKeyManagementServiceKeyId = _options.ServerSideEncryptionKeyId;
        }

        string uploadId = await CallAsync("start multipart upload of " + handle.RelativePath, handle,
            async ct => (await _client.InitiateMultipartUploadAsync(initiate, ct).ConfigureAwait(false)).UploadId, cancellationToken).ConfigureAwait(false);
        try
        {
            var parts = new List<PartETag>();
            int partNumber = 1;
            for (long offset = 0; offset < length; offset += _options.MultipartPartSize, partNumber++)
            {
                long partLength = Math.Min(_options.MultipartPartSize, length - offset);
                int number = partNumber;
                long partStart = start + offset;
                string etag = await CallAsync($"upload part {number} of {handle.RelativePath}", handle, async ct =>
                {
                    // A fresh view per attempt: a retried part is sent again from its first byte.
                    using var view = StorageResiliencePipeline.CreateView(content, partStart, partLength);
                    var response = await _client.UploadPartAsync(new UploadPartRequest
                    {
                        BucketName = _options.Bucket,
                        Key = key,
                        UploadId = uploadId,
                        PartNumber = number,
                        PartSize = partLength,
                        InputStream = view,
                        UseChunkEncoding = _options.UseChunkEncoding,
                        IsLastPart = offset + partLength >= length,
                    }, ct).ConfigureAwait(false);
                    return response.ETag;
                }, cancellationToken).ConfigureAwait(false);
                parts.Add(new PartETag(number, etag));
            }

            await CallAsync("complete multipart upload of " + handle.RelativePath, handle, async ct =>
            {
                await _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
                {
                    BucketName = _options.Bucket,
                    Key = key,
                    UploadId = uploadId,
                    PartETags = parts,
                }, ct).ConfigureAwait(false);
                return true;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Parts of an abandoned upload cost storage until aborted; nothing is visible under the key either way.
            await AbortQuietlyAsync(key, uploadId).ConfigureAwait(false);
            throw;
        }
    }

    private async Task AbortQuietlyAsync(string key, string uploadId)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _options.Bucket, Key = key, UploadId = uploadId }, cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or OperationCanceledException)
        {
            LogAbortFailed(_logger, Location, ex.Message);
        }
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
            using var response = await _client.GetObjectAsync(new GetObjectRequest
            {
                BucketName = _options.Bucket,
                Key = _options.ObjectName(handle),
                ByteRange = new ByteRange(offset, offset + destination.Length - 1),
            }, ct).ConfigureAwait(false);
            await using var body = response.ResponseStream;
            int done = await body.ReadAtLeastAsync(destination, destination.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false);
            if (done < destination.Length)
            {
                throw new StorageException($"{Location}: {handle.RelativePath} is shorter than expected: wanted {destination.Length} bytes at offset {offset}, got {done}.");
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<Stream> OpenReadAsync(FileHandle handle, long offset = 0, long length = -1, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        return _pipeline.OpenReadAsync("read " + handle.RelativePath, offset, length, async (from, count, ct) =>
        {
            if (count == 0)
            {
                await StatAsync(handle, ct).ConfigureAwait(false);
                return Stream.Null;
            }

            try
            {
                var response = await Translate("read", handle, () => _client.GetObjectAsync(new GetObjectRequest
                {
                    BucketName = _options.Bucket,
                    Key = _options.ObjectName(handle),
                    ByteRange = count < 0 ? new ByteRange($"bytes={from}-") : new ByteRange(from, from + count - 1),
                }, ct)).ConfigureAwait(false);
                return response.ResponseStream;
            }
            catch (StorageException ex) when (ex.InnerException is AmazonS3Exception { StatusCode: HttpStatusCode.RequestedRangeNotSatisfiable } && count < 0)
            {
                // Reading "to the end" from exactly the end is an empty read, not an error.
                var info = await StatAsync(handle, ct).ConfigureAwait(false);
                if (info.Size != from)
                {
                    throw;
                }

                return Stream.Null;
            }
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<StorageFileInfo> StatAsync(FileHandle handle, CancellationToken cancellationToken = default) =>
        CallAsync("stat " + handle.RelativePath, handle, async ct =>
        {
            var metadata = await _client.GetObjectMetadataAsync(_options.Bucket, _options.ObjectName(handle), ct).ConfigureAwait(false);
            return new StorageFileInfo(handle.Name, metadata.ContentLength);
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
            var page = await CallAsync("list " + prefix, null, ct => _client.ListObjectsV2Async(new ListObjectsV2Request
            {
                BucketName = _options.Bucket,
                Prefix = prefix,
                ContinuationToken = pageToken,
                MaxKeys = 1000,
            }, ct), cancellationToken).ConfigureAwait(false);
            foreach (var entry in page.S3Objects ?? [])
            {
                string name = entry.Key[(entry.Key.LastIndexOf('/') + 1)..];
                if (Restic.ResticId.IsIdName(name))
                {
                    yield return new StorageFileInfo(name, entry.Size ?? 0);
                }
            }

            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
    }

    /// <inheritdoc />
    public async Task RemoveAsync(FileHandle handle, CancellationToken cancellationToken = default)
    {
        // S3 deletes missing keys silently; the contract reports them.
        await StatAsync(handle, cancellationToken).ConfigureAwait(false);
        await CallAsync("remove " + handle.RelativePath, handle, async ct =>
        {
            await _client.DeleteObjectAsync(_options.Bucket, _options.ObjectName(handle), ct).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _client.Dispose();
            _httpFactory.Dispose();
            _pipeline.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override string ToString() => Location;

    private Task<T> CallAsync<T>(string operation, FileHandle? handle, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(operation, ct => new ValueTask<T>(Translate(operation, handle, () => call(ct))), cancellationToken).AsTask();

    /// <summary>Runs one SDK call and turns its failures into the storage exceptions the pipeline and callers understand.</summary>
    private async Task<T> Translate<T>(string operation, FileHandle? handle, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or StorageException))
        {
            throw S3Errors.Map(ex, Location, operation, handle);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Location}: created the bucket")]
    private static partial void LogBucketCreated(ILogger logger, string location);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Location}: could not abort an unfinished multipart upload: {Error}")]
    private static partial void LogAbortFailed(ILogger logger, string location, string error);

    /// <summary>Hands the SDK one HttpClient over the backend's handler, so connection pooling, the custom CA and any
    /// wrapping handler apply to every request.</summary>
    private sealed class SharedHttpClientFactory(HttpMessageHandler handler) : HttpClientFactory, IDisposable
    {
        private readonly HttpClient _client = new(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };

        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => _client;

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

        public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;

        public void Dispose() => _client.Dispose();
    }
}
