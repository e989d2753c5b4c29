using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using KubeBackup.Storage.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KubeBackup.Storage.Rest;

/// <summary>
/// A repository behind restic's REST protocol (version 2 listings): <c>POST ?create=true</c> makes it,
/// <c>GET|HEAD|POST|DELETE /TYPE/NAME</c> reads, stats, writes and removes files (packs live flat under
/// <c>/data/</c>; the server decides their layout), and <c>GET /TYPE/</c> lists with sizes.
/// </summary>
public sealed class RestBackend : IBackend
{
    private static readonly MediaTypeWithQualityHeaderValue ListV2 = new("application/vnd.x.restic.rest.v2");
    private readonly RestBackendOptions _options;
    private readonly HttpClient _http;
    private readonly Uri _base;
    private readonly StorageResiliencePipeline _pipeline;
    private int _disposed;

    /// <summary>Creates the backend. The options are validated here.</summary>
    public RestBackend(RestBackendOptions options, ILogger<RestBackend>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        _options = options;
        _base = options.SafeUrl;
        Location = "rest:" + _base;
        _pipeline = new StorageResiliencePipeline(Location, options.MaxConcurrency, options.Resilience, (ILogger?)logger ?? NullLogger.Instance);
        _http = new HttpClient(options.CreateHttpMessageHandler(), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };

        string? user = options.Username;
        string? password = options.Password;
        if (string.IsNullOrEmpty(user) && options.Url!.UserInfo is { Length: > 0 } info)
        {
            int colon = info.IndexOf(':', StringComparison.Ordinal);
            user = Uri.UnescapeDataString(colon < 0 ? info : info[..colon]);
            password = colon < 0 ? password : Uri.UnescapeDataString(info[(colon + 1)..]);
        }

        if (!string.IsNullOrEmpty(user))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        }
    }

    /// <inheritdoc />
    public string Location { get; }

    /// <inheritdoc />
    public int MaxConcurrency => _options.MaxConcurrency;

    /// <inheritdoc />
    public bool ListsSavedFilesAtOnce => _options.ListsSavedFilesAtOnce;

    /// <summary>The resilience pipeline every call goes through.</summary>
    public StorageResiliencePipeline Pipeline => _pipeline;

    private Uri UriOf(FileHandle handle) =>
        new(_base, handle.Type == FileType.Config ? "config" : $"{FileHandle.DirectoryOf(handle.Type)}/{handle.Name}");

    /// <inheritdoc />
    public async Task CreateAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await StatAsync(FileHandle.Config, cancellationToken).ConfigureAwait(false);
            throw new RepositoryException($"{Location} already holds a repository (it has a config file).");
        }
        catch (StorageFileNotFoundException)
        {
        }

        await SendAsync("create repository", null, () => new HttpRequestMessage(HttpMethod.Post, new Uri(_base, "?create=true")), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task SaveAsync(FileHandle handle, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var uri = UriOf(handle);
        return _pipeline.SaveAsync("save " + handle.RelativePath, content, async (view, length, ct) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new StreamContent(view) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            request.Content.Headers.ContentLength = length;
            using var response = await SendOnceAsync(request, "save", handle, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
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

        await _pipeline.ExecuteAsync("read " + handle.RelativePath, async ct =>
        {
            await using var body = await OpenRangeAsync(handle, offset, destination.Length, ct).ConfigureAwait(false);
            int done;
            try
            {
                done = await body.ReadAtLeastAsync(destination, destination.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException)
            {
                throw new TransientStorageException($"{Location}: read {handle.RelativePath} failed: {ex.Message}", ex);
            }

            if (done < destination.Length)
            {
                throw new StorageException($"{Location}: {handle.RelativePath} is shorter than expected: wanted {destination.Length} bytes at offset {offset}, got {done}.");
            }
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
                return await OpenRangeAsync(handle, from, count, ct).ConfigureAwait(false);
            }
            catch (StorageException ex) when (ex.Data["status"] is 416 && count < 0)
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

    private async ValueTask<Stream> OpenRangeAsync(FileHandle handle, long offset, long count, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, UriOf(handle));
        if (offset > 0 || count >= 0)
        {
            request.Headers.Range = new RangeHeaderValue(offset, count < 0 ? null : offset + count - 1);
        }

        HttpResponseMessage response;
        using (request)
        {
            response = await SendOnceAsync(request, "read", handle, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }

        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.PartialContent || offset == 0)
        {
            return body;
        }

        // A server that ignores Range sends the whole file: skip to the offset.
        await using (body.ConfigureAwait(false))
        {
            var rest = new MemoryStream();
            await body.CopyToAsync(rest, cancellationToken).ConfigureAwait(false);
            if (rest.Length < offset)
            {
                throw new StorageException($"{Location}: {handle.RelativePath} has {rest.Length} bytes; cannot read from offset {offset}.");
            }

            rest.Position = offset;
            return rest;
        }
    }

    /// <inheritdoc />
    public Task<StorageFileInfo> StatAsync(FileHandle handle, CancellationToken cancellationToken = default) =>
        _pipeline.ExecuteAsync("stat " + handle.RelativePath, async ct =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, UriOf(handle));
            using var response = await SendOnceAsync(request, "stat", handle, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            long size = response.Content.Headers.ContentLength
                ?? throw new StorageException($"{Location}: the server gave no size for {handle.RelativePath}.");
            return new StorageFileInfo(handle.Name, size);
        }, cancellationToken).AsTask();

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

        string dir = FileHandle.DirectoryOf(type)!;
        var entries = await _pipeline.ExecuteAsync("list " + dir, async ct =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_base, dir + "/"));
            request.Headers.Accept.Add(ListV2);
            HttpResponseMessage response;
            try
            {
                response = await SendOnceAsync(request, "list " + dir, null, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
            }
            catch (StorageException ex) when (ex.Data["status"] is 404)
            {
                // rest-server answers 404 for a folder that does not exist yet: nothing to list.
                return [];
            }

            using (response)
            {
                try
                {
                    var bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
                    return JsonSerializer.Deserialize(bytes, RestJsonContext.Default.ListEntryArray) ?? [];
                }
                catch (JsonException ex)
                {
                    throw new StorageException($"{Location}: the listing of {dir} is not a version-2 listing: {ex.Message}", ex);
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException)
                {
                    throw new TransientStorageException($"{Location}: list {dir} failed: {ex.Message}", ex);
                }
            }
        }, cancellationToken).ConfigureAwait(false);
        foreach (var entry in entries)
        {
            if (entry.Name is { } name && Restic.ResticId.IsIdName(name))
            {
                yield return new StorageFileInfo(name, entry.Size);
            }
        }
    }

    /// <inheritdoc />
    public async Task RemoveAsync(FileHandle handle, CancellationToken cancellationToken = default)
    {
        // Some servers (rclone) delete missing files silently; the contract reports them. After the stat, a 404 from
        // the delete means an earlier attempt of it went through (its answer was lost): success.
        await StatAsync(handle, cancellationToken).ConfigureAwait(false);
        await SendAsync("remove " + handle.RelativePath, null, () => new HttpRequestMessage(HttpMethod.Delete, UriOf(handle)), cancellationToken, ignoreNotFound: true).ConfigureAwait(false);
    }

    private Task SendAsync(string operation, FileHandle? handle, Func<HttpRequestMessage> createRequest, CancellationToken cancellationToken, bool ignoreNotFound = false) =>
        _pipeline.ExecuteAsync(operation, async ct =>
        {
            using var request = createRequest();
            try
            {
                using var response = await SendOnceAsync(request, operation, handle, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
            }
            catch (StorageException ex) when (ignoreNotFound && ex.Data["status"] is 404)
            {
            }
        }, cancellationToken).AsTask();

    /// <summary>Sends one request and turns failures into storage exceptions: 404 missing, 401/403 refused, 408/429/5xx
    /// and network failures transient, other statuses final.</summary>
    private async Task<HttpResponseMessage> SendOnceAsync(HttpRequestMessage request, string operation, FileHandle? handle, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            throw new TransientStorageException($"{Location}: {operation} failed: {ex.Message}", ex);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        int status = (int)response.StatusCode;
        response.Dispose();
        StorageException error = status switch
        {
            404 when handle is { } h => new StorageFileNotFoundException(h),
            401 or 403 => new StorageAuthenticationException($"{Location}: {operation} failed: HTTP {status}: the server refused the credentials."),
            _ when StorageResiliencePipeline.IsTransientStatus(status) => new TransientStorageException($"{Location}: {operation} failed: HTTP {status}."),
            _ => new StorageException($"{Location}: {operation} failed: HTTP {status}."),
        };
        error.Data["status"] = status;
        throw error;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _http.Dispose();
            _pipeline.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override string ToString() => Location;
}
