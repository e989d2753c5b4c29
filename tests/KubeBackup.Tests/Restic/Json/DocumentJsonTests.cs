using System.Buffers;
using System.Text;
using KubeBackup.Restic;
using KubeBackup.Restic.Chunking;
using KubeBackup.Restic.Json;
using KubeBackup.Restic.Model;

namespace KubeBackup.Tests.Restic.Json;

public class DocumentJsonTests
{
    private static string Write<T>(T document, Action<T, IBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(document, buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static ReadOnlySpan<byte> Utf8(string s) => Encoding.UTF8.GetBytes(s);

    // restic's index_test.go docExampleV1 and docExampleV2 (indented with tabs and spaces there too).
    private const string DocExampleV1 = """

        {
          "supersedes": [
        	"ed54ae36197f4745ebc4b54d10e0f623eaaaedd03013eb7ae90df881b7781452"
          ],
          "packs": [
        	{
        	  "id": "73d04e6125cf3c28a299cc2f3cca3b78ceac396e4fcf9575e34536b26782413c",
        	  "blobs": [
        		{
        		  "id": "3ec79977ef0cf5de7b08cd12b874cd0f62bbaf7f07f3497a5b1bbcc8cb39b1ce",
        		  "type": "data",
        		  "offset": 0,
        		  "length": 38
        		},{
        		  "id": "9ccb846e60d90d4eb915848add7aa7ea1e4bbabfc60e573db9f7bfb2789afbae",
        		  "type": "tree",
        		  "offset": 38,
        		  "length": 112
        		},
        		{
        		  "id": "d3dc577b4ffd38cc4b32122cabf8655a0223ed22edfd93b353dc0c3f2b0fdf66",
        		  "type": "data",
        		  "offset": 150,
        		  "length": 123
        		}
        	  ]
        	}
          ]
        }

        """;

    private const string DocExampleV2 = """

        {
        	"supersedes": [
        	  "ed54ae36197f4745ebc4b54d10e0f623eaaaedd03013eb7ae90df881b7781452"
        	],
        	"packs": [
        	  {
        		"id": "73d04e6125cf3c28a299cc2f3cca3b78ceac396e4fcf9575e34536b26782413c",
        		"blobs": [
        		  {
        			"id": "3ec79977ef0cf5de7b08cd12b874cd0f62bbaf7f07f3497a5b1bbcc8cb39b1ce",
        			"type": "data",
        			"offset": 0,
        			"length": 38
        		  },
        		  {
        			"id": "9ccb846e60d90d4eb915848add7aa7ea1e4bbabfc60e573db9f7bfb2789afbae",
        			"type": "tree",
        			"offset": 38,
        			"length": 112,
        			"uncompressed_length": 511
        		  },
        		  {
        			"id": "d3dc577b4ffd38cc4b32122cabf8655a0223ed22edfd93b353dc0c3f2b0fdf66",
        			"type": "data",
        			"offset": 150,
        			"length": 123,
        			"uncompressed_length": 234
        		  }
        		]
        	  }
        	]
          }

        """;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Index_examples_from_restic_read_as_restic_reads_them(int version)
    {
        var index = ResticJson.ReadIndex(Utf8(version == 1 ? DocExampleV1 : DocExampleV2));
        Assert.Equal([ResticId.Parse("ed54ae36197f4745ebc4b54d10e0f623eaaaedd03013eb7ae90df881b7781452")], index.Supersedes);
        var pack = Assert.Single(index.Packs);
        Assert.Equal(ResticId.Parse("73d04e6125cf3c28a299cc2f3cca3b78ceac396e4fcf9575e34536b26782413c"), pack.Id);

        // restic's exampleTests: (id, type, offset, length, uncompressed length); V1 has no uncompressed lengths.
        IndexBlob[] expected =
        [
            new(ResticId.Parse("3ec79977ef0cf5de7b08cd12b874cd0f62bbaf7f07f3497a5b1bbcc8cb39b1ce"), BlobType.Data, 0, 38, 0),
            new(ResticId.Parse("9ccb846e60d90d4eb915848add7aa7ea1e4bbabfc60e573db9f7bfb2789afbae"), BlobType.Tree, 38, 112, version == 1 ? 0u : 511u),
            new(ResticId.Parse("d3dc577b4ffd38cc4b32122cabf8655a0223ed22edfd93b353dc0c3f2b0fdf66"), BlobType.Data, 150, 123, version == 1 ? 0u : 234u),
        ];
        Assert.Equal(expected, pack.Blobs);
        Assert.Equal(version == 1 ? 80u : 511u, pack.Blobs[1].PlaintextLength);

        // Written back compactly, without supersedes, with uncompressed_length only where compressed, and a newline.
        string written = Write(index, ResticJson.WriteIndex);
        Assert.Equal(
            "{\"packs\":[{\"id\":\"73d04e6125cf3c28a299cc2f3cca3b78ceac396e4fcf9575e34536b26782413c\",\"blobs\":[" +
            "{\"id\":\"3ec79977ef0cf5de7b08cd12b874cd0f62bbaf7f07f3497a5b1bbcc8cb39b1ce\",\"type\":\"data\",\"offset\":0,\"length\":38}," +
            "{\"id\":\"9ccb846e60d90d4eb915848add7aa7ea1e4bbabfc60e573db9f7bfb2789afbae\",\"type\":\"tree\",\"offset\":38,\"length\":112" + (version == 1 ? "" : ",\"uncompressed_length\":511") + "}," +
            "{\"id\":\"d3dc577b4ffd38cc4b32122cabf8655a0223ed22edfd93b353dc0c3f2b0fdf66\",\"type\":\"data\",\"offset\":150,\"length\":123" + (version == 1 ? "" : ",\"uncompressed_length\":234") + "}" +
            "]}]}\n",
            written);
        var again = ResticJson.ReadIndex(Utf8(written));
        Assert.Null(again.Supersedes);
        Assert.Equal(expected, again.Packs[0].Blobs);
    }

    [Fact]
    public void Legacy_array_index_and_empty_index()
    {
        var index = ResticJson.ReadIndex(Utf8(
            "[{\"id\":\"73d04e6125cf3c28a299cc2f3cca3b78ceac396e4fcf9575e34536b26782413c\",\"blobs\":[" +
            "{\"id\":\"3ec79977ef0cf5de7b08cd12b874cd0f62bbaf7f07f3497a5b1bbcc8cb39b1ce\",\"type\":\"data\",\"offset\":0,\"length\":38}]}," +
            "{\"id\":\"9ccb846e60d90d4eb915848add7aa7ea1e4bbabfc60e573db9f7bfb2789afbae\",\"blobs\":null}]"));
        Assert.Equal(2, index.Packs.Count);
        Assert.Single(index.Packs[0].Blobs);
        Assert.Empty(index.Packs[1].Blobs);

        Assert.Equal("{\"packs\":[]}\n", Write(new IndexDocument(), ResticJson.WriteIndex));
        Assert.Empty(ResticJson.ReadIndex("{\"packs\":null}"u8).Packs);
        Assert.Empty(ResticJson.ReadIndex("{}"u8).Packs);
    }

    [Theory]
    [InlineData("{\"packs\":[{\"blobs\":[]}]}")]
    [InlineData("{\"packs\":[{\"id\":null,\"blobs\":[]}]}")]
    [InlineData("{\"packs\":[{\"id\":\"73d04e6125cf3c28a299cc2f3cca3b78ceac396e4fcf9575e34536b26782413c\",\"blobs\":[{\"type\":\"data\",\"offset\":0,\"length\":38}]}]}")]
    [InlineData("{\"packs\":[{\"id\":\"73d04e6125cf3c28a299cc2f3cca3b78ceac396e4fcf9575e34536b26782413c\",\"blobs\":[{\"id\":\"3ec79977ef0cf5de7b08cd12b874cd0f62bbaf7f07f3497a5b1bbcc8cb39b1ce\",\"offset\":0,\"length\":38}]}]}")]
    [InlineData("{\"packs\":[{\"id\":\"73d04e6125cf3c28a299cc2f3cca3b78ceac396e4fcf9575e34536b26782413c\",\"blobs\":[{\"id\":\"3ec79977ef0cf5de7b08cd12b874cd0f62bbaf7f07f3497a5b1bbcc8cb39b1ce\",\"type\":\"DATA\",\"offset\":0,\"length\":38}]}]}")]
    [InlineData("{\"packs\":[{\"id\":\"73d04e6125cf3c28a299cc2f3cca3b78ceac396e4fcf9575e34536b26782413c\",\"blobs\":[{\"id\":\"3ec79977ef0cf5de7b08cd12b874cd0f62bbaf7f07f3497a5b1bbcc8cb39b1ce\",\"type\":null,\"offset\":0,\"length\":38}]}]}")]
    [InlineData("{\"packs\":[{\"id\":\"73d04e6125cf3c28a299cc2f3cca3b78ceac396e4fcf9575e34536b26782413c\",\"blobs\":[{\"id\":\"3ec79977ef0cf5de7b08cd12b874cd0f62bbaf7f07f3497a5b1bbcc8cb39b1ce\",\"type\":\"data\",\"offset\":4294967296,\"length\":38}]}]}")]
    [InlineData("{\"packs\":{}}")]
    [InlineData("\"index\"")]
    public void Invalid_indexes_raise_FormatException(string json)
    {
        Assert.Throws<FormatException>(() => ResticJson.ReadIndex(Utf8(json)));
    }

    [Fact]
    public void Snapshot_is_written_in_restics_field_order()
    {
        var tree = ResticId.Hash("tree"u8);
        var parent = ResticId.Hash("parent"u8);
        var original = ResticId.Hash("original"u8);
        var snapshot = new Snapshot
        {
            Time = GoTime.Parse("2022-08-25T10:11:12.123456789+02:00"u8),
            Parent = parent,
            Tree = tree,
            Paths = ["/home/u/src", "/srv/<data>"],
            Hostname = "host",
            Username = "user",
            Uid = 1000,
            Gid = 100,
            Excludes = ["*.tmp"],
            Tags = ["a", "b"],
            Original = original,
            ProgramVersion = "restic 0.17.0",
            Summary = new SnapshotSummary
            {
                BackupStart = GoTime.Parse("2022-08-25T10:11:12Z"u8),
                BackupEnd = GoTime.Parse("2022-08-25T10:11:13.5Z"u8),
                FilesNew = 1,
                FilesChanged = 2,
                FilesUnmodified = 3,
                DirsNew = 4,
                DirsChanged = 5,
                DirsUnmodified = 6,
                DataBlobs = 7,
                TreeBlobs = 8,
                DataAdded = 9,
                DataAddedPacked = 10,
                TotalFilesProcessed = 11,
                TotalBytesProcessed = 12,
            },
        };

        string expected =
            "{\"time\":\"2022-08-25T10:11:12.123456789+02:00\",\"parent\":\"" + parent + "\",\"tree\":\"" + tree + "\"," +
            "\"paths\":[\"/home/u/src\",\"/srv/\\u003cdata\\u003e\"],\"hostname\":\"host\",\"username\":\"user\",\"uid\":1000,\"gid\":100," +
            "\"excludes\":[\"*.tmp\"],\"tags\":[\"a\",\"b\"],\"original\":\"" + original + "\",\"program_version\":\"restic 0.17.0\"," +
            "\"summary\":{\"backup_start\":\"2022-08-25T10:11:12Z\",\"backup_end\":\"2022-08-25T10:11:13.5Z\",\"files_new\":1,\"files_changed\":2," +
            "\"files_unmodified\":3,\"dirs_new\":4,\"dirs_changed\":5,\"dirs_unmodified\":6,\"data_blobs\":7,\"tree_blobs\":8,\"data_added\":9," +
            "\"data_added_packed\":10,\"total_files_processed\":11,\"total_bytes_processed\":12}}";
        string written = Write(snapshot, ResticJson.WriteSnapshot);
        Assert.Equal(expected, written);
        Assert.Equal(expected, Write(ResticJson.ReadSnapshot(Utf8(written)), ResticJson.WriteSnapshot));

        // The minimal snapshot: empty optional fields are omitted, paths is not.
        var minimal = new Snapshot { Time = snapshot.Time, Tree = tree, Excludes = [], Tags = [] };
        Assert.Equal("{\"time\":\"2022-08-25T10:11:12.123456789+02:00\",\"tree\":\"" + tree + "\",\"paths\":[]}", Write(minimal, ResticJson.WriteSnapshot));
    }

    [Fact]
    public void Snapshot_reading_is_lenient()
    {
        var tree = ResticId.Hash("tree"u8);
        var s = ResticJson.ReadSnapshot(Utf8(
            "{\"Time\":\"2022-08-25T10:11:12Z\",\"tree\":\"" + tree + "\",\"paths\":null,\"parent\":null,\"tags\":null,\"future\":{\"x\":[1,2]}," +
            "\"summary\":null,\"HOSTNAME\":\"h\"}"));
        Assert.Equal(tree, s.Tree);
        Assert.Empty(s.Paths);
        Assert.Null(s.Parent);
        Assert.Null(s.Tags);
        Assert.Null(s.Summary);
        Assert.Equal("h", s.Hostname);
        Assert.Equal(default, s.Id);

        Assert.Throws<FormatException>(() => ResticJson.ReadSnapshot("{\"time\":\"2022-08-25T10:11:12Z\",\"paths\":[]}"u8));
        Assert.Throws<FormatException>(() => ResticJson.ReadSnapshot(Utf8("{\"tree\":null}")));
        Assert.Throws<FormatException>(() => ResticJson.ReadSnapshot(Utf8("{\"tree\":\"" + tree + "\",\"uid\":-1}")));
        Assert.Throws<FormatException>(() => ResticJson.ReadSnapshot(Utf8("{\"tree\":\"" + tree + "\",\"paths\":\"/x\"}")));
    }

    [Fact]
    public void Lock_round_trips_and_omits_zero_ids()
    {
        const string example = "{\"time\":\"2026-11-27T06:07:42.593845Z\",\"exclusive\":false,\"hostname\":\"h\",\"username\":\"u\",\"pid\":4242,\"uid\":1000,\"gid\":1000}";
        var document = ResticJson.ReadLock(Utf8(example));
        Assert.False(document.Exclusive);
        Assert.Equal("h", document.Hostname);
        Assert.Equal("u", document.Username);
        Assert.Equal(4242, document.Pid);
        Assert.Equal(1000u, document.Uid);
        Assert.Equal(example, Write(document, ResticJson.WriteLock));

        document.Uid = 0;
        document.Gid = 0;
        document.Exclusive = true;
        Assert.Equal("{\"time\":\"2026-11-27T06:07:42.593845Z\",\"exclusive\":true,\"hostname\":\"h\",\"username\":\"u\",\"pid\":4242}", Write(document, ResticJson.WriteLock));
        Assert.Throws<FormatException>(() => ResticJson.ReadLock("{\"exclusive\":\"yes\"}"u8));
    }

    [Fact]
    public void Config_round_trips()
    {
        var id = ResticId.Hash("repo"u8);
        const string polynomial = "24da72f6a203e3";
        string json = "{\"version\":2,\"id\":\"" + id + "\",\"chunker_polynomial\":\"" + polynomial + "\"}";
        var config = ResticJson.ReadConfig(Utf8(json));
        Assert.Equal(2u, config.Version);
        Assert.Equal(id, config.Id);
        Assert.Equal(0x24da72f6a203e3UL, config.ChunkerPolynomial.Value);
        Assert.Equal(json, Write(config, ResticJson.WriteConfig));

        // Old repositories end the config with a newline; hex of either case parses.
        Assert.Equal(0x24da72f6a203e3UL, ResticJson.ReadConfig(Utf8(json.Replace(polynomial, "24DA72F6A203E3", StringComparison.Ordinal) + "\n")).ChunkerPolynomial.Value);
        Assert.Equal("{\"version\":1,\"id\":\"" + id + "\",\"chunker_polynomial\":\"0\"}",
            Write(new RepositoryConfig { Version = 1, Id = id, ChunkerPolynomial = new ChunkerPolynomial(0) }, ResticJson.WriteConfig));

        Assert.Throws<FormatException>(() => ResticJson.ReadConfig(Utf8("{\"id\":\"" + id + "\",\"chunker_polynomial\":\"1\"}")));
        Assert.Throws<FormatException>(() => ResticJson.ReadConfig(Utf8("{\"version\":2,\"chunker_polynomial\":\"1\"}")));
        Assert.Throws<FormatException>(() => ResticJson.ReadConfig(Utf8("{\"version\":2,\"id\":\"" + id + "\"}")));
        Assert.Throws<FormatException>(() => ResticJson.ReadConfig(Utf8("{\"version\":2,\"id\":\"" + id + "\",\"chunker_polynomial\":\"0x1f\"}")));
        Assert.Throws<FormatException>(() => ResticJson.ReadConfig(Utf8("{\"version\":2,\"id\":\"" + id + "\",\"chunker_polynomial\":\"\"}")));
        Assert.Throws<FormatException>(() => ResticJson.ReadConfig(Utf8("{\"version\":2,\"id\":\"" + id + "\",\"chunker_polynomial\":\"10000000000000000\"}")));
        Assert.Throws<FormatException>(() => ResticJson.ReadConfig(Utf8("{\"version\":2,\"id\":\"" + id + "\",\"chunker_polynomial\":31}")));
        Assert.Throws<FormatException>(() => ResticJson.ReadConfig(Utf8("{\"version\":2,\"id\":\"short\",\"chunker_polynomial\":\"1f\"}")));
    }

    [Fact]
    public void Key_file_round_trips_in_restics_field_order()
    {
        var key = new KeyDocument
        {
            Created = GoTime.Parse("2022-08-25T10:11:12.5+02:00"u8),
            Username = "root",
            Hostname = "box",
            N = 32768,
            R = 8,
            P = 5,
            Salt = [1, 2, 3],
            Data = [4, 5, 6, 7],
        };
        const string expected = "{\"created\":\"2022-08-25T10:11:12.5+02:00\",\"username\":\"root\",\"hostname\":\"box\",\"kdf\":\"scrypt\",\"N\":32768,\"r\":8,\"p\":5,\"salt\":\"AQID\",\"data\":\"BAUGBw==\"}";
        Assert.Equal(expected, Write(key, ResticJson.WriteKey));
        var read = ResticJson.ReadKey(Utf8(expected));
        Assert.Equal(32768, read.N);
        Assert.Equal(8, read.R);
        Assert.Equal(5, read.P);
        Assert.Equal("scrypt", read.Kdf);
        Assert.Equal(new byte[] { 4, 5, 6, 7 }, read.Data);
        Assert.Equal(expected, Write(read, ResticJson.WriteKey));

        // Username and hostname are never omitted.
        Assert.Contains("\"username\":\"\",\"hostname\":\"\"", Write(new KeyDocument(), ResticJson.WriteKey), StringComparison.Ordinal);

        // Go's base64 decoder skips CR and LF (JSON-escaped here); nothing else.
        Assert.Equal(new byte[] { 1, 2, 3 }, ResticJson.ReadKey("{\"salt\":\"AQ\\r\\nID\"}"u8).Salt);
        Assert.Throws<FormatException>(() => ResticJson.ReadKey("{\"salt\":\"AQID=\"}"u8));
        Assert.Throws<FormatException>(() => ResticJson.ReadKey("{\"salt\":\"AQ ID\"}"u8));
        Assert.Throws<FormatException>(() => ResticJson.ReadKey("{\"N\":\"many\"}"u8));
    }

    [Fact]
    public void Master_key_round_trips()
    {
        byte[] k = Enumerable.Range(1, 16).Select(i => (byte)i).ToArray();
        byte[] r = Enumerable.Range(17, 16).Select(i => (byte)i).ToArray();
        byte[] e = Enumerable.Range(33, 32).Select(i => (byte)i).ToArray();
        string json = Write(new MasterKeyDocument(k, r, e), ResticJson.WriteMasterKey);
        Assert.Equal("{\"mac\":{\"k\":\"" + Convert.ToBase64String(k) + "\",\"r\":\"" + Convert.ToBase64String(r) + "\"},\"encrypt\":\"" + Convert.ToBase64String(e) + "\"}", json);
        var read = ResticJson.ReadMasterKey(Utf8(json));
        Assert.Equal(k, read.MacK);
        Assert.Equal(r, read.MacR);
        Assert.Equal(e, read.Encrypt);

        Assert.Throws<FormatException>(() => ResticJson.ReadMasterKey(Utf8("{\"mac\":{\"k\":\"" + Convert.ToBase64String(k) + "\"},\"encrypt\":\"" + Convert.ToBase64String(e) + "\"}")));
        Assert.Throws<FormatException>(() => ResticJson.ReadMasterKey(Utf8("{\"mac\":{\"k\":\"AQID\",\"r\":\"" + Convert.ToBase64String(r) + "\"},\"encrypt\":\"" + Convert.ToBase64String(e) + "\"}")));
        Assert.Throws<FormatException>(() => ResticJson.ReadMasterKey("not json"u8));
    }
}
