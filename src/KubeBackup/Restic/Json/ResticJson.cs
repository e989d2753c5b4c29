using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using KubeBackup.Restic.Chunking;
using KubeBackup.Restic.Model;
using static KubeBackup.Restic.Json.GoJsonReading;

namespace KubeBackup.Restic.Json;

/// <summary>
/// Reads and writes restic's JSON documents. Writing follows Go's <c>encoding/json</c> byte for byte (field order,
/// omitempty, escaping, time format, Go-quoted node names), so trees we write hash the same as restic's and deduplicate
/// against them. Reading is as lenient as Go's decoder: unknown fields ignored, field names matched case-insensitively,
/// <c>null</c> slices accepted. Malformed input raises <see cref="FormatException"/> (callers wrap it with the file name).
/// </summary>
internal static class ResticJson
{
    // ---------------------------------------------------------------------------------------------------------------
    // Trees and nodes
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>Writes a tree blob's exact bytes: <c>{"nodes":[…]}</c> and a newline.</summary>
    /// <remarks>As restic's tree builder, this refuses nodes that are not in strictly ascending byte order of their
    /// names (readers binary-search or merge trees and silently misbehave otherwise), and empty names.</remarks>
    /// <exception cref="ArgumentException">The nodes are not sorted, repeat a name, or a node cannot be written.</exception>
    public static void WriteTree(IReadOnlyList<Node> nodes, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var w = new GoJsonWriter(output);
        w.Raw("{\"nodes\":["u8);
        byte[]? previous = null;
        for (int i = 0; i < nodes.Count; i++)
        {
            Node node = nodes[i];
            ArgumentNullException.ThrowIfNull(node, nameof(nodes));
            if (node.Name is null || node.Name.Length == 0)
            {
                throw new ArgumentException($"Node {i} of the tree has an empty name.", nameof(nodes));
            }

            if (previous is not null)
            {
                int order = previous.AsSpan().SequenceCompareTo(node.Name);
                if (order >= 0)
                {
                    throw new ArgumentException(
                        $"The tree's nodes are not sorted by name: \"{node.DisplayName}\" {(order == 0 ? "repeats" : "comes after")} " +
                        $"\"{Encoding.UTF8.GetString(previous)}\".",
                        nameof(nodes));
                }

                w.Raw((byte)',');
            }

            WriteNodeCore(node, w);
            previous = node.Name;
        }

        w.Raw("]}\n"u8);
    }

    /// <summary>Reads a tree blob.</summary>
    /// <exception cref="FormatException">The JSON is malformed, has no <c>nodes</c>, or a node is invalid.</exception>
    public static Tree ReadTree(ReadOnlySpan<byte> json)
    {
        try
        {
            var r = Create(json);
            StartObject(ref r, "tree");
            var tree = new Tree();
            bool sawNodes = false;
            while (NextProperty(ref r, out var name))
            {
                if (!NameIs(name, "nodes"u8))
                {
                    r.Skip();
                    continue;
                }

                // A repeated key replaces the earlier value, as in Go.
                sawNodes = true;
                tree.Nodes.Clear();
                if (!ExpectArray(ref r, "nodes"))
                {
                    continue;
                }

                while (true)
                {
                    Read(ref r);
                    if (r.TokenType == JsonTokenType.EndArray)
                    {
                        break;
                    }

                    ExpectObject(ref r, "nodes[]", allowNull: false);
                    tree.Nodes.Add(ReadNodeCore(ref r, json));
                }
            }

            End(ref r);
            if (!sawNodes)
            {
                throw new FormatException("The tree has no 'nodes' field.");
            }

            return tree;
        }
        catch (JsonException e)
        {
            throw Malformed("tree", e);
        }
    }

    /// <summary>Writes one node as Go's <c>json.Marshal</c> would.</summary>
    /// <exception cref="ArgumentException">A generic attribute is not valid JSON.</exception>
    public static void WriteNode(Node node, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(node);
        WriteNodeCore(node, new GoJsonWriter(output));
    }

    /// <summary>Reads one node (a JSON object as it appears in a tree's <c>nodes</c>).</summary>
    /// <exception cref="FormatException">The JSON is malformed or not a valid node.</exception>
    public static Node ReadNode(ReadOnlySpan<byte> json)
    {
        try
        {
            var r = Create(json);
            StartObject(ref r, "node");
            Node node = ReadNodeCore(ref r, json);
            End(ref r);
            return node;
        }
        catch (JsonException e)
        {
            throw Malformed("node", e);
        }
    }

    private static void WriteNodeCore(Node node, GoJsonWriter w)
    {
        // Field order and omitempty follow restic's Node struct (0.14, plus the later linktarget_raw and
        // generic_attributes in their places).
        w.Raw("{\"name\":"u8);
        w.GoQuotedString(node.Name);
        w.Raw(",\"type\":"u8);
        w.Raw(TypeName(node.Type));
        if (node.Mode != 0)
        {
            w.Raw(",\"mode\":"u8);
            w.Number(node.Mode);
        }

        // time.Time is a struct, so omitempty never drops it.
        w.Raw(",\"mtime\":"u8);
        w.Time(node.ModTime);
        w.Raw(",\"atime\":"u8);
        w.Time(node.AccessTime);
        w.Raw(",\"ctime\":"u8);
        w.Time(node.ChangeTime);
        w.Raw(",\"uid\":"u8);
        w.Number(node.Uid);
        w.Raw(",\"gid\":"u8);
        w.Number(node.Gid);
        if (!string.IsNullOrEmpty(node.User))
        {
            w.Raw(",\"user\":"u8);
            w.String(node.User);
        }

        if (!string.IsNullOrEmpty(node.Group))
        {
            w.Raw(",\"group\":"u8);
            w.String(node.Group);
        }

        WriteNonZero(w, ",\"inode\":"u8, node.Inode);
        WriteNonZero(w, ",\"device_id\":"u8, node.DeviceId);
        WriteNonZero(w, ",\"size\":"u8, node.Size);
        WriteNonZero(w, ",\"links\":"u8, node.Links);
        if (node.LinkTarget is { Length: > 0 } target)
        {
            // Go's encoder turns each bad byte into U+FFFD, so restic 0.16+ adds the raw bytes as base64. restic 0.14
            // ignores that field, so a tree holding such a symlink differs from 0.14's bytes by exactly this field.
            w.Raw(",\"linktarget\":"u8);
            w.String(target);
            if (!Utf8.IsValid(target))
            {
                w.Raw(",\"linktarget_raw\":"u8);
                w.Base64(target);
            }
        }

        if (node.ExtendedAttributes is { Count: > 0 } xattrs)
        {
            w.Raw(",\"extended_attributes\":["u8);
            for (int i = 0; i < xattrs.Count; i++)
            {
                if (i > 0)
                {
                    w.Raw((byte)',');
                }

                w.Raw("{\"name\":"u8);
                w.String(xattrs[i].Name);
                w.Raw(",\"value\":"u8);
                if (xattrs[i].Value is { } value)
                {
                    w.Base64(value);
                }
                else
                {
                    w.Null();
                }

                w.Raw((byte)'}');
            }

            w.Raw((byte)']');
        }

        if (node.GenericAttributes is { Count: > 0 } generic)
        {
            WriteGenericAttributes(w, generic);
        }

        WriteNonZero(w, ",\"device\":"u8, node.Device);

        // Never omitted: null for non-files, [] for an empty file (restic check rejects a file with a nil list).
        w.Raw(",\"content\":"u8);
        if (node.Content is null)
        {
            w.Null();
        }
        else
        {
            w.Raw((byte)'[');
            for (int i = 0; i < node.Content.Count; i++)
            {
                if (i > 0)
                {
                    w.Raw((byte)',');
                }

                w.Id(node.Content[i]);
            }

            w.Raw((byte)']');
        }

        if (node.Subtree is { } subtree)
        {
            w.Raw(",\"subtree\":"u8);
            w.Id(subtree);
        }

        if (!string.IsNullOrEmpty(node.Error))
        {
            w.Raw(",\"error\":"u8);
            w.String(node.Error);
        }

        w.Raw((byte)'}');
    }

    private static void WriteGenericAttributes(GoJsonWriter w, SortedDictionary<string, byte[]> generic)
    {
        // Go writes map keys sorted by their UTF-8 bytes; the dictionary's own comparer may order differently.
        var keys = new byte[generic.Count][];
        var values = new byte[generic.Count][];
        int n = 0;
        foreach (var (key, value) in generic)
        {
            keys[n] = Encoding.UTF8.GetBytes(key);
            values[n] = value;
            n++;
        }

        Array.Sort(keys, values, Utf8Order.Instance);
        w.Raw(",\"generic_attributes\":{"u8);
        for (int i = 0; i < n; i++)
        {
            if (i > 0)
            {
                w.Raw((byte)',');
            }

            w.String(keys[i]);
            w.Raw((byte)':');
            if (values[i] is null)
            {
                w.Null();
            }
            else
            {
                w.RawValue(values[i]);
            }
        }

        w.Raw((byte)'}');
    }

    private static Node ReadNodeCore(ref Utf8JsonReader r, ReadOnlySpan<byte> json)
    {
        byte[]? name = null;
        NodeType? type = null;
        uint mode = 0, uid = 0, gid = 0;
        GoTime mtime = default, atime = default, ctime = default;
        string? user = null, group = null, error = null;
        ulong inode = 0, deviceId = 0, size = 0, links = 0, device = 0;
        byte[]? linkTarget = null, linkTargetRaw = null;
        List<ExtendedAttribute>? xattrs = null;
        SortedDictionary<string, byte[]>? generic = null;
        List<ResticId>? content = null;
        ResticId? subtree = null;

        while (NextProperty(ref r, out var field))
        {
            // A plain chain rather than a switch on length: Go's folding lets a key match a field with a different
            // byte length (the Kelvin sign is 3 bytes for 'k', the long s 2 bytes for 's').
            if (NameIs(field, "name"u8))
            {
                if (StringBytes(ref r, "name") is { } quoted)
                {
                    name = Unquote(quoted);
                }
            }
            else if (NameIs(field, "type"u8))
            {
                if (StringBytes(ref r, "type") is { } typeName)
                {
                    type = ParseType(typeName);
                }
            }
            else if (NameIs(field, "mode"u8)) mode = UInt32(ref r, mode, "mode");
            else if (NameIs(field, "mtime"u8)) mtime = Time(ref r, mtime, "mtime");
            else if (NameIs(field, "atime"u8)) atime = Time(ref r, atime, "atime");
            else if (NameIs(field, "ctime"u8)) ctime = Time(ref r, ctime, "ctime");
            else if (NameIs(field, "uid"u8)) uid = UInt32(ref r, uid, "uid");
            else if (NameIs(field, "gid"u8)) gid = UInt32(ref r, gid, "gid");
            else if (NameIs(field, "user"u8)) user = String(ref r, user, "user");
            else if (NameIs(field, "group"u8)) group = String(ref r, group, "group");
            else if (NameIs(field, "inode"u8)) inode = UInt64(ref r, inode, "inode");
            else if (NameIs(field, "device_id"u8)) deviceId = UInt64(ref r, deviceId, "device_id");
            else if (NameIs(field, "size"u8)) size = UInt64(ref r, size, "size");
            else if (NameIs(field, "links"u8)) links = UInt64(ref r, links, "links");
            else if (NameIs(field, "content"u8)) content = IdList(ref r, "content");
            else if (NameIs(field, "subtree"u8)) subtree = OptionalId(ref r, "subtree");
            else if (NameIs(field, "linktarget"u8)) linkTarget = StringBytes(ref r, "linktarget") ?? linkTarget;
            else if (NameIs(field, "linktarget_raw"u8)) linkTargetRaw = Base64(ref r, "linktarget_raw");
            else if (NameIs(field, "extended_attributes"u8)) xattrs = ReadExtendedAttributes(ref r);
            else if (NameIs(field, "generic_attributes"u8)) generic = ReadGenericAttributes(ref r, json);
            else if (NameIs(field, "device"u8)) device = UInt64(ref r, device, "device");
            else if (NameIs(field, "error"u8)) error = String(ref r, error, "error");
            else r.Skip();
        }

        if (name is null)
        {
            throw new FormatException("A node has no 'name'.");
        }

        if (type is null)
        {
            throw new FormatException($"Node \"{Encoding.UTF8.GetString(name)}\" has no 'type'.");
        }

        return new Node
        {
            Name = name,
            Type = type.Value,
            Mode = mode,
            ModTime = mtime,
            AccessTime = atime,
            ChangeTime = ctime,
            Uid = uid,
            Gid = gid,
            User = user,
            Group = group,
            Inode = inode,
            DeviceId = deviceId,
            Size = size,
            Links = links,

            // linktarget_raw, when present, holds the exact bytes; linktarget then has U+FFFD for the bad ones.
            LinkTarget = linkTargetRaw ?? linkTarget,
            ExtendedAttributes = xattrs,
            GenericAttributes = generic,
            Device = device,
            Content = content,
            Subtree = subtree,
            Error = error,
        };
    }

    private static List<ExtendedAttribute>? ReadExtendedAttributes(ref Utf8JsonReader r)
    {
        if (!ExpectArray(ref r, "extended_attributes"))
        {
            return null;
        }

        var list = new List<ExtendedAttribute>();
        while (true)
        {
            Read(ref r);
            if (r.TokenType == JsonTokenType.EndArray)
            {
                return list;
            }

            // A null element is a zero-valued struct in Go.
            string attrName = "";
            byte[] value = [];
            if (ExpectObject(ref r, "extended_attributes[]", allowNull: true))
            {
                while (NextProperty(ref r, out var field))
                {
                    if (NameIs(field, "name"u8))
                    {
                        attrName = String(ref r, attrName, "extended_attributes[].name")!;
                    }
                    else if (NameIs(field, "value"u8))
                    {
                        value = Base64(ref r, "extended_attributes[].value") ?? [];
                    }
                    else
                    {
                        r.Skip();
                    }
                }
            }

            list.Add(new ExtendedAttribute(attrName, value));
        }
    }

    private static SortedDictionary<string, byte[]>? ReadGenericAttributes(ref Utf8JsonReader r, ReadOnlySpan<byte> json)
    {
        if (!ExpectObject(ref r, "generic_attributes", allowNull: true))
        {
            return null;
        }

        var map = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        while (true)
        {
            Read(ref r);
            if (r.TokenType == JsonTokenType.EndObject)
            {
                return map;
            }

            string key = GetPropertyName(ref r);
            Read(ref r);
            map[key] = RawValue(ref r, json);
        }
    }

    private static string GetPropertyName(ref Utf8JsonReader r)
    {
        ReadOnlySpan<byte> raw = r.ValueSpan;
        if (!r.ValueIsEscaped && Utf8.IsValid(raw))
        {
            return Encoding.UTF8.GetString(raw);
        }

        byte[] buffer = new byte[raw.Length * 3];
        return Encoding.UTF8.GetString(buffer, 0, Unescape(raw, buffer));
    }

    private static byte[] Unquote(byte[] quoted)
    {
        // Almost every name has nothing to unquote; skip the copy then.
        if (quoted.AsSpan().IndexOfAny((byte)'\\', (byte)'"', (byte)'\n') < 0)
        {
            return quoted;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(quoted.Length * 3);
        try
        {
            if (!GoStrconv.TryUnquoteInner(quoted, buffer, out int written, out string? error))
            {
                throw new FormatException($"Node name \"{Encoding.UTF8.GetString(quoted)}\" is not a valid Go-quoted string: {error}.");
            }

            return buffer.AsSpan(0, written).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ReadOnlySpan<byte> TypeName(NodeType type) => type switch
    {
        NodeType.File => "\"file\""u8,
        NodeType.Dir => "\"dir\""u8,
        NodeType.Symlink => "\"symlink\""u8,
        NodeType.Dev => "\"dev\""u8,
        NodeType.CharDev => "\"chardev\""u8,
        NodeType.Fifo => "\"fifo\""u8,
        NodeType.Socket => "\"socket\""u8,

        // Written only so that trees read from newer restic round-trip; the archiver never creates it.
        NodeType.Irregular => "\"irregular\""u8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown node type."),
    };

    private static NodeType ParseType(ReadOnlySpan<byte> name)
    {
        // Go compares the value exactly: "File" is not a file.
        if (name.SequenceEqual("file"u8)) return NodeType.File;
        if (name.SequenceEqual("dir"u8)) return NodeType.Dir;
        if (name.SequenceEqual("symlink"u8)) return NodeType.Symlink;
        if (name.SequenceEqual("dev"u8)) return NodeType.Dev;
        if (name.SequenceEqual("chardev"u8)) return NodeType.CharDev;
        if (name.SequenceEqual("fifo"u8)) return NodeType.Fifo;
        if (name.SequenceEqual("socket"u8)) return NodeType.Socket;
        if (name.SequenceEqual("irregular"u8)) return NodeType.Irregular;
        throw new FormatException($"Unknown node type \"{Encoding.UTF8.GetString(name)}\".");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Snapshots
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>Writes a snapshot document (Go field order, no trailing newline).</summary>
    public static void WriteSnapshot(Snapshot snapshot, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var w = new GoJsonWriter(output);
        w.Raw("{\"time\":"u8);
        w.Time(snapshot.Time);
        if (snapshot.Parent is { } parent)
        {
            w.Raw(",\"parent\":"u8);
            w.Id(parent);
        }

        w.Raw(",\"tree\":"u8);
        w.Id(snapshot.Tree);

        // paths is not omitempty: a nil list is null, an empty one [].
        w.Raw(",\"paths\":"u8);
        WriteStringList(w, snapshot.Paths);
        if (!string.IsNullOrEmpty(snapshot.Hostname))
        {
            w.Raw(",\"hostname\":"u8);
            w.String(snapshot.Hostname);
        }

        if (!string.IsNullOrEmpty(snapshot.Username))
        {
            w.Raw(",\"username\":"u8);
            w.String(snapshot.Username);
        }

        WriteNonZero(w, ",\"uid\":"u8, snapshot.Uid);
        WriteNonZero(w, ",\"gid\":"u8, snapshot.Gid);
        if (snapshot.Excludes is { Count: > 0 })
        {
            w.Raw(",\"excludes\":"u8);
            WriteStringList(w, snapshot.Excludes);
        }

        if (snapshot.Tags is { Count: > 0 })
        {
            w.Raw(",\"tags\":"u8);
            WriteStringList(w, snapshot.Tags);
        }

        if (snapshot.Original is { } original)
        {
            w.Raw(",\"original\":"u8);
            w.Id(original);
        }

        if (!string.IsNullOrEmpty(snapshot.ProgramVersion))
        {
            w.Raw(",\"program_version\":"u8);
            w.String(snapshot.ProgramVersion);
        }

        if (snapshot.Summary is { } s)
        {
            w.Raw(",\"summary\":{\"backup_start\":"u8);
            w.Time(s.BackupStart);
            w.Raw(",\"backup_end\":"u8);
            w.Time(s.BackupEnd);
            w.Raw(",\"files_new\":"u8);
            w.Number(s.FilesNew);
            w.Raw(",\"files_changed\":"u8);
            w.Number(s.FilesChanged);
            w.Raw(",\"files_unmodified\":"u8);
            w.Number(s.FilesUnmodified);
            w.Raw(",\"dirs_new\":"u8);
            w.Number(s.DirsNew);
            w.Raw(",\"dirs_changed\":"u8);
            w.Number(s.DirsChanged);
            w.Raw(",\"dirs_unmodified\":"u8);
            w.Number(s.DirsUnmodified);
            w.Raw(",\"data_blobs\":"u8);
            w.Number(s.DataBlobs);
            w.Raw(",\"tree_blobs\":"u8);
            w.Number(s.TreeBlobs);
            w.Raw(",\"data_added\":"u8);
            w.Number(s.DataAdded);
            w.Raw(",\"data_added_packed\":"u8);
            w.Number(s.DataAddedPacked);
            w.Raw(",\"total_files_processed\":"u8);
            w.Number(s.TotalFilesProcessed);
            w.Raw(",\"total_bytes_processed\":"u8);
            w.Number(s.TotalBytesProcessed);
            w.Raw((byte)'}');
        }

        w.Raw((byte)'}');
    }

    /// <summary>Reads a snapshot document (its <see cref="Snapshot.Id"/> is left for the caller to set).</summary>
    /// <exception cref="FormatException">The JSON is malformed or has no <c>tree</c>.</exception>
    public static Snapshot ReadSnapshot(ReadOnlySpan<byte> json)
    {
        try
        {
            var r = Create(json);
            StartObject(ref r, "snapshot");
            var snapshot = new Snapshot();
            ResticId? tree = null;
            while (NextProperty(ref r, out var field))
            {
                if (NameIs(field, "time"u8))
                {
                    snapshot.Time = Time(ref r, snapshot.Time, "time");
                }
                else if (NameIs(field, "parent"u8))
                {
                    snapshot.Parent = OptionalId(ref r, "parent");
                }
                else if (NameIs(field, "tree"u8))
                {
                    tree = OptionalId(ref r, "tree");
                }
                else if (NameIs(field, "paths"u8))
                {
                    snapshot.Paths = StringList(ref r, "paths") ?? [];
                }
                else if (NameIs(field, "hostname"u8))
                {
                    snapshot.Hostname = String(ref r, snapshot.Hostname, "hostname");
                }
                else if (NameIs(field, "username"u8))
                {
                    snapshot.Username = String(ref r, snapshot.Username, "username");
                }
                else if (NameIs(field, "uid"u8))
                {
                    snapshot.Uid = UInt32(ref r, snapshot.Uid, "uid");
                }
                else if (NameIs(field, "gid"u8))
                {
                    snapshot.Gid = UInt32(ref r, snapshot.Gid, "gid");
                }
                else if (NameIs(field, "excludes"u8))
                {
                    snapshot.Excludes = StringList(ref r, "excludes");
                }
                else if (NameIs(field, "tags"u8))
                {
                    snapshot.Tags = StringList(ref r, "tags");
                }
                else if (NameIs(field, "original"u8))
                {
                    snapshot.Original = OptionalId(ref r, "original");
                }
                else if (NameIs(field, "program_version"u8))
                {
                    snapshot.ProgramVersion = String(ref r, snapshot.ProgramVersion, "program_version");
                }
                else if (NameIs(field, "summary"u8))
                {
                    snapshot.Summary = ReadSummary(ref r);
                }
                else
                {
                    r.Skip();
                }
            }

            End(ref r);
            snapshot.Tree = tree ?? throw new FormatException("The snapshot has no 'tree'.");
            return snapshot;
        }
        catch (JsonException e)
        {
            throw Malformed("snapshot", e);
        }
    }

    private static SnapshotSummary? ReadSummary(ref Utf8JsonReader r)
    {
        if (!ExpectObject(ref r, "summary", allowNull: true))
        {
            return null;
        }

        var s = new SnapshotSummary();
        while (NextProperty(ref r, out var field))
        {
            if (NameIs(field, "backup_start"u8)) s.BackupStart = Time(ref r, s.BackupStart, "backup_start");
            else if (NameIs(field, "backup_end"u8)) s.BackupEnd = Time(ref r, s.BackupEnd, "backup_end");
            else if (NameIs(field, "files_new"u8)) s.FilesNew = UInt64(ref r, s.FilesNew, "files_new");
            else if (NameIs(field, "files_changed"u8)) s.FilesChanged = UInt64(ref r, s.FilesChanged, "files_changed");
            else if (NameIs(field, "files_unmodified"u8)) s.FilesUnmodified = UInt64(ref r, s.FilesUnmodified, "files_unmodified");
            else if (NameIs(field, "dirs_new"u8)) s.DirsNew = UInt64(ref r, s.DirsNew, "dirs_new");
            else if (NameIs(field, "dirs_changed"u8)) s.DirsChanged = UInt64(ref r, s.DirsChanged, "dirs_changed");
            else if (NameIs(field, "dirs_unmodified"u8)) s.DirsUnmodified = UInt64(ref r, s.DirsUnmodified, "dirs_unmodified");
            else if (NameIs(field, "data_blobs"u8)) s.DataBlobs = UInt64(ref r, s.DataBlobs, "data_blobs");
            else if (NameIs(field, "tree_blobs"u8)) s.TreeBlobs = UInt64(ref r, s.TreeBlobs, "tree_blobs");
            else if (NameIs(field, "data_added"u8)) s.DataAdded = UInt64(ref r, s.DataAdded, "data_added");
            else if (NameIs(field, "data_added_packed"u8)) s.DataAddedPacked = UInt64(ref r, s.DataAddedPacked, "data_added_packed");
            else if (NameIs(field, "total_files_processed"u8)) s.TotalFilesProcessed = UInt64(ref r, s.TotalFilesProcessed, "total_files_processed");
            else if (NameIs(field, "total_bytes_processed"u8)) s.TotalBytesProcessed = UInt64(ref r, s.TotalBytesProcessed, "total_bytes_processed");
            else r.Skip();
        }

        return s;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Index
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>Writes an index document with a trailing newline; <c>uncompressed_length</c> only for compressed blobs.</summary>
    /// <remarks><c>supersedes</c> is never written (restic stopped writing it in 0.17 and ignores it).</remarks>
    public static void WriteIndex(IndexDocument index, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(index);
        var w = new GoJsonWriter(output);
        w.Raw("{\"packs\":["u8);
        for (int i = 0; i < index.Packs.Count; i++)
        {
            IndexPack pack = index.Packs[i];
            if (i > 0)
            {
                w.Raw((byte)',');
            }

            w.Raw("{\"id\":"u8);
            w.Id(pack.Id);
            w.Raw(",\"blobs\":["u8);
            for (int j = 0; j < pack.Blobs.Count; j++)
            {
                IndexBlob blob = pack.Blobs[j];
                if (j > 0)
                {
                    w.Raw((byte)',');
                }

                w.Raw("{\"id\":"u8);
                w.Id(blob.Id);
                w.Raw(blob.Type switch
                {
                    BlobType.Data => ",\"type\":\"data\",\"offset\":"u8,
                    BlobType.Tree => ",\"type\":\"tree\",\"offset\":"u8,
                    _ => throw new ArgumentException($"Blob {blob.Id} has an unknown type {blob.Type}.", nameof(index)),
                });
                w.Number(blob.Offset);
                w.Raw(",\"length\":"u8);
                w.Number(blob.Length);
                WriteNonZero(w, ",\"uncompressed_length\":"u8, blob.UncompressedLength);
                w.Raw((byte)'}');
            }

            w.Raw("]}"u8);
        }

        // restic writes indexes with json.Encoder, which ends the document with a newline.
        w.Raw("]}\n"u8);
    }

    /// <summary>Reads an index document, in the current form or the legacy bare-array form.</summary>
    /// <exception cref="FormatException">The JSON is malformed, or a pack or blob lacks its ID or type.</exception>
    public static IndexDocument ReadIndex(ReadOnlySpan<byte> json)
    {
        try
        {
            var r = Create(json);
            Read(ref r);
            var index = new IndexDocument();
            if (r.TokenType == JsonTokenType.StartArray)
            {
                // The format of very old restic versions: just the list of packs.
                ReadPacks(ref r, index.Packs);
            }
            else if (r.TokenType == JsonTokenType.StartObject)
            {
                while (NextProperty(ref r, out var field))
                {
                    if (NameIs(field, "packs"u8))
                    {
                        index.Packs.Clear();
                        if (ExpectArray(ref r, "packs"))
                        {
                            ReadPacks(ref r, index.Packs);
                        }
                    }
                    else if (NameIs(field, "supersedes"u8))
                    {
                        index.Supersedes = IdList(ref r, "supersedes");
                    }
                    else
                    {
                        r.Skip();
                    }
                }
            }
            else
            {
                throw new FormatException("An index must be a JSON object or array.");
            }

            End(ref r);
            return index;
        }
        catch (JsonException e)
        {
            throw Malformed("index", e);
        }
    }

    private static void ReadPacks(ref Utf8JsonReader r, List<IndexPack> packs)
    {
        while (true)
        {
            Read(ref r);
            if (r.TokenType == JsonTokenType.EndArray)
            {
                return;
            }

            ExpectObject(ref r, "packs[]", allowNull: false);
            ResticId? packId = null;
            var blobs = new List<IndexBlob>();
            while (NextProperty(ref r, out var field))
            {
                if (NameIs(field, "id"u8))
                {
                    packId = Id(ref r, "packs[].id");
                }
                else if (NameIs(field, "blobs"u8))
                {
                    blobs.Clear();
                    if (ExpectArray(ref r, "packs[].blobs"))
                    {
                        ReadBlobs(ref r, blobs);
                    }
                }
                else
                {
                    r.Skip();
                }
            }

            packs.Add(new IndexPack
            {
                Id = packId ?? throw new FormatException("An index pack has no 'id'."),
                Blobs = blobs,
            });
        }
    }

    private static void ReadBlobs(ref Utf8JsonReader r, List<IndexBlob> blobs)
    {
        while (true)
        {
            Read(ref r);
            if (r.TokenType == JsonTokenType.EndArray)
            {
                return;
            }

            ExpectObject(ref r, "blobs[]", allowNull: false);
            ResticId? id = null;
            BlobType? type = null;
            uint offset = 0, length = 0, uncompressed = 0;
            while (NextProperty(ref r, out var field))
            {
                if (NameIs(field, "id"u8))
                {
                    id = Id(ref r, "blobs[].id");
                }
                else if (NameIs(field, "type"u8))
                {
                    // restic compares the raw token, so null or any other spelling is an error.
                    if (r.TokenType == JsonTokenType.String && !r.ValueIsEscaped && r.ValueSpan.SequenceEqual("data"u8))
                    {
                        type = BlobType.Data;
                    }
                    else if (r.TokenType == JsonTokenType.String && !r.ValueIsEscaped && r.ValueSpan.SequenceEqual("tree"u8))
                    {
                        type = BlobType.Tree;
                    }
                    else
                    {
                        throw new FormatException("An index blob's 'type' must be \"data\" or \"tree\".");
                    }
                }
                else if (NameIs(field, "offset"u8))
                {
                    offset = UInt32(ref r, offset, "blobs[].offset");
                }
                else if (NameIs(field, "length"u8))
                {
                    length = UInt32(ref r, length, "blobs[].length");
                }
                else if (NameIs(field, "uncompressed_length"u8))
                {
                    uncompressed = UInt32(ref r, uncompressed, "blobs[].uncompressed_length");
                }
                else
                {
                    r.Skip();
                }
            }

            if (id is null)
            {
                throw new FormatException("An index blob has no 'id'.");
            }

            if (type is null)
            {
                throw new FormatException($"Index blob {id} has no 'type'.");
            }

            blobs.Add(new IndexBlob(id.Value, type.Value, offset, length, uncompressed));
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Locks
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>Writes a lock document.</summary>
    public static void WriteLock(LockDocument document, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(document);
        var w = new GoJsonWriter(output);
        w.Raw("{\"time\":"u8);
        w.Time(document.Time);
        w.Raw(",\"exclusive\":"u8);
        w.Bool(document.Exclusive);
        w.Raw(",\"hostname\":"u8);
        w.String(document.Hostname);
        w.Raw(",\"username\":"u8);
        w.String(document.Username);
        w.Raw(",\"pid\":"u8);
        w.Number(document.Pid);
        WriteNonZero(w, ",\"uid\":"u8, document.Uid);
        WriteNonZero(w, ",\"gid\":"u8, document.Gid);
        w.Raw((byte)'}');
    }

    /// <summary>Reads a lock document.</summary>
    /// <exception cref="FormatException">The JSON is malformed.</exception>
    public static LockDocument ReadLock(ReadOnlySpan<byte> json)
    {
        try
        {
            var r = Create(json);
            StartObject(ref r, "lock");
            var document = new LockDocument();
            while (NextProperty(ref r, out var field))
            {
                if (NameIs(field, "time"u8)) document.Time = Time(ref r, document.Time, "time");
                else if (NameIs(field, "exclusive"u8)) document.Exclusive = Bool(ref r, document.Exclusive, "exclusive");
                else if (NameIs(field, "hostname"u8)) document.Hostname = String(ref r, document.Hostname, "hostname")!;
                else if (NameIs(field, "username"u8)) document.Username = String(ref r, document.Username, "username")!;
                else if (NameIs(field, "pid"u8)) document.Pid = Int32(ref r, document.Pid, "pid");
                else if (NameIs(field, "uid"u8)) document.Uid = UInt32(ref r, document.Uid, "uid");
                else if (NameIs(field, "gid"u8)) document.Gid = UInt32(ref r, document.Gid, "gid");
                else r.Skip();
            }

            End(ref r);
            return document;
        }
        catch (JsonException e)
        {
            throw Malformed("lock", e);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Config
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>Writes the config document (no trailing newline).</summary>
    public static void WriteConfig(RepositoryConfig config, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(config);
        var w = new GoJsonWriter(output);
        w.Raw("{\"version\":"u8);
        w.Number(config.Version);
        w.Raw(",\"id\":"u8);
        w.Id(config.Id);
        w.Raw(",\"chunker_polynomial\":\""u8);

        // The chunker's Pol marshals as lower-case hex without a prefix.
        Span<byte> hex = stackalloc byte[16];
        ulong value = config.ChunkerPolynomial.Value;
        int start = hex.Length;
        do
        {
            hex[--start] = (byte)"0123456789abcdef"[(int)(value & 0xF)];
            value >>= 4;
        }
        while (value != 0);

        w.Raw(hex[start..]);
        w.Raw("\"}"u8);
    }

    /// <summary>Reads the config document (a trailing newline is allowed).</summary>
    /// <exception cref="FormatException">The JSON is malformed or lacks the version, ID or chunker polynomial.</exception>
    public static RepositoryConfig ReadConfig(ReadOnlySpan<byte> json)
    {
        try
        {
            var r = Create(json);
            StartObject(ref r, "config");
            uint? version = null;
            ResticId? id = null;
            ulong? polynomial = null;
            while (NextProperty(ref r, out var field))
            {
                if (NameIs(field, "version"u8))
                {
                    version = r.TokenType == JsonTokenType.Null ? version : UInt32(ref r, 0, "version");
                }
                else if (NameIs(field, "id"u8))
                {
                    id = OptionalId(ref r, "id") ?? id;
                }
                else if (NameIs(field, "chunker_polynomial"u8))
                {
                    polynomial = ParsePolynomial(StringBytes(ref r, "chunker_polynomial")
                        ?? throw new FormatException("The config's 'chunker_polynomial' must be a hex string, not null."));
                }
                else
                {
                    r.Skip();
                }
            }

            End(ref r);
            return new RepositoryConfig
            {
                Version = version ?? throw new FormatException("The config has no 'version'."),
                Id = id ?? throw new FormatException("The config has no 'id'."),
                ChunkerPolynomial = new ChunkerPolynomial(polynomial ?? throw new FormatException("The config has no 'chunker_polynomial'.")),
            };
        }
        catch (JsonException e)
        {
            throw Malformed("config", e);
        }
    }

    private static ulong ParsePolynomial(ReadOnlySpan<byte> hex)
    {
        // Go's ParseUint(s, 16, 64): 1 to 16 hex digits of either case, no prefix, no sign.
        if (hex.Length is 0 or > 16)
        {
            throw new FormatException($"The chunker polynomial \"{Encoding.UTF8.GetString(hex)}\" is not a 64-bit hex number.");
        }

        ulong value = 0;
        foreach (byte c in hex)
        {
            int digit = c switch
            {
                >= (byte)'0' and <= (byte)'9' => c - '0',
                >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
                _ => throw new FormatException($"The chunker polynomial \"{Encoding.UTF8.GetString(hex)}\" is not a hex number."),
            };
            value = (value << 4) | (uint)digit;
        }

        return value;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Keys
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>Writes a key file.</summary>
    public static void WriteKey(KeyDocument key, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(key);
        var w = new GoJsonWriter(output);
        w.Raw("{\"created\":"u8);
        w.Time(key.Created);
        w.Raw(",\"username\":"u8);
        w.String(key.Username ?? "");
        w.Raw(",\"hostname\":"u8);
        w.String(key.Hostname ?? "");
        w.Raw(",\"kdf\":"u8);
        w.String(key.Kdf);
        w.Raw(",\"N\":"u8);
        w.Number(key.N);
        w.Raw(",\"r\":"u8);
        w.Number(key.R);
        w.Raw(",\"p\":"u8);
        w.Number(key.P);
        w.Raw(",\"salt\":"u8);
        WriteBytes(w, key.Salt);
        w.Raw(",\"data\":"u8);
        WriteBytes(w, key.Data);
        w.Raw((byte)'}');
    }

    /// <summary>Reads a key file.</summary>
    /// <remarks>Parameters are not validated here (the key opener checks the KDF, N, r, p and the salt length).</remarks>
    /// <exception cref="FormatException">The JSON is malformed.</exception>
    public static KeyDocument ReadKey(ReadOnlySpan<byte> json)
    {
        try
        {
            var r = Create(json);
            StartObject(ref r, "key file");
            var key = new KeyDocument { Kdf = "" };
            while (NextProperty(ref r, out var field))
            {
                if (NameIs(field, "created"u8)) key.Created = Time(ref r, key.Created, "created");
                else if (NameIs(field, "username"u8)) key.Username = String(ref r, key.Username, "username");
                else if (NameIs(field, "hostname"u8)) key.Hostname = String(ref r, key.Hostname, "hostname");
                else if (NameIs(field, "kdf"u8)) key.Kdf = String(ref r, key.Kdf, "kdf")!;
                else if (NameIs(field, "n"u8)) key.N = Int32(ref r, key.N, "N");
                else if (NameIs(field, "r"u8)) key.R = Int32(ref r, key.R, "r");
                else if (NameIs(field, "p"u8)) key.P = Int32(ref r, key.P, "p");
                else if (NameIs(field, "salt"u8)) key.Salt = Base64(ref r, "salt") ?? [];
                else if (NameIs(field, "data"u8)) key.Data = Base64(ref r, "data") ?? [];
                else r.Skip();
            }

            End(ref r);
            return key;
        }
        catch (JsonException e)
        {
            throw Malformed("key file", e);
        }
    }

    /// <summary>Writes the master key JSON.</summary>
    public static void WriteMasterKey(MasterKeyDocument key, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(key);
        var w = new GoJsonWriter(output);
        w.Raw("{\"mac\":{\"k\":"u8);
        WriteBytes(w, key.MacK);
        w.Raw(",\"r\":"u8);
        WriteBytes(w, key.MacR);
        w.Raw("},\"encrypt\":"u8);
        WriteBytes(w, key.Encrypt);
        w.Raw((byte)'}');
    }

    /// <summary>Reads the master key JSON.</summary>
    /// <remarks>Stricter than restic, which zero-fills or truncates: each part must be present with its exact length
    /// (16, 16 and 32 bytes), since a key of any other shape cannot be right.</remarks>
    /// <exception cref="FormatException">The JSON is malformed or a key part is missing or has the wrong length.</exception>
    public static MasterKeyDocument ReadMasterKey(ReadOnlySpan<byte> json)
    {
        try
        {
            var r = Create(json);
            StartObject(ref r, "master key");
            byte[]? k = null, macR = null, encrypt = null;
            while (NextProperty(ref r, out var field))
            {
                if (NameIs(field, "mac"u8))
                {
                    if (!ExpectObject(ref r, "mac", allowNull: true))
                    {
                        continue;
                    }

                    while (NextProperty(ref r, out var macField))
                    {
                        if (NameIs(macField, "k"u8)) k = Base64(ref r, "mac.k") ?? k;
                        else if (NameIs(macField, "r"u8)) macR = Base64(ref r, "mac.r") ?? macR;
                        else r.Skip();
                    }
                }
                else if (NameIs(field, "encrypt"u8))
                {
                    encrypt = Base64(ref r, "encrypt") ?? encrypt;
                }
                else
                {
                    r.Skip();
                }
            }

            End(ref r);
            return new MasterKeyDocument(
                CheckLength(k, 16, "mac.k"),
                CheckLength(macR, 16, "mac.r"),
                CheckLength(encrypt, 32, "encrypt"));
        }
        catch (JsonException e)
        {
            throw Malformed("master key", e);
        }
    }

    private static byte[] CheckLength(byte[]? value, int length, string field)
    {
        if (value is null)
        {
            throw new FormatException($"The master key has no '{field}'.");
        }

        if (value.Length != length)
        {
            throw new FormatException($"The master key's '{field}' has {value.Length} bytes, not {length}.");
        }

        return value;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Shared
    // ---------------------------------------------------------------------------------------------------------------

    private static void WriteNonZero(GoJsonWriter w, ReadOnlySpan<byte> prefix, ulong value)
    {
        if (value != 0)
        {
            w.Raw(prefix);
            w.Number(value);
        }
    }

    private static void WriteBytes(GoJsonWriter w, byte[]? value)
    {
        // A nil []byte is null in Go; an empty one is "".
        if (value is null)
        {
            w.Null();
        }
        else
        {
            w.Base64(value);
        }
    }

    private static void WriteStringList(GoJsonWriter w, List<string>? list)
    {
        if (list is null)
        {
            w.Null();
            return;
        }

        w.Raw((byte)'[');
        for (int i = 0; i < list.Count; i++)
        {
            if (i > 0)
            {
                w.Raw((byte)',');
            }

            w.String(list[i]);
        }

        w.Raw((byte)']');
    }

    private static FormatException Malformed(string what, JsonException e) =>
        new($"Malformed {what} JSON: {e.Message}", e);

    /// <summary>Byte-wise order of UTF-8 keys, as Go sorts map keys.</summary>
    private sealed class Utf8Order : IComparer<byte[]>
    {
        public static readonly Utf8Order Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
