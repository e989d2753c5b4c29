using System.Runtime.CompilerServices;
using Azure;
using Azure.Core.Pipeline;
using Azure.Identity;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using KubeBackup.Storage.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KubeBackup.Storage.Azure;

/// <summary>
/// A repository in an Azure Blob Storage container, laid out as restic lays it out. Small files are one upload;
/// large ones are staged blocks (each retried on its own) committed at the end, so a file becomes visible whole
/// or not at all.
/// </summary>
public sealed partial class AzureBackend : IBackend
{
    private readonly AzureBackendOptions _options;
    private readonly BlobContainerClient _container;
    private readonly StorageResiliencePipeline _pipeline;
    private readonly ILogger _logger;
    private readonly AccessTier? _tier;
    private int _disposed;

    /// <summary>Creates the backend. The options are validated here.</summary>
    public AzureBackend(AzureBackendOptions options, ILogger<AzureBackend>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _tier = options.AccessTier is { Length: > 0 } tier ? new AccessTier(tier) : default(AccessTier?);

        var clientOptions = new BlobClientOptions
        {
            Transport = new HttpClientTransport(options.CreateHttpMessageHandler()),
        };
        // Polly retries; the SDK's own retries would multiply attempts and hide them from the circuit breaker.
        clientOptions.Retry.MaxRetries = 0;
        clientOptions.Retry.NetworkTimeout = options.Resilience.AttemptTimeout;

        BlobServiceClient service;
        if (!string.IsNullOrEmpty(options.ConnectionString))
        {
            service = new BlobServiceClient(options.ConnectionString, clientOptions);
        }
        else
        {
            var endpoint = options.Endpoint ?? new Uri($"https://{options.AccountName}.blob.{options.EndpointSuffix}");
            if (!string.IsNullOrEmpty(options.AccountKey))
            {
                service = new BlobServiceClient(endpoint, new StorageSharedKeyCredential(options.AccountName ?? AccountFromEndpoint(endpoint), options.AccountKey), clientOptions);
            }
            else if (!string.IsNullOrEmpty(options.SasToken))
            {
                service = new BlobServiceClient(endpoint, new AzureSasCredential(options.SasToken.TrimStart('?')), clientOptions);
            }
            else
            {
                service = new BlobServiceClient(endpoint, options.Credential ?? new DefaultAzureCredential(), clientOptions);
            }
        }

        _container = service.GetBlobContainerClient(options.Container);
        Location = $"azure:{service.AccountName}/{options.Container}:/{options.Prefix.Trim('/')}";
        _pipeline = new StorageResiliencePipeline(Location, options.MaxConcurrency, options.Resilience, _logger);
    }

    private static string AccountFromEndpoint(Uri endpoint) =>
        endpoint.Host.Split('.')[0] is { Length: > 0 } first && !char.IsDigit(first[0]) ? first : endpoint.AbsolutePath.Trim('/').Split('/')[0];

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
        if (_options.CreateContainer)
        {
            await CallAsync("create container", null, async ct =>
            {
                var created = await _container.CreateIfNotExistsAsync(cancellationToken: ct).ConfigureAwait(false);
                if (created is not null)
                {
                    LogContainerCreated(_logger, Location);
                }

                return true;
            }, cancellationToken).ConfigureAwait(false);
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
    public async Task SaveAsync(FileHandle handle, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var blob = _container.GetBlockBlobClient(_options.ObjectName(handle));
        long length = content.Length - content.Position;
        if (length > _options.BlockUploadThreshold)
        {
            await StagedUploadAsync(handle, blob, content, length, cancellationToken).ConfigureAwait(false);
            return;
        }

        await _pipeline.SaveAsync("save " + handle.RelativePath, content, async (view, _, ct) =>
        {
            await Translate("save", handle, () => blob.UploadAsync(view, new BlobUploadOptions
            {
                AccessTier = _tier,
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
                // One request: the SDK must not split (and retry) on its own.
                TransferOptions = new StorageTransferOptions
                {
                    InitialTransferSize = _options.BlockUploadThreshold,
                    MaximumTransferSize = _options.BlockUploadThreshold,
                    MaximumConcurrency = 1,
                },
            }, ct)).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task StagedUploadAsync(FileHandle handle, BlockBlobClient blob, Stream content, long length, CancellationToken cancellationToken)
    {
        long start = content.Position;
        var blockIds = new List<string>();
        // A random run ID in each block ID keeps blocks of an earlier, failed attempt from mixing with ours.
        Span<byte> run = stackalloc byte[8];
        System.Security.Cryptography.RandomNumberGenerator.Fill(run);
        string runId = Convert.ToHexString(run);
        int index = 0;
        for (long offset = 0; offset < length; offset += _options.BlockSize, index++)
        {
            long blockLength = Math.Min(_options.BlockSize, length - offset);
            long blockStart = start + offset;
            string blockId = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes($"{runId}-{index:D6}"));
            await CallAsync($"stage block {index} of {handle.RelativePath}", handle, async ct =>
            {
                using var view = StorageResiliencePipeline.CreateView(content, blockStart, blockLength);
                await blob.StageBlockAsync(blockId, view, new BlockBlobStageBlockOptions(), ct).ConfigureAwait(false);
                return true;
            }, cancellationToken).ConfigureAwait(false);
            blockIds.Add(blockId);
        }

        // Uncommitted blocks are discarded by the service after a week; nothing is visible until this commit.
        await CallAsync("commit blocks of " + handle.RelativePath, handle, async ct =>
        {
            await blob.CommitBlockListAsync(blockIds, new CommitBlockListOptions
            {
                AccessTier = _tier,
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
            }, ct).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
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

        var blob = _container.GetBlobClient(_options.ObjectName(handle));
        await CallAsync("read " + handle.RelativePath, handle, async ct =>
        {
            var response = await blob.DownloadStreamingAsync(new BlobDownloadOptions { Range = new HttpRange(offset, destination.Length) }, ct).ConfigureAwait(false);
            await using var body = response.Value.Content;
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
        var blob = _container.GetBlobClient(_options.ObjectName(handle));
        return _pipeline.OpenReadAsync("read " + handle.RelativePath, offset, length, async (from, count, ct) =>
        {
            if (count == 0)
            {
                await StatAsync(handle, ct).ConfigureAwait(false);
                return Stream.Null;
            }

            try
            {
                var response = await Translate("read", handle, () => blob.DownloadStreamingAsync(
                    new BlobDownloadOptions { Range = new HttpRange(from, count < 0 ? null : count) }, ct)).ConfigureAwait(false);
                return response.Value.Content;
            }
            catch (StorageException ex) when (ex.InnerException is RequestFailedException { Status: 416 } && count < 0)
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
    public Task<StorageFileInfo> StatAsync(FileHandle handle, CancellationToken cancellationToken = default)
    {
        var blob = _container.GetBlobClient(_options.ObjectName(handle));
        return CallAsync("stat " + handle.RelativePath, handle, async ct =>
        {
            var properties = await blob.GetPropertiesAsync(cancellationToken: ct).ConfigureAwait(false);
            return new StorageFileInfo(handle.Name, properties.Value.ContentLength);
        }, cancellationToken);
    }

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
            var page = await CallAsync("list " + prefix, null, async ct =>
            {
                await foreach (var p in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, ct).AsPages(pageToken, 1000).WithCancellation(ct).ConfigureAwait(false))
                {
                    return p;
                }

                return null;
            }, cancellationToken).ConfigureAwait(false);
            if (page is null)
            {
                yield break;
            }

            foreach (var item in page.Values)
            {
                string name = item.Name[(item.Name.LastIndexOf('/') + 1)..];
                if (Restic.ResticId.IsIdName(name))
                {
                    yield return new StorageFileInfo(name, item.Properties.ContentLength ?? 0);
                }
            }

            token = string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken;
        }
        while (token is not null);
    }

    /// <inheritdoc />
    public async Task RemoveAsync(FileHandle handle, CancellationToken cancellationToken = default)
    {
        // Stat first so a missing file is reported; after that a 404 from the delete means an earlier attempt of this
        // same delete went through (its answer was lost), which is success.
        await StatAsync(handle, cancellationToken).ConfigureAwait(false);
        var blob = _container.GetBlobClient(_options.ObjectName(handle));
        await CallAsync("remove " + handle.RelativePath, null, async ct =>
        {
            await blob.DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, conditions: null, ct).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
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
            throw AzureErrors.Map(ex, Location, operation, handle);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Location}: created the container")]
    private static partial void LogContainerCreated(ILogger logger, string location);
}
