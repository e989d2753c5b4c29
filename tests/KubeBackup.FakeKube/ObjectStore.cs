using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace KubeBackup.FakeKube;

/// <summary>An error the API answers with a <c>Status</c> body.</summary>
public sealed class ApiException : Exception
{
    /// <summary>Creates the error.</summary>
    public ApiException(int code, string reason, string message) : base(message)
    {
        Code = code;
        Reason = reason;
    }

    /// <summary>The HTTP status code.</summary>
    public int Code { get; }

    /// <summary>The <c>Status.reason</c> (NotFound, AlreadyExists, Conflict, Invalid, ...).</summary>
    public string Reason { get; }
}

/// <summary>A change to the store, as a watch reports it.</summary>
/// <param name="ResourceVersion">The store's version after the change.</param>
/// <param name="Type">ADDED, MODIFIED or DELETED.</param>
/// <param name="ResourceType">The object's type.</param>
/// <param name="Object">A copy of the object after the change (before it, for DELETED).</param>
public sealed record StoreEvent(long ResourceVersion, string Type, ResourceType ResourceType, JsonObject Object)
{
    /// <summary>The object's namespace.</summary>
    public string? Namespace => (string?)Object["metadata"]?["namespace"];

    /// <summary>The object's name.</summary>
    public string Name => (string?)Object["metadata"]?["name"] ?? "";
}

/// <summary>
/// The fake server's objects, keyed by group/resource/namespace/name, with the API server's write rules: a global
/// resourceVersion, optimistic concurrency, generation bumps on spec changes, the status subresource, and an event log
/// that watches replay from. One lock guards everything: the fake favours obvious correctness over throughput.
/// </summary>
public sealed class ObjectStore
{
    private readonly object _gate = new();
    private readonly Dictionary<(string Group, string Plural, string Ns, string Name), JsonObject> _objects = [];
    private readonly List<StoreEvent> _log = [];
    private readonly List<Subscription> _subscriptions = [];
    private long _version = 1;
    private long _compactedBelow;

    internal ObjectStore(ResourceRegistry registry, TimeProvider time)
    {
        Registry = registry;
        Time = time;
    }

    /// <summary>The known resource types.</summary>
    public ResourceRegistry Registry { get; }

    internal TimeProvider Time { get; }

    /// <summary>The current resourceVersion of the whole store.</summary>
    public long ResourceVersion
    {
        get
        {
            lock (_gate)
            {
                return _version;
            }
        }
    }

    private sealed class Subscription
    {
        public required Channel<StoreEvent> Channel { get; init; }
        public required Func<StoreEvent, bool> Filter { get; init; }
    }

    /// <summary>Forgets the event log: a watch from an older resourceVersion then gets 410 Gone, as after etcd compaction.</summary>
    public void Compact()
    {
        lock (_gate)
        {
            _compactedBelow = _version;
            _log.Clear();
        }
    }

    /// <summary>Finds the type of a kind/apiVersion or throws.</summary>
    public ResourceType TypeOf(string apiVersion, string kind) =>
        Registry.FindByKind(apiVersion, kind) ?? throw new ApiException(404, "NotFound", $"no resource type for {apiVersion} {kind}");

    /// <summary>Reads a copy of an object, or null.</summary>
    public JsonObject? Get(ResourceType type, string? ns, string name)
    {
        lock (_gate)
        {
            return _objects.TryGetValue(Key(type, ns, name), out var o) ? WithType(o, type) : null;
        }
    }

    /// <summary>Lists copies of the objects of a type (in a namespace, or all), filtered by selectors, with the list's resourceVersion.</summary>
    public (List<JsonObject> Items, long ResourceVersion) List(ResourceType type, string? ns, string? labelSelector = null, string? fieldSelector = null)
    {
        lock (_gate)
        {
            var items = _objects
                .Where(kv => kv.Key.Group == type.Group && kv.Key.Plural == type.Plural && (ns is null || kv.Key.Ns == ns))
                .OrderBy(kv => kv.Key.Ns, StringComparer.Ordinal).ThenBy(kv => kv.Key.Name, StringComparer.Ordinal)
                .Select(kv => WithType(kv.Value, type))
                .Where(o => Selectors.MatchesLabels(o, labelSelector) && Selectors.MatchesFields(o, fieldSelector))
                .ToList();
            return (items, _version);
        }
    }

    /// <summary>Creates an object. Honours <c>generateName</c>; drops status of custom resources with a status subresource.</summary>
    public JsonObject Create(ResourceType type, string? ns, JsonObject obj, bool dryRun = false)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var o = (JsonObject)obj.DeepClone();
        var meta = o["metadata"] as JsonObject ?? new JsonObject();
        o["metadata"] = meta;
        if (type.Namespaced)
        {
            ns ??= (string?)meta["namespace"] ?? "default";
            if ((string?)meta["namespace"] is { } given && given != ns)
            {
                throw new ApiException(400, "BadRequest", "the namespace of the object does not match the namespace of the request");
            }

            meta["namespace"] = ns;
        }
        else
        {
            ns = null;
            meta.Remove("namespace");
        }

        lock (_gate)
        {
            string? name = (string?)meta["name"];
            if (string.IsNullOrEmpty(name))
            {
                string? prefix = (string?)meta["generateName"];
                if (string.IsNullOrEmpty(prefix))
                {
                    throw new ApiException(422, "Invalid", $"{type.Kind} is invalid: metadata.name: Required value");
                }

                do
                {
                    name = prefix + RandomSuffix();
                }
                while (_objects.ContainsKey(Key(type, ns, name)));
                meta["name"] = name;
            }

            if (_objects.ContainsKey(Key(type, ns, name)))
            {
                throw new ApiException(409, "AlreadyExists", $"{type.Plural}.{type.Group} \"{name}\" already exists".Replace(".\"", "\"", StringComparison.Ordinal));
            }

            if (type.IsCustom && type.HasStatus)
            {
                o.Remove("status");
            }

            if (dryRun)
            {
                meta["uid"] = Guid.NewGuid().ToString();
                return WithType(o, type);
            }

            meta["uid"] = Guid.NewGuid().ToString();
            meta["creationTimestamp"] = Timestamp();
            meta["generation"] = 1L;
            meta.Remove("resourceVersion");
            o.Remove("kind");
            o.Remove("apiVersion");
            _objects[Key(type, ns, name)] = o;
            Publish("ADDED", type, o);
            if (type.Plural == "customresourcedefinitions")
            {
                Registry.RegisterCrd(o);
            }

            return WithType(o, type);
        }
    }

    /// <summary>Replaces an object (PUT). A resourceVersion in the body must match the stored one (409 otherwise).</summary>
    /// <param name="type">The type.</param>
    /// <param name="ns">The namespace.</param>
    /// <param name="name">The name.</param>
    /// <param name="obj">The new object.</param>
    /// <param name="statusOnly">A <c>/status</c> write: only status changes.</param>
    /// <param name="dryRun">Validate only.</param>
    public JsonObject Replace(ResourceType type, string? ns, string name, JsonObject obj, bool statusOnly = false, bool dryRun = false)
    {
        ArgumentNullException.ThrowIfNull(obj);
        lock (_gate)
        {
            var current = _objects.GetValueOrDefault(Key(type, ns, name)) ?? throw NotFound(type, name);
            string? rv = (string?)obj["metadata"]?["resourceVersion"];
            if (!string.IsNullOrEmpty(rv) && rv != (string?)current["metadata"]!["resourceVersion"])
            {
                throw Conflict(type, name);
            }

            return Commit(type, ns, name, current, (JsonObject)obj.DeepClone(), statusOnly, dryRun);
        }
    }

    /// <summary>Patches an object with one of the API's patch content types.</summary>
    public JsonObject Patch(ResourceType type, string? ns, string name, string contentType, JsonNode? patch, bool statusOnly = false, bool dryRun = false)
    {
        lock (_gate)
        {
            var current = _objects.GetValueOrDefault(Key(type, ns, name)) ?? throw NotFound(type, name);
            var withType = WithType(current, type);
            JsonNode? patched;
            try
            {
                patched = contentType switch
                {
                    "application/json-patch+json" => Patches.ApplyJsonPatch(withType, patch as JsonArray ?? throw new ApiException(400, "BadRequest", "a JSON patch must be an array")),
                    "application/merge-patch+json" => Patches.ApplyMergePatch(withType, patch),
                    "application/strategic-merge-patch+json" when !type.IsCustom => Patches.ApplyStrategicMergePatch(withType, patch),
                    "application/strategic-merge-patch+json" => throw new ApiException(415, "UnsupportedMediaType", "strategic merge patch is not supported for custom resources"),
                    "application/apply-patch+yaml" => throw new ApiException(415, "UnsupportedMediaType", "server-side apply is not simulated by the fake API server"),
                    _ => throw new ApiException(415, "UnsupportedMediaType", $"the content type '{contentType}' is not a patch type"),
                };
            }
            catch (PatchException ex)
            {
                throw new ApiException(422, "Invalid", "the patch cannot be applied: " + ex.Message);
            }

            if (patched is not JsonObject result)
            {
                throw new ApiException(422, "Invalid", "the patched object is not an object");
            }

            // A patch may carry a resourceVersion precondition (merge patches often do); the patched object then has it.
            string? rv = (string?)result["metadata"]?["resourceVersion"];
            if (!string.IsNullOrEmpty(rv) && rv != (string?)current["metadata"]!["resourceVersion"])
            {
                throw Conflict(type, name);
            }

            return Commit(type, ns, name, current, result, statusOnly, dryRun);
        }
    }

    /// <summary>Changes an object in place, as a controller does, bypassing concurrency checks. <paramref name="mutate"/>
    /// returns false to make no change. Returns the new object, or null if it does not exist.</summary>
    public JsonObject? Update(ResourceType type, string? ns, string name, Func<JsonObject, bool> mutate, bool statusOnly = false)
    {
        ArgumentNullException.ThrowIfNull(mutate);
        lock (_gate)
        {
            if (!_objects.TryGetValue(Key(type, ns, name), out var current))
            {
                return null;
            }

            var copy = WithType(current, type);
            if (!mutate(copy))
            {
                return copy;
            }

            return Commit(type, ns, name, current, copy, statusOnly, false);
        }
    }

    /// <summary>Deletes an object and the objects it owns (ownerReferences), as the garbage collector would.</summary>
    public JsonObject Delete(ResourceType type, string? ns, string name, bool dryRun = false)
    {
        lock (_gate)
        {
            var key = Key(type, ns, name);
            var current = _objects.GetValueOrDefault(key) ?? throw NotFound(type, name);
            if (dryRun)
            {
                return WithType(current, type);
            }

            _objects.Remove(key);
            var deleted = (JsonObject)current.DeepClone();
            deleted["metadata"]!["resourceVersion"] = (++_version).ToString(CultureInfo.InvariantCulture);
            PublishAt(_version, "DELETED", type, deleted);
            string? uid = (string?)current["metadata"]?["uid"];
            var owned = _objects.Where(kv => kv.Value["metadata"]?["ownerReferences"] is JsonArray refs && refs.Any(r => (string?)r?["uid"] == uid)).ToList();
            foreach (var (k, _) in owned)
            {
                var ownedType = Registry.All.FirstOrDefault(t => t.Group == k.Group && t.Plural == k.Plural);
                if (ownedType is not null)
                {
                    Delete(ownedType, k.Ns.Length == 0 ? null : k.Ns, k.Name);
                }
            }

            return WithType(deleted, type);
        }
    }

    private JsonObject Commit(ResourceType type, string? ns, string name, JsonObject current, JsonObject next, bool statusOnly, bool dryRun)
    {
        var meta = next["metadata"] as JsonObject ?? new JsonObject();
        next["metadata"] = meta;
        var curMeta = (JsonObject)current["metadata"]!;
        JsonObject result;
        if (statusOnly)
        {
            // /status: everything but status stays as stored.
            result = (JsonObject)current.DeepClone();
            if (next["status"] is { } st)
            {
                result["status"] = st.DeepClone();
            }
            else
            {
                result.Remove("status");
            }
        }
        else
        {
            result = next;
            result.Remove("kind");
            result.Remove("apiVersion");
            if (type.HasStatus)
            {
                // The main resource ignores status when status is a subresource.
                if (current["status"] is { } st)
                {
                    result["status"] = st.DeepClone();
                }
                else
                {
                    result.Remove("status");
                }
            }

            // Identity and server-owned fields cannot be changed by a client.
            foreach (var f in new[] { "uid", "creationTimestamp", "namespace", "name", "generation" })
            {
                if (curMeta[f] is { } v)
                {
                    meta[f] = v.DeepClone();
                }
            }

            if (!SameSpec(current, result))
            {
                meta["generation"] = ((long?)curMeta["generation"] ?? 1) + 1;
            }
        }

        if (JsonNode.DeepEquals(Strip(current), Strip(result)))
        {
            return WithType(current, type);
        }

        if (dryRun)
        {
            return WithType(result, type);
        }

        _objects[Key(type, ns, name)] = result;
        Publish("MODIFIED", type, result);
        return WithType(result, type);
    }

    private static JsonObject Strip(JsonObject o)
    {
        var c = (JsonObject)o.DeepClone();
        (c["metadata"] as JsonObject)?.Remove("resourceVersion");
        c.Remove("kind");
        c.Remove("apiVersion");
        return c;
    }

    private static bool SameSpec(JsonObject a, JsonObject b)
    {
        static JsonObject Body(JsonObject o)
        {
            var c = (JsonObject)o.DeepClone();
            c.Remove("metadata");
            c.Remove("status");
            c.Remove("kind");
            c.Remove("apiVersion");
            return c;
        }

        return JsonNode.DeepEquals(Body(a), Body(b));
    }

    private void Publish(string eventType, ResourceType type, JsonObject stored)
    {
        _version++;
        stored["metadata"]!["resourceVersion"] = _version.ToString(CultureInfo.InvariantCulture);
        PublishAt(_version, eventType, type, stored);
    }

    private void PublishAt(long version, string eventType, ResourceType type, JsonObject obj)
    {
        var ev = new StoreEvent(version, eventType, type, WithType(obj, type));
        _log.Add(ev);
        foreach (var s in _subscriptions)
        {
            if (s.Filter(ev))
            {
                s.Channel.Writer.TryWrite(ev);
            }
        }
    }

    /// <summary>Subscribes to changes. With <paramref name="fromVersion"/> the events after it are replayed first;
    /// without, the current objects are delivered as ADDED events. Dispose the result to unsubscribe.</summary>
    /// <exception cref="ApiException">410 Gone: the log no longer reaches back to <paramref name="fromVersion"/>.</exception>
    public StoreSubscription Subscribe(Func<StoreEvent, bool> filter, long? fromVersion, ResourceType? initialType = null, string? initialNs = null)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var channel = Channel.CreateUnbounded<StoreEvent>(new UnboundedChannelOptions { SingleReader = true });
        lock (_gate)
        {
            if (fromVersion is { } from)
            {
                if (from < _compactedBelow)
                {
                    throw new ApiException(410, "Expired", $"too old resource version: {from} ({_compactedBelow})");
                }

                foreach (var e in _log.Where(e => e.ResourceVersion > from && filter(e)))
                {
                    channel.Writer.TryWrite(e);
                }
            }
            else if (initialType is not null)
            {
                foreach (var (k, o) in _objects.Where(kv => kv.Key.Group == initialType.Group && kv.Key.Plural == initialType.Plural && (initialNs is null || kv.Key.Ns == initialNs)))
                {
                    var ev = new StoreEvent(long.Parse((string)o["metadata"]!["resourceVersion"]!, CultureInfo.InvariantCulture), "ADDED", initialType, WithType(o, initialType));
                    if (filter(ev))
                    {
                        channel.Writer.TryWrite(ev);
                    }
                }
            }

            var sub = new Subscription { Channel = channel, Filter = filter };
            _subscriptions.Add(sub);
            return new StoreSubscription(channel.Reader, _version, () =>
            {
                lock (_gate)
                {
                    _subscriptions.Remove(sub);
                }

                channel.Writer.TryComplete();
            });
        }
    }

    private static (string, string, string, string) Key(ResourceType type, string? ns, string name) => (type.Group, type.Plural, type.Namespaced ? ns ?? "" : "", name);

    private static JsonObject WithType(JsonObject o, ResourceType type)
    {
        var c = new JsonObject { ["kind"] = type.Kind, ["apiVersion"] = type.ApiVersion };
        foreach (var (k, v) in o)
        {
            if (k is not ("kind" or "apiVersion"))
            {
                c[k] = v?.DeepClone();
            }
        }

        return c;
    }

    internal string Timestamp() => Time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string RandomSuffix()
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        return string.Create(5, 0, (span, _) =>
        {
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = alphabet[Random.Shared.Next(alphabet.Length)];
            }
        });
    }

    private static ApiException NotFound(ResourceType type, string name) =>
        new(404, "NotFound", $"{(type.Group.Length == 0 ? type.Plural : type.Plural + "." + type.Group)} \"{name}\" not found");

    private static ApiException Conflict(ResourceType type, string name) =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {(type.Group.Length == 0 ? type.Plural : type.Plural + "." + type.Group)} \"{name}\": the object has been modified; please apply your changes to the latest version and try again");
}

/// <summary>A live subscription to store events.</summary>
public sealed class StoreSubscription : IDisposable
{
    private readonly Action _dispose;

    internal StoreSubscription(ChannelReader<StoreEvent> events, long version, Action dispose)
    {
        Events = events;
        StartVersion = version;
        _dispose = dispose;
    }

    /// <summary>The events, in order.</summary>
    public ChannelReader<StoreEvent> Events { get; }

    /// <summary>The store's version when the subscription started.</summary>
    public long StartVersion { get; }

    /// <inheritdoc />
    public void Dispose() => _dispose();
}
