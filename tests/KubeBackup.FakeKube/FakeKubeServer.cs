using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace KubeBackup.FakeKube;

/// <summary>Settings of a fake API server.</summary>
public sealed class FakeKubeOptions
{
    /// <summary>Where pod sandboxes, volumes and snapshot contents live. Default: a new temp folder, deleted on dispose.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>Node names the cluster has (DaemonSets get one pod per node). Default: two nodes.</summary>
    public IList<string> Nodes { get; } = ["node-a", "node-b"];

    /// <summary>Run the simulated controllers (snapshot controller, PVC binder, workload controller, kubelet status). Default: true.</summary>
    public bool RunControllers { get; set; } = true;

    /// <summary>The exec WebSocket sub-protocols the server accepts, in preference order. Remove v5 to simulate a
    /// cluster older than Kubernetes 1.30.</summary>
    public IList<string> ExecProtocols { get; } = ["v5.channel.k8s.io", "v4.channel.k8s.io"];
}

/// <summary>
/// A fake Kubernetes API server on 127.0.0.1 for tests that drive the real KubernetesClient over HTTP and WebSocket:
/// discovery, CRUD with the API's concurrency and status rules, watch, patches, selectors, fault injection, simulated
/// controllers and a kubelet that runs exec commands as local processes.
/// </summary>
public sealed class FakeKubeServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly bool _ownsData;
    private readonly CancellationTokenSource _stopping = new();

    private FakeKubeServer(WebApplication app, FakeKubeOptions options, string dataDirectory, bool ownsData)
    {
        _app = app;
        Options = options;
        DataDirectory = dataDirectory;
        _ownsData = ownsData;
        Registry = new ResourceRegistry();
        Store = new ObjectStore(Registry, TimeProvider.System);
        Faults = new FaultInjector();
        Kubelet = new Kubelet(this);
        Controllers = new Controllers(this);
    }

    /// <summary>The server's settings.</summary>
    public FakeKubeOptions Options { get; }

    /// <summary>Where sandboxes, volumes and snapshot contents live.</summary>
    public string DataDirectory { get; }

    /// <summary>The known resource types.</summary>
    public ResourceRegistry Registry { get; }

    /// <summary>The objects.</summary>
    public ObjectStore Store { get; }

    /// <summary>Fault injection and the request log.</summary>
    public FaultInjector Faults { get; }

    /// <summary>The simulated kubelet (exec, sandboxes, pod status).</summary>
    public Kubelet Kubelet { get; }

    /// <summary>The simulated controllers and their knobs.</summary>
    public Controllers Controllers { get; }

    /// <summary>The server's base address, <c>http://127.0.0.1:PORT</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    internal CancellationToken Stopping => _stopping.Token;

    /// <summary>Starts a server on a free port.</summary>
    public static async Task<FakeKubeServer> StartAsync(FakeKubeOptions? options = null)
    {
        options ??= new FakeKubeOptions();
        bool owns = options.DataDirectory is null;
        string data = options.DataDirectory ?? Path.Combine(Path.GetTempPath(), "fakekube-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(data);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(System.Net.IPAddress.Loopback, 0);
            k.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        var server = new FakeKubeServer(app, options, data, owns);
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        app.Run(server.HandleAsync);
        await app.StartAsync().ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseAddress = new Uri(address.Replace("[::1]", "127.0.0.1", StringComparison.Ordinal));
        foreach (var node in options.Nodes)
        {
            server.Store.Create(server.Registry.Find("", "v1", "nodes")!, null, new JsonObject
            {
                ["metadata"] = new JsonObject { ["name"] = node, ["labels"] = new JsonObject { ["kubernetes.io/hostname"] = node } },
            });
        }

        server.Store.Create(server.Registry.Find("", "v1", "namespaces")!, null, new JsonObject { ["metadata"] = new JsonObject { ["name"] = "default" } });
        if (options.RunControllers)
        {
            server.Controllers.Start();
        }

        return server;
    }

    /// <summary>Writes a kubeconfig that points kubectl at this server.</summary>
    public string WriteKubeconfig(string path)
    {
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: {BaseAddress.ToString().TrimEnd('/')}
            contexts:
            - name: fake
              context:
                cluster: fake
                user: fake
                namespace: default
            current-context: fake
            users:
            - name: fake
              user: {"{}"}
            """);
        return path;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        Faults.DropWatches();
        await Controllers.StopAsync().ConfigureAwait(false);
        Kubelet.KillAll();
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        if (_ownsData)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        _stopping.Dispose();
    }

    // -------------------------------------------------------------------------------------------------------------------
    // HTTP

    private async Task HandleAsync(HttpContext ctx)
    {
        var req = ctx.Request;
        string path = req.Path.Value ?? "/";
        string pathAndQuery = path + req.QueryString.Value;
        var (faultStatus, delay) = Faults.Take(req.Method, pathAndQuery);
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, ctx.RequestAborted).ConfigureAwait(false);
        }

        if (faultStatus != 0)
        {
            Faults.Log(new LoggedRequest(req.Method, pathAndQuery, faultStatus, true));
            await WriteStatusAsync(ctx, new ApiException(faultStatus, faultStatus == 409 ? "Conflict" : faultStatus == 429 ? "TooManyRequests" : "InternalError",
                $"injected fault: {faultStatus}")).ConfigureAwait(false);
            return;
        }

        string? error = null;
        try
        {
            await RouteAsync(ctx, path).ConfigureAwait(false);
        }
        catch (ApiException ex)
        {
            error = ex.Message;
            if (!ctx.Response.HasStarted)
            {
                await WriteStatusAsync(ctx, ex).ConfigureAwait(false);
            }
        }
        catch (JsonException ex)
        {
            if (!ctx.Response.HasStarted)
            {
                await WriteStatusAsync(ctx, new ApiException(400, "BadRequest", "the body is not valid JSON: " + ex.Message)).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested || _stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A bug in the fake must show in the test's output, not as an empty 500.
            if (!ctx.Response.HasStarted)
            {
                await WriteStatusAsync(ctx, new ApiException(500, "InternalError", "fake API server error: " + ex)).ConfigureAwait(false);
            }
        }

        Faults.Log(new LoggedRequest(req.Method, pathAndQuery, ctx.Response.StatusCode, false, error));
    }

    private async Task RouteAsync(HttpContext ctx, string path)
    {
        var segs = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segs.Length == 1 && segs[0] == "api")
        {
            await WriteJsonAsync(ctx, 200, new JsonObject
            {
                ["kind"] = "APIVersions",
                ["versions"] = new JsonArray("v1"),
                ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = BaseAddress.Authority }),
            }).ConfigureAwait(false);
            return;
        }

        if (segs.Length == 1 && segs[0] == "apis")
        {
            var groups = new JsonArray();
            foreach (var g in Registry.All.Where(t => t.Group.Length > 0).GroupBy(t => t.Group).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var versions = new JsonArray();
                foreach (var v in g.Select(t => t.Version).Distinct())
                {
                    versions.Add(new JsonObject { ["groupVersion"] = g.Key + "/" + v, ["version"] = v });
                }

                groups.Add(new JsonObject { ["name"] = g.Key, ["versions"] = versions, ["preferredVersion"] = versions[0]!.DeepClone() });
            }

            await WriteJsonAsync(ctx, 200, new JsonObject { ["kind"] = "APIGroupList", ["apiVersion"] = "v1", ["groups"] = groups }).ConfigureAwait(false);
            return;
        }

        if (segs.Length == 1 && segs[0] == "version")
        {
            await WriteJsonAsync(ctx, 200, new JsonObject
            {
                ["major"] = "1", ["minor"] = "32", ["gitVersion"] = "v1.32.0-fake", ["platform"] = "linux/amd64",
            }).ConfigureAwait(false);
            return;
        }

        string group, version;
        int rest;
        if (segs.Length >= 2 && segs[0] == "api")
        {
            group = "";
            version = segs[1];
            rest = 2;
        }
        else if (segs.Length >= 3 && segs[0] == "apis")
        {
            group = segs[1];
            version = segs[2];
            rest = 3;
        }
        else
        {
            throw new ApiException(404, "NotFound", $"the server could not find the requested resource ({path})");
        }

        var r = segs[rest..];
        if (r.Length == 0)
        {
            await WriteResourceListAsync(ctx, group, version).ConfigureAwait(false);
            return;
        }

        string? ns = null;
        if (r[0] == "namespaces" && r.Length >= 3)
        {
            ns = r[1];
            r = r[2..];
        }

        var type = Registry.Find(group, version, r[0]) ?? throw new ApiException(404, "NotFound", $"the server could not find the requested resource ({path})");
        string? name = r.Length > 1 ? r[1] : null;
        string? sub = r.Length > 2 ? r[2] : null;
        if (type.Namespaced && ns is null && name is not null)
        {
            throw new ApiException(404, "NotFound", $"the server could not find the requested resource ({path})");
        }

        if (sub == "exec" && type.Plural == "pods")
        {
            await Kubelet.HandleExecAsync(ctx, ns!, name!).ConfigureAwait(false);
            return;
        }

        if (sub is not null && sub != "status")
        {
            throw new ApiException(404, "NotFound", $"the subresource '{sub}' is not simulated");
        }

        if (sub == "status" && !type.HasStatus)
        {
            throw new ApiException(404, "NotFound", $"{type.Plural} has no status subresource");
        }

        var q = ctx.Request.Query;
        bool dryRun = q["dryRun"].Count > 0;
        bool statusOnly = sub == "status";
        switch (ctx.Request.Method)
        {
            case "GET" when name is null:
                if (q["watch"] is { Count: > 0 } w && (w[0] == "true" || w[0] == "1"))
                {
                    await WatchAsync(ctx, type, ns).ConfigureAwait(false);
                }
                else
                {
                    var (items, rv) = Store.List(type, ns, q["labelSelector"], q["fieldSelector"]);
                    var arr = new JsonArray();
                    foreach (var i in items)
                    {
                        arr.Add(i);
                    }

                    await WriteJsonAsync(ctx, 200, new JsonObject
                    {
                        ["kind"] = type.Kind + "List",
                        ["apiVersion"] = type.ApiVersion,
                        ["metadata"] = new JsonObject { ["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture) },
                        ["items"] = arr,
                    }).ConfigureAwait(false);
                }

                return;
            case "GET":
                await WriteJsonAsync(ctx, 200, Store.Get(type, ns, name!) ?? throw NotFound(type, name!)).ConfigureAwait(false);
                return;
            case "POST" when name is null:
            {
                var body = await ReadObjectAsync(ctx).ConfigureAwait(false);
                await WriteJsonAsync(ctx, 201, Store.Create(type, ns, body, dryRun)).ConfigureAwait(false);
                return;
            }

            case "PUT" when name is not null:
            {
                var body = await ReadObjectAsync(ctx).ConfigureAwait(false);
                await WriteJsonAsync(ctx, 200, Store.Replace(type, ns, name, body, statusOnly, dryRun)).ConfigureAwait(false);
                return;
            }

            case "PATCH" when name is not null:
            {
                string contentType = (ctx.Request.ContentType ?? "").Split(';')[0].Trim();
                var body = await JsonNode.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted).ConfigureAwait(false);
                await WriteJsonAsync(ctx, 200, Store.Patch(type, ns, name, contentType, body, statusOnly, dryRun)).ConfigureAwait(false);
                return;
            }

            case "DELETE" when name is not null:
                await WriteJsonAsync(ctx, 200, Store.Delete(type, ns, name, dryRun)).ConfigureAwait(false);
                return;
            default:
                throw new ApiException(405, "MethodNotAllowed", $"{ctx.Request.Method} is not supported here");
        }
    }

    private async Task WriteResourceListAsync(HttpContext ctx, string group, string version)
    {
        var types = Registry.All.Where(t => t.Group == group && t.Version == version).OrderBy(t => t.Plural, StringComparer.Ordinal).ToList();
        if (types.Count == 0)
        {
            throw new ApiException(404, "NotFound", $"the server could not find the requested resource ({group}/{version})");
        }

        var resources = new JsonArray();
        foreach (var t in types)
        {
            resources.Add(new JsonObject
            {
                ["name"] = t.Plural, ["singularName"] = t.Singular, ["namespaced"] = t.Namespaced, ["kind"] = t.Kind,
                ["verbs"] = new JsonArray("create", "delete", "get", "list", "patch", "update", "watch"),
            });
            if (t.HasStatus)
            {
                resources.Add(new JsonObject
                {
                    ["name"] = t.Plural + "/status", ["singularName"] = "", ["namespaced"] = t.Namespaced, ["kind"] = t.Kind,
                    ["verbs"] = new JsonArray("get", "patch", "update"),
                });
            }
        }

        await WriteJsonAsync(ctx, 200, new JsonObject
        {
            ["kind"] = "APIResourceList", ["apiVersion"] = "v1", ["groupVersion"] = group.Length == 0 ? version : group + "/" + version, ["resources"] = resources,
        }).ConfigureAwait(false);
    }

    private async Task WatchAsync(HttpContext ctx, ResourceType type, string? ns)
    {
        var q = ctx.Request.Query;
        string? rvText = q["resourceVersion"];
        long? from = string.IsNullOrEmpty(rvText) || rvText == "0" ? null : long.Parse(rvText, CultureInfo.InvariantCulture);
        string? labels = q["labelSelector"];
        string? fields = q["fieldSelector"];
        bool bookmarks = q["allowWatchBookmarks"] == "true";
        int timeoutSeconds = int.TryParse(q["timeoutSeconds"], CultureInfo.InvariantCulture, out int t) && t > 0 ? t : 1800;
        bool Filter(StoreEvent e) => e.ResourceType.Group == type.Group && e.ResourceType.Plural == type.Plural && (ns is null || e.Namespace == ns)
            && Selectors.MatchesLabels(e.Object, labels) && Selectors.MatchesFields(e.Object, fields);

        var (watchId, dropped) = Faults.RegisterWatch(ctx.RequestAborted);
        try
        {
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/json";
            StoreSubscription sub;
            try
            {
                sub = Store.Subscribe(Filter, from, type, ns);
            }
            catch (ApiException ex) when (ex.Code == 410)
            {
                // The API server answers a watch from a compacted version with 200 and one ERROR event.
                await WriteLineAsync(ctx, new JsonObject { ["type"] = "ERROR", ["object"] = StatusBody(ex) }, dropped).ConfigureAwait(false);
                return;
            }

            using (sub)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(dropped, _stopping.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds));
                bool any = sub.Events.TryPeek(out _);
                if (!any && bookmarks)
                {
                    // The client reads a first line before it hands out the stream; a bookmark lets a resumed watch with
                    // nothing new return at once.
                    await WriteLineAsync(ctx, new JsonObject
                    {
                        ["type"] = "BOOKMARK",
                        ["object"] = new JsonObject
                        {
                            ["kind"] = type.Kind, ["apiVersion"] = type.ApiVersion,
                            ["metadata"] = new JsonObject { ["resourceVersion"] = sub.StartVersion.ToString(CultureInfo.InvariantCulture) },
                        },
                    }, timeout.Token).ConfigureAwait(false);
                }
                else if (!any)
                {
                    await ctx.Response.StartAsync(timeout.Token).ConfigureAwait(false);
                    await ctx.Response.Body.FlushAsync(timeout.Token).ConfigureAwait(false);
                }

                try
                {
                    await foreach (var e in sub.Events.ReadAllAsync(timeout.Token).ConfigureAwait(false))
                    {
                        await WriteLineAsync(ctx, new JsonObject { ["type"] = e.Type, ["object"] = e.Object.DeepClone() }, timeout.Token).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (!ctx.RequestAborted.IsCancellationRequested)
                {
                    // Timeout, drop or shutdown: end the stream; the client sees a clean end of the watch.
                }
            }

            if (dropped.IsCancellationRequested && !ctx.RequestAborted.IsCancellationRequested && !_stopping.IsCancellationRequested)
            {
                // A dropped watch breaks the connection rather than ending politely.
                ctx.Abort();
            }
        }
        finally
        {
            Faults.UnregisterWatch(watchId);
        }
    }

    private static async Task WriteLineAsync(HttpContext ctx, JsonObject line, CancellationToken ct)
    {
        var bytes = Encoding.UTF8.GetBytes(line.ToJsonString() + "\n");
        await ctx.Response.Body.WriteAsync(bytes, ct).ConfigureAwait(false);
        await ctx.Response.Body.FlushAsync(ct).ConfigureAwait(false);
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpContext ctx)
    {
        var node = await JsonNode.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted).ConfigureAwait(false);
        return node as JsonObject ?? throw new ApiException(400, "BadRequest", "the body must be a JSON object");
    }

    internal static async Task WriteJsonAsync(HttpContext ctx, int status, JsonNode body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(body.ToJsonString(), ctx.RequestAborted).ConfigureAwait(false);
    }

    internal static JsonObject StatusBody(ApiException ex) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = ex.Message,
        ["reason"] = ex.Reason,
        ["code"] = ex.Code,
    };

    internal static Task WriteStatusAsync(HttpContext ctx, ApiException ex) => WriteJsonAsync(ctx, ex.Code, StatusBody(ex));

    private static ApiException NotFound(ResourceType type, string name) =>
        new(404, "NotFound", $"{(type.Group.Length == 0 ? type.Plural : type.Plural + "." + type.Group)} \"{name}\" not found");
}
