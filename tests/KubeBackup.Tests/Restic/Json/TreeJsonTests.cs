using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using KubeBackup.Restic;
using KubeBackup.Restic.Json;
using KubeBackup.Restic.Model;

namespace KubeBackup.Tests.Restic.Json;

public class TreeJsonTests
{
    // The restic 0.14.0 tree from the format spec (§8.4), with its newline.
    private const string VerifiedTree =
        "{\"nodes\":[{\"name\":\"b.txt\",\"type\":\"file\",\"mode\":420,\"mtime\":\"2026-11-27T06:05:01.064431096Z\"," +
        "\"atime\":\"2026-11-27T06:05:01.064431096Z\",\"ctime\":\"2026-11-27T06:05:01.064431096Z\",\"uid\":0,\"gid\":0," +
        "\"user\":\"root\",\"group\":\"root\",\"inode\":12067046,\"device_id\":65024,\"size\":3000,\"links\":1," +
        "\"content\":[\"e1630f843370f402870799e14abbf2b06af2d23b0153658e1211dffabc61ad8f\"]}]}\n";

    internal static byte[] WriteTree(IReadOnlyList<Node> nodes)
    {
        var buffer = new ArrayBufferWriter<byte>();
        ResticJson.WriteTree(nodes, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    private static string WriteNode(Node node)
    {
        var buffer = new ArrayBufferWriter<byte>();
        ResticJson.WriteNode(node, buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static Node ReadNode(string json) => ResticJson.ReadNode(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Verified_restic_tree_is_reproduced_from_a_model()
    {
        var time = GoTime.Parse("2026-11-27T06:05:01.064431096Z"u8);
        var node = new Node
        {
            Name = "b.txt"u8.ToArray(),
            Type = NodeType.File,
            Mode = 420,
            ModTime = time,
            AccessTime = time,
            ChangeTime = time,
            User = "root",
            Group = "root",
            Inode = 12067046,
            DeviceId = 65024,
            Size = 3000,
            Links = 1,
            Content = [ResticId.Parse("e1630f843370f402870799e14abbf2b06af2d23b0153658e1211dffabc61ad8f")],
        };

        byte[] bytes = WriteTree([node]);
        Assert.Equal(VerifiedTree, Encoding.UTF8.GetString(bytes));
        Assert.Equal("d9d6992ac48e726d1f517cbe65b8912f147045c4024a1afbf5fa56836c16d65d", Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    [Fact]
    public void Verified_restic_tree_round_trips_byte_for_byte()
    {
        byte[] original = Encoding.UTF8.GetBytes(VerifiedTree);
        Tree tree = ResticJson.ReadTree(original);
        var node = Assert.Single(tree.Nodes);
        Assert.Equal("b.txt", node.DisplayName);
        Assert.Equal(NodeType.File, node.Type);
        Assert.Equal(420u, node.Mode);
        Assert.Equal(64431096, node.ModTime.Nanoseconds);
        Assert.Equal(3000ul, node.Size);
        Assert.Equal(65024ul, node.DeviceId);
        Assert.Null(node.Subtree);
        Assert.Equal(original, WriteTree(tree.Nodes));
    }

    [Fact]
    public void Empty_tree_has_the_well_known_id()
    {
        byte[] bytes = WriteTree([]);
        Assert.Equal("{\"nodes\":[]}\n", Encoding.UTF8.GetString(bytes));
        Assert.Equal(ResticId.Parse("ac08ce34ba4f8123618661bef2425f7028ffb9ac740578a3ee88684d2523fee8"), ResticId.Hash(bytes));
        Assert.Empty(ResticJson.ReadTree(bytes).Nodes);
    }

    [Fact]
    public void Name_quoting_matches_restic()
    {
        string json = WriteNode(new Node { Name = Encoding.UTF8.GetBytes("we\"ird\\name"), Type = NodeType.File, Content = [] });
        Assert.StartsWith("{\"name\":\"we\\\\\\\"ird\\\\\\\\name\",", json, StringComparison.Ordinal);
    }

    public static TheoryData<byte[], string> NameCases => new()
    {
        { Encoding.UTF8.GetBytes("new\nline"), "new\\\\nline" },
        { Encoding.UTF8.GetBytes("tab\there"), "tab\\\\there" },
        { Encoding.UTF8.GetBytes("back\\slash"), "back\\\\\\\\slash" },
        { Encoding.UTF8.GetBytes("nb\u00A0sp"), "nb\\\\u00a0sp" },
        { Encoding.UTF8.GetBytes("emoji😀"), "emoji😀" },
        { Encoding.UTF8.GetBytes("ls\u2028ps\u2029"), "ls\\\\u2028ps\\\\u2029" },
        { Encoding.UTF8.GetBytes("<b>&amp;"), "\\u003cb\\u003e\\u0026amp;" },
        { Encoding.UTF8.GetBytes("del\u007F"), "del\\\\x7f" },
        { Encoding.UTF8.GetBytes("bell\a\b\f\v\r\u0001\u001b"), "bell\\\\a\\\\b\\\\f\\\\v\\\\r\\\\x01\\\\x1b" },
        { [0x62, 0x61, 0x64, 0xFF, 0xFE], "bad\\\\xff\\\\xfe" },
        { [0x63, 0x61, 0x66, 0xE9], "caf\\\\xe9" },
        { Encoding.UTF8.GetBytes("ñandú日本"), "ñandú日本" },
    };

    [Theory]
    [MemberData(nameof(NameCases))]
    public void Awkward_names_are_quoted_and_read_back_exactly(byte[] name, string expectedInJson)
    {
        string json = WriteNode(new Node { Name = name, Type = NodeType.File, Content = [] });
        Assert.StartsWith("{\"name\":\"" + expectedInJson + "\",\"type\":\"file\",", json, StringComparison.Ordinal);
        Assert.Equal(name, ReadNode(json).Name);
    }

    [Fact]
    public void Node_fields_follow_restics_order_and_omitempty()
    {
        var t = GoTime.Parse("2020-01-02T03:04:05.5-03:30"u8);
        var id = ResticId.Hash("x"u8);

        var dir = new Node { Name = "d"u8.ToArray(), Type = NodeType.Dir, Mode = 2147484141, ModTime = t, AccessTime = t, ChangeTime = t, Uid = 1000, Gid = 100, Inode = 5, DeviceId = 7, Subtree = id };
        Assert.Equal(
            "{\"name\":\"d\",\"type\":\"dir\",\"mode\":2147484141,\"mtime\":\"2020-01-02T03:04:05.5-03:30\",\"atime\":\"2020-01-02T03:04:05.5-03:30\"," +
            "\"ctime\":\"2020-01-02T03:04:05.5-03:30\",\"uid\":1000,\"gid\":100,\"inode\":5,\"device_id\":7,\"content\":null,\"subtree\":\"" + id + "\"}",
            WriteNode(dir));

        // Zero times are Go's zero time; uid and gid are never omitted; an empty file has "content":[].
        var empty = new Node { Name = "e"u8.ToArray(), Type = NodeType.File, Content = [] };
        Assert.Equal(
            "{\"name\":\"e\",\"type\":\"file\",\"mtime\":\"0001-01-01T00:00:00Z\",\"atime\":\"0001-01-01T00:00:00Z\",\"ctime\":\"0001-01-01T00:00:00Z\"," +
            "\"uid\":0,\"gid\":0,\"content\":[]}",
            WriteNode(empty));

        var link = new Node { Name = "l"u8.ToArray(), Type = NodeType.Symlink, Mode = 134218239, Links = 1, LinkTarget = "../a <b>"u8.ToArray(), User = "u", Group = "" };
        Assert.Contains(",\"uid\":0,\"gid\":0,\"user\":\"u\",\"links\":1,\"linktarget\":\"../a \\u003cb\\u003e\",\"content\":null}", WriteNode(link), StringComparison.Ordinal);

        var dev = new Node
        {
            Name = "tty"u8.ToArray(),
            Type = NodeType.CharDev,
            Mode = 69206416,
            Device = 1280,
            Error = "lstat: \"oops\"",
            ExtendedAttributes = [new ExtendedAttribute("user.a<b", [1, 2, 3]), new ExtendedAttribute("user.empty", [])],
            GenericAttributes = new SortedDictionary<string, byte[]>(StringComparer.Ordinal)
            {
                ["windows.security_descriptor"] = "\"AQ\\u003cID\""u8.ToArray(),
                ["windows.file_attributes"] = "32"u8.ToArray(),
                ["windows.creation_time"] = "{ \"LowDateTime\": 1, \"HighDateTime\": 2 }"u8.ToArray(),
            },
        };
        Assert.EndsWith(
            ",\"uid\":0,\"gid\":0,\"extended_attributes\":[{\"name\":\"user.a\\u003cb\",\"value\":\"AQID\"},{\"name\":\"user.empty\",\"value\":\"\"}]," +
            "\"generic_attributes\":{\"windows.creation_time\":{\"LowDateTime\":1,\"HighDateTime\":2},\"windows.file_attributes\":32," +
            "\"windows.security_descriptor\":\"AQ\\u003cID\"}," +
            "\"device\":1280,\"content\":null,\"error\":\"lstat: \\\"oops\\\"\"}",
            WriteNode(dev), StringComparison.Ordinal);

        var readBack = ReadNode(WriteNode(dev));
        Assert.Equal(NodeType.CharDev, readBack.Type);
        Assert.Equal(1280ul, readBack.Device);
        Assert.Equal("lstat: \"oops\"", readBack.Error);
        Assert.Equal(2, readBack.ExtendedAttributes!.Count);
        Assert.Equal("user.a<b", readBack.ExtendedAttributes[0].Name);
        Assert.Equal(new byte[] { 1, 2, 3 }, readBack.ExtendedAttributes[0].Value);
        Assert.Equal("{\"LowDateTime\":1,\"HighDateTime\":2}", Encoding.UTF8.GetString(readBack.GenericAttributes!["windows.creation_time"]));
        Assert.Equal("\"AQ\\u003cID\"", Encoding.UTF8.GetString(readBack.GenericAttributes["windows.security_descriptor"]));
        Assert.Equal(WriteNode(dev), WriteNode(readBack));
    }

    [Fact]
    public void All_node_types_round_trip()
    {
        foreach (var type in Enum.GetValues<NodeType>())
        {
            var node = new Node { Name = "n"u8.ToArray(), Type = type };
            Assert.Equal(type, ReadNode(WriteNode(node)).Type);
        }
    }

    [Fact]
    public void Invalid_utf8_link_target_reads_from_linktarget_raw()
    {
        // restic's TestSymlinkSerializationFormat vectors, inside a node.
        var node = ReadNode("{\"name\":\"l\",\"type\":\"symlink\",\"linktarget\":\"\\u0000\\u0001\\u0002\\ufffd\\ufffd\\ufffd\",\"linktarget_raw\":\"AAEC+vv8\",\"content\":null}");
        Assert.Equal(new byte[] { 0, 1, 2, 0xFA, 0xFB, 0xFC }, node.LinkTarget);
        Assert.Equal("test"u8.ToArray(), ReadNode("{\"name\":\"l\",\"type\":\"symlink\",\"linktarget\":\"test\"}").LinkTarget);

        // Written back: the lossy linktarget as Go writes it, then the raw bytes.
        Assert.Contains(",\"linktarget\":\"\\u0000\\u0001\\u0002\\ufffd\\ufffd\\ufffd\",\"linktarget_raw\":\"AAEC+vv8\",\"content\":null}", WriteNode(node), StringComparison.Ordinal);

        // Only invalid UTF-8 gets linktarget_raw.
        Assert.DoesNotContain("linktarget_raw", WriteNode(new Node { Name = "l"u8.ToArray(), Type = NodeType.Symlink, LinkTarget = "\u00FC\u0001"u8.ToArray() }), StringComparison.Ordinal);
    }

    [Fact]
    public void Reading_is_lenient_like_go()
    {
        var node = ReadNode(
            "{\"NAME\":\"x\",\"Type\":\"file\",\"unknown\":{\"deep\":[1,{\"a\":null}]},\"Mode\":420,\"UID\":5,\"lin\\u212As\":2," +
            "\"\u017Fize\":9,\"content\":null,\"user\":null,\"mtime\":null,\"subtree\":null,\"extended_attributes\":null}");
        Assert.Equal("x"u8.ToArray(), node.Name);
        Assert.Equal(420u, node.Mode);
        Assert.Equal(5u, node.Uid);
        Assert.Equal(2ul, node.Links);
        Assert.Equal(9ul, node.Size);
        Assert.Null(node.Content);
        Assert.Null(node.User);
        Assert.True(node.ModTime.IsZero);
        Assert.Null(node.Subtree);
        Assert.Null(node.ExtendedAttributes);

        // Later duplicates win; whitespace is fine.
        node = ReadNode(" { \"name\" : \"a\" , \"type\" : \"dir\" , \"name\" : \"b\" } \n");
        Assert.Equal("b"u8.ToArray(), node.Name);

        // JSON escapes are decoded before the Go unquoting, and unpaired surrogates become U+FFFD.
        node = ReadNode("{\"name\":\"\\u0041\\\\x42\\ud800\\ud83d\\ude00\",\"type\":\"file\"}");
        Assert.Equal("AB\uFFFD😀", Encoding.UTF8.GetString(node.Name));

        // Unknown top-level keys around "nodes" are ignored; null nodes is an empty tree.
        Assert.Single(ResticJson.ReadTree("{\"x\":1,\"nodes\":[{\"name\":\"a\",\"type\":\"file\"}],\"y\":[]}"u8).Nodes);
        Assert.Empty(ResticJson.ReadTree("{\"nodes\":null}"u8).Nodes);
    }

    [Theory]
    [InlineData("{\"type\":\"file\"}")]
    [InlineData("{\"name\":null,\"type\":\"file\"}")]
    [InlineData("{\"name\":\"a\"}")]
    [InlineData("{\"name\":\"a\",\"type\":\"File\"}")]
    [InlineData("{\"name\":\"a\",\"type\":\"whatever\"}")]
    [InlineData("{\"name\":\"a\",\"type\":\"file\",\"mode\":-1}")]
    [InlineData("{\"name\":\"a\",\"type\":\"file\",\"mode\":1.5}")]
    [InlineData("{\"name\":\"a\",\"type\":\"file\",\"mode\":1e3}")]
    [InlineData("{\"name\":\"a\",\"type\":\"file\",\"mode\":\"420\"}")]
    [InlineData("{\"name\":\"a\",\"type\":\"file\",\"uid\":4294967296}")]
    [InlineData("{\"name\":\"a\",\"type\":\"file\",\"size\":18446744073709551616}")]
    [InlineData("{\"name\":\"a\",\"type\":\"file\",\"mtime\":\"yesterday\"}")]
    [InlineData("{\"name\":\"a\",\"type\":\"file\",\"mtime\":12}")]
    [InlineData("{\"name\":\"a\",\"type\":\"file\",\"content\":[null]}")]
    [InlineData("{\"name\":\"a\",\"type\":\"file\",\"content\":[\"abc\"]}")]
    [InlineData("{\"name\":\"a\",\"type\":\"file\",\"content\":{}}")]
    [InlineData("{\"name\":\"a\",\"type\":\"dir\",\"subtree\":\"zz\"}")]
    [InlineData("{\"name\":\"a\",\"type\":\"symlink\",\"linktarget_raw\":\"not base64!\"}")]
    [InlineData("{\"name\":\"a\\\\q\",\"type\":\"file\"}")]
    [InlineData("{\"name\":\"a\\\"b\",\"type\":\"file\"}")]
    [InlineData("{\"name\":\"a\",\"type\":\"file\"")]
    [InlineData("{\"name\":\"a\",\"type\":\"file\"} x")]
    [InlineData("[]")]
    [InlineData("")]
    public void Invalid_nodes_raise_FormatException(string json)
    {
        Assert.Throws<FormatException>(() => ReadNode(json));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"nodes\":{}}")]
    [InlineData("{\"nodes\":[null]}")]
    [InlineData("{\"nodes\":[1]}")]
    [InlineData("{\"nodes\":[]},")]
    [InlineData("{\"nodes\":[],}")]
    [InlineData("\uFEFF{\"nodes\":[]}")]
    [InlineData("null")]
    public void Invalid_trees_raise_FormatException(string json)
    {
        Assert.Throws<FormatException>(() => ResticJson.ReadTree(Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void WriteTree_requires_strictly_ascending_byte_order()
    {
        Node N(params byte[] name) => new() { Name = name, Type = NodeType.File, Content = [] };

        // Byte order, not UTF-16 order: U+FFFD (EF BF BD) sorts before an emoji (F0 …), unlike in UTF-16.
        var sorted = new List<Node> { N(0x41), N(0x61), N(0xC3, 0xA9), N(0xEF, 0xBF, 0xBD), N(0xF0, 0x9F, 0x98, 0x80), N(0xFF) };
        var tree = ResticJson.ReadTree(WriteTree(sorted));
        Assert.Equal(sorted.Count, tree.Nodes.Count);
        for (int i = 0; i < sorted.Count; i++)
        {
            Assert.Equal(sorted[i].Name, tree.Nodes[i].Name);
        }

        Assert.Throws<ArgumentException>(() => WriteTree([N(0x62), N(0x61)]));
        Assert.Throws<ArgumentException>(() => WriteTree([N(0x61), N(0x61)]));
        Assert.Throws<ArgumentException>(() => WriteTree([N()]));
    }
}
