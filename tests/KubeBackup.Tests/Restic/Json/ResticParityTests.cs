using System.Buffers;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using KubeBackup.Restic;
using KubeBackup.Restic.Json;
using KubeBackup.Restic.Model;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Restic.Json;

/// <summary>
/// Byte parity with the real restic 0.14: back up a folder of awkward names, times and node types with restic, then
/// check that reading and re-writing every tree reproduces restic's exact bytes, and that our readers take every other
/// document restic wrote (and our writers give back what Go's encoder gave).
/// </summary>
[SupportedOSPlatform("linux")]
public class ResticParityTests
{
    private const string Password = "parity-test-password";

    // A time zone with a negative half-hour offset, so node and snapshot times carry an offset other than Z.
    private const string TimeZone = "America/St_Johns";

    private const uint ModeSetuid = 1u << 23;
    private const uint ModeSticky = 1u << 20;

    private static readonly ResticId EmptyTreeId = ResticId.Parse("ac08ce34ba4f8123618661bef2425f7028ffb9ac740578a3ee88684d2523fee8");

    // Names created in the source folder, as raw bytes; invalid UTF-8 included.
    private static readonly byte[][] FileNames =
    [
        U("b.txt"),
        U("with space.txt"),
        U("we\"ird\\name"),
        U("new\nline"),
        U("tab\there"),
        U("<b>&amp;"),
        U("ñandú-日本語"),
        U("emoji-😀"),
        U("melting-\U0001FAE0"),
        U("ls\u2028ps\u2029"),
        U("nb\u00A0sp"),
        U("del\u007F"),
        U("ctl-\a\b\f\v\r\u0001\u001b"),
        U("fmt-\u00AD\u200D\uFEFF"),
        U("pua-\uE000"),
        U("fffd-\uFFFD"),
        [.. U("bad-"), 0xFF, 0xFE],
        [.. U("lat1-caf"), 0xE9],
        [.. U("sur-"), 0xED, 0xA0, 0x80],
        [.. U("trunc-"), 0xE2, 0x82],
        U("setuid"),
        U("hardlink-a"),
        U("hardlink-b"),
    ];

    private static readonly byte[] BadLinkTarget = [.. U("tgt-"), 0xFF, 0xFE];

    [Fact]
    public async Task Trees_written_by_restic_round_trip_byte_for_byte_and_documents_read()
    {
        using var temp = new TempDirectory("json-parity");
        string source = temp.Combine("src");
        try
        {
            var expectedNames = CreateSourceTree(source);
            var restic = new ResticCli(temp.Combine("repo"), Password);
            restic.Environment["TZ"] = TimeZone;
            await restic.RunCheckedAsync("init");
            // restic stores atime only when asked (else atime = mtime); the first snapshot keeps it, the second not.
            await restic.RunCheckedAsync("backup", "--with-atime", "--host", "parity-host", "--tag", "a,b", "--exclude", "*.skip", source);
            File.AppendAllText(Path.Combine(source, "with space.txt"), "changed");
            await restic.RunCheckedAsync("backup", "--host", "parity-host", "--tag", "a,b", "--exclude", "*.skip", source);

            // Snapshots: ours read them, and our writer gives what Go's encoder gave (cat prints it indented).
            var snapshotIds = Lines(await restic.RunCheckedAsync("list", "snapshots"));
            Assert.Equal(2, snapshotIds.Count);
            var snapshots = new List<Snapshot>();
            foreach (string id in snapshotIds)
            {
                string json = await restic.RunCheckedAsync("cat", "snapshot", id);
                var snapshot = ResticJson.ReadSnapshot(Encoding.UTF8.GetBytes(json));
                snapshot.Id = ResticId.Parse(id);
                Assert.Equal(Compact(json), Write(snapshot, ResticJson.WriteSnapshot));
                Assert.Equal("parity-host", snapshot.Hostname);
                Assert.Equal(["a", "b"], snapshot.Tags);
                Assert.Equal(["*.skip"], snapshot.Excludes);
                Assert.Equal([source], snapshot.Paths);
                Assert.Contains(snapshot.Time.OffsetSeconds, new[] { -(3 * 3600 + 1800), -(2 * 3600 + 1800) });
                snapshots.Add(snapshot);
            }

            snapshots.Sort((a, b) => a.Time.CompareTo(b.Time));
            Assert.Null(snapshots[0].Parent);
            Assert.Equal(snapshots[0].Id, snapshots[1].Parent);

            // Every tree of both snapshots: its ID is the hash of its bytes, and read → write gives the same bytes.
            var trees = new Dictionary<ResticId, Tree>();
            var pending = new Queue<ResticId>(snapshots.Select(s => s.Tree));
            var rawTrees = new Dictionary<ResticId, byte[]>();
            int lossyTrees = 0;
            while (pending.Count > 0)
            {
                var treeId = pending.Dequeue();
                if (trees.ContainsKey(treeId))
                {
                    continue;
                }

                byte[] raw = await restic.RunForBytesAsync("cat", "blob", treeId.ToString());
                Assert.Equal(treeId, ResticId.Hash(raw));
                var tree = ResticJson.ReadTree(raw);
                byte[] rewritten = TreeJsonTests.WriteTree(tree.Nodes);

                // The one thing that cannot round-trip: Go writes each invalid UTF-8 byte of a plain string (here the
                // link target "tgt-\xff\xfe") as \ufffd, which reads back as a real U+FFFD, which Go and we write raw.
                // Names never hit this, since they are Go-quoted first.
                string resticText = Encoding.UTF8.GetString(raw);
                if (resticText.Contains("\\ufffd", StringComparison.Ordinal))
                {
                    lossyTrees++;
                    resticText = resticText.Replace("\\ufffd", "\uFFFD", StringComparison.Ordinal);
                    Assert.Equal(resticText, Encoding.UTF8.GetString(rewritten));
                }
                else
                {
                    Assert.True(raw.AsSpan().SequenceEqual(rewritten), $"Tree {treeId} differs.\nrestic: {resticText}\nours:   {Encoding.UTF8.GetString(rewritten)}");
                }

                trees[treeId] = tree;
                rawTrees[treeId] = raw;
                foreach (var node in tree.Nodes)
                {
                    if (node.Subtree is { } subtree)
                    {
                        pending.Enqueue(subtree);
                    }
                }
            }

            // Only the source folder's tree holds the invalid link target; it differs between the two snapshots.
            Assert.Equal(2, lossyTrees);

            var (srcTree, srcRaw) = FindSourceTree(trees, rawTrees, snapshots[0].Tree, source);
            CheckSourceTree(srcTree, Encoding.UTF8.GetString(srcRaw), expectedNames, trees);

            // Index files: restic prints the stored plaintext (plus a newline); we reproduce it exactly.
            var indexedTrees = new HashSet<ResticId>();
            foreach (string id in Lines(await restic.RunCheckedAsync("list", "index")))
            {
                byte[] printed = await restic.RunForBytesAsync("cat", "index", id);
                Assert.Equal((byte)'\n', printed[^1]);
                byte[] raw = printed[..^1];
                var index = ResticJson.ReadIndex(raw);
                Assert.Null(index.Supersedes);
                Assert.Equal(Encoding.UTF8.GetString(raw), Write(index, ResticJson.WriteIndex));
                foreach (var pack in index.Packs)
                {
                    foreach (var blob in pack.Blobs)
                    {
                        Assert.True(blob.IsCompressed || blob.Length > 32);
                        if (blob.Type == BlobType.Tree)
                        {
                            indexedTrees.Add(blob.Id);
                        }
                    }
                }
            }

            Assert.Subset(indexedTrees, trees.Keys.ToHashSet());

            // Config.
            string configJson = await restic.RunCheckedAsync("cat", "config");
            var config = ResticJson.ReadConfig(Encoding.UTF8.GetBytes(configJson));
            Assert.Equal(2u, config.Version);
            Assert.NotEqual(0UL, config.ChunkerPolynomial.Value);
            Assert.Equal(Compact(configJson), Write(config, ResticJson.WriteConfig));

            // Key files are plain JSON on disk: the exact bytes come back, and the file name is their hash.
            string keyId = Assert.Single(Lines(await restic.RunCheckedAsync("list", "keys")));
            byte[] keyFile = File.ReadAllBytes(temp.Combine("repo", "keys", keyId));
            Assert.Equal(ResticId.Parse(keyId), ResticId.Hash(keyFile));
            var key = ResticJson.ReadKey(keyFile);
            Assert.Equal("scrypt", key.Kdf);
            Assert.Equal(64, key.Salt.Length);
            Assert.True(key.N > 1 && key.R > 0 && key.P > 0);
            Assert.Equal(Encoding.UTF8.GetString(keyFile), Write(key, ResticJson.WriteKey));
            Assert.Equal(Compact(await restic.RunCheckedAsync("cat", "key", keyId)), Write(key, ResticJson.WriteKey));

            string masterJson = await restic.RunCheckedAsync("cat", "masterkey");
            var master = ResticJson.ReadMasterKey(Encoding.UTF8.GetBytes(masterJson));
            Assert.Equal(32, master.Encrypt.Length);
            Assert.Equal(Compact(masterJson), Write(master, ResticJson.WriteMasterKey));
        }
        finally
        {
            // .NET cannot name the entries whose names are not UTF-8, so let rm remove the source folder.
            using var rm = Process.Start("rm", ["-rf", source]);
            await rm.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Lock_written_by_restic_reads_and_rewrites_as_go_marshals_it()
    {
        using var temp = new TempDirectory("json-lock");
        var restic = new ResticCli(temp.Combine("repo"), Password);
        restic.Environment["TZ"] = TimeZone;
        await restic.RunCheckedAsync("init");

        // A backup from stdin holds its (non-exclusive) lock until stdin ends.
        using var stdin = new HeldOpenStream();
        var backup = restic.RunAsync(["backup", "--stdin", "--stdin-filename", "held.txt"], stdin, null);
        try
        {
            string? lockId = null;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (lockId is null && DateTime.UtcNow < deadline && !backup.IsCompleted)
            {
                lockId = Lines(await restic.RunCheckedAsync("--no-lock", "list", "locks")).FirstOrDefault();
                if (lockId is null)
                {
                    await Task.Delay(200);
                }
            }

            Assert.NotNull(lockId);
            string json = await restic.RunCheckedAsync("--no-lock", "cat", "lock", lockId);
            var document = ResticJson.ReadLock(Encoding.UTF8.GetBytes(json));
            Assert.False(document.Exclusive);
            Assert.True(document.Pid > 0);
            Assert.False(string.IsNullOrEmpty(document.Hostname));
            Assert.Contains(document.Time.OffsetSeconds, new[] { -(3 * 3600 + 1800), -(2 * 3600 + 1800) });
            Assert.Equal(Compact(json), Write(document, ResticJson.WriteLock));
        }
        finally
        {
            stdin.Release();
            (await backup).EnsureSuccess("restic backup --stdin");
        }
    }

    private static void CheckSourceTree(Tree tree, string raw, HashSet<string> expectedNames, Dictionary<ResticId, Tree> trees)
    {
        // Names come back as the exact bytes on disk (hex-keyed to compare byte strings).
        Assert.Equal(expectedNames.Order(StringComparer.Ordinal), tree.Nodes.Select(n => Convert.ToHexString(n.Name)).Order(StringComparer.Ordinal));

        // restic's quoting, as seen in its bytes.
        Assert.Contains("\"name\":\"we\\\\\\\"ird\\\\\\\\name\"", raw, StringComparison.Ordinal);
        Assert.Contains("\"name\":\"new\\\\nline\"", raw, StringComparison.Ordinal);
        Assert.Contains("\"name\":\"bad-\\\\xff\\\\xfe\"", raw, StringComparison.Ordinal);
        Assert.Contains("\"name\":\"ls\\\\u2028ps\\\\u2029\"", raw, StringComparison.Ordinal);
        Assert.Contains("\"name\":\"\\u003cb\\u003e\\u0026amp;\"", raw, StringComparison.Ordinal);
        Assert.Contains("\"name\":\"emoji-😀\"", raw, StringComparison.Ordinal);

        // Go 1.19 has Unicode 13, where U+1FAE0 is unassigned, so restic 0.14 escapes it.
        Assert.Contains("\"name\":\"melting-\\\\U0001fae0\"", raw, StringComparison.Ordinal);

        Node Find(string name) => tree.Nodes.Single(n => n.Name.AsSpan().SequenceEqual(U(name)));

        var b = Find("b.txt");
        Assert.Equal(NodeType.File, b.Type);
        Assert.Equal(-1, b.ModTime.UnixSeconds);
        Assert.Equal(500_000_000, b.ModTime.Nanoseconds);
        Assert.Equal("1969-12-31T20:29:59.5-03:30", b.ModTime.ToString());
        Assert.Equal(13_569_465_600, b.AccessTime.UnixSeconds);
        Assert.Equal(1, b.AccessTime.Nanoseconds);
        Assert.NotNull(b.Content);
        Assert.Single(b.Content);
        if (b.ExtendedAttributes is { Count: > 0 } xattrs)
        {
            Assert.Equal(new byte[] { 0, 1, 2, 255 }, xattrs.Single(x => x.Name == "user.test").Value);
            Assert.Contains(xattrs, x => x.Name == "user.we<i>rd&\"name");
        }

        var empty = Find("empty");
        Assert.NotNull(empty.Content);
        Assert.Empty(empty.Content);

        Assert.Equal(2ul, Find("hardlink-a").Links);
        Assert.NotEqual(0u, Find("setuid").Mode & ModeSetuid);
        Assert.Equal(NodeType.Fifo, Find("fifo").Type);

        var sticky = Find("sticky");
        Assert.Equal(NodeType.Dir, sticky.Type);
        Assert.NotEqual(0u, sticky.Mode & ModeSticky);
        Assert.Null(sticky.Content);
        Assert.Equal(EmptyTreeId, sticky.Subtree);
        Assert.Empty(trees[EmptyTreeId].Nodes);

        var inner = trees[Find("dir with ü").Subtree!.Value];
        var innerDir = Assert.Single(inner.Nodes);
        Assert.Equal("inner \"dir\"", innerDir.DisplayName);
        Assert.Equal("deep.txt", Assert.Single(trees[innerDir.Subtree!.Value].Nodes).DisplayName);

        Assert.Equal(U("b.txt"), Find("link").LinkTarget);
        Assert.Equal(U("../t a\nb<c>&\"d\\e\u2028"), Find("link-weird").LinkTarget);

        // restic 0.14 stores an invalid target lossily (U+FFFD per bad byte) and without linktarget_raw. Written with
        // its true bytes, our node is restic's plus the linktarget_raw field that restic 0.16+ adds.
        var badLink = Find("link-bad");
        Assert.Equal([.. U("tgt-"), 0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD], badLink.LinkTarget);
        string resticNode = Write(badLink, ResticJson.WriteNode).Replace("\uFFFD", "\\ufffd", StringComparison.Ordinal);
        Assert.Contains(resticNode, raw, StringComparison.Ordinal);
        badLink.LinkTarget = BadLinkTarget;
        string ours = Write(badLink, ResticJson.WriteNode);
        const string lossy = "\"linktarget\":\"tgt-\\ufffd\\ufffd\"";
        Assert.Equal(resticNode.Replace(lossy, lossy + ",\"linktarget_raw\":\"" + Convert.ToBase64String(BadLinkTarget) + "\"", StringComparison.Ordinal), ours);
        Assert.Equal(BadLinkTarget, ResticJson.ReadNode(Encoding.UTF8.GetBytes(ours)).LinkTarget);
    }

    private static (Tree Tree, byte[] Raw) FindSourceTree(Dictionary<ResticId, Tree> trees, Dictionary<ResticId, byte[]> raw, ResticId root, string source)
    {
        // The root tree mirrors the absolute path: tmp → kb-json-parity-… → src.
        var id = root;
        foreach (string part in source.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var node = trees[id].Nodes.Single(n => n.DisplayName == part);
            id = node.Subtree!.Value;
        }

        return (trees[id], raw[id]);
    }

    private static HashSet<string> CreateSourceTree(string source)
    {
        Directory.CreateDirectory(source);
        var names = new HashSet<string>();
        foreach (byte[] name in FileNames)
        {
            byte[] content = name.AsSpan().SequenceEqual(U("b.txt")) ? U("plain text\n") : [.. U("content of "), .. name];
            Libc.WriteFile(source, name, content);
            names.Add(Convert.ToHexString(name));
        }

        Libc.WriteFile(source, U("empty"), []);
        names.Add(Convert.ToHexString(U("empty")));
        Libc.WriteFile(source, U("excluded.skip"), U("not backed up"));

        Libc.Check(Libc.unlink(Libc.PathOf(source, U("hardlink-b"))), "unlink");
        Libc.Check(Libc.link(Libc.PathOf(source, U("hardlink-a")), Libc.PathOf(source, U("hardlink-b"))), "link");

        File.SetUnixFileMode(Path.Combine(source, "setuid"), UnixFileMode.SetUser | UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        // Times Go prints in interesting ways: before the epoch with a fraction, and far ahead with one nanosecond.
        Libc.SetTimes(source, U("b.txt"), access: (13_569_465_600, 1), modification: (-1, 500_000_000));

        // Extended attributes, where the file system has them.
        Libc.TrySetXattr(source, U("b.txt"), "user.test", [0, 1, 2, 255]);
        Libc.TrySetXattr(source, U("b.txt"), "user.we<i>rd&\"name", U("v"));

        foreach (string dir in new[] { "dir with ü", "sticky" })
        {
            Directory.CreateDirectory(Path.Combine(source, dir));
            names.Add(Convert.ToHexString(U(dir)));
        }

        Directory.CreateDirectory(Path.Combine(source, "dir with ü", "inner \"dir\""));
        File.WriteAllText(Path.Combine(source, "dir with ü", "inner \"dir\"", "deep.txt"), "deep");
        File.SetUnixFileMode(Path.Combine(source, "sticky"), (UnixFileMode)0x3FF | UnixFileMode.StickyBit);

        byte[] badDir = [.. U("bad-dir-"), 0xC3, 0x28];
        Libc.Check(Libc.mkdir(Libc.PathOf(source, badDir), 0x1ED), "mkdir");
        Libc.WriteFile(Path.Combine(source), [.. badDir, (byte)'/', (byte)'x'], U("x"));
        names.Add(Convert.ToHexString(badDir));

        Libc.Check(Libc.symlink(Libc.Z(U("b.txt")), Libc.PathOf(source, U("link"))), "symlink");
        Libc.Check(Libc.symlink(Libc.Z(U("../t a\nb<c>&\"d\\e\u2028")), Libc.PathOf(source, U("link-weird"))), "symlink");
        Libc.Check(Libc.symlink(Libc.Z(BadLinkTarget), Libc.PathOf(source, U("link-bad"))), "symlink");
        Libc.Check(Libc.mkfifo(Libc.PathOf(source, U("fifo")), 0x1A4), "mkfifo");
        foreach (string name in new[] { "link", "link-weird", "link-bad", "fifo" })
        {
            names.Add(Convert.ToHexString(U(name)));
        }

        return names;
    }

    private static byte[] U(string s) => Encoding.UTF8.GetBytes(s);

    private static List<string> Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    private static string Write<T>(T document, Action<T, IBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(document, buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    // json.MarshalIndent output (what restic cat prints) compacted back to json.Marshal output.
    private static string Compact(string indented)
    {
        var buffer = new ArrayBufferWriter<byte>();
        new GoJsonWriter(buffer).RawValue(Encoding.UTF8.GetBytes(indented));
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A stdin that stays open (reads block) until released, then gives a few bytes and ends.</summary>
    private sealed class HeldOpenStream : Stream
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private bool _sent;

        public void Release() => _released.TrySetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await _released.Task.WaitAsync(cancellationToken);
            return Next(buffer.Span);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count)
        {
            _released.Task.Wait();
            return Next(buffer.AsSpan(offset, count));
        }

        // restic refuses an empty stdin backup, so end with a little data.
        private int Next(Span<byte> buffer)
        {
            if (_sent)
            {
                return 0;
            }

            _sent = true;
            "held\n"u8.CopyTo(buffer);
            return 5;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>The few libc calls needed to make names and link targets that are not UTF-8, and exact timestamps.</summary>
    private static class Libc
    {
        private const int OpenWriteCreateTruncate = 0x1 | 0x40 | 0x200;
        private const int AtFdCwd = -100;

        [StructLayout(LayoutKind.Sequential)]
        public struct Timespec
        {
            public long Seconds;
            public long Nanoseconds;
        }

        [DllImport("libc", SetLastError = true)]
        public static extern int open(byte[] path, int flags, int mode);

        [DllImport("libc", SetLastError = true)]
        public static extern nint write(int fd, byte[] buffer, nint count);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);

        [DllImport("libc", SetLastError = true)]
        public static extern int mkdir(byte[] path, uint mode);

        [DllImport("libc", SetLastError = true)]
        public static extern int symlink(byte[] target, byte[] linkPath);

        [DllImport("libc", SetLastError = true)]
        public static extern int link(byte[] existing, byte[] newPath);

        [DllImport("libc", SetLastError = true)]
        public static extern int unlink(byte[] path);

        [DllImport("libc", SetLastError = true)]
        public static extern int mkfifo(byte[] path, uint mode);

        [DllImport("libc", SetLastError = true)]
        public static extern int utimensat(int dirFd, byte[] path, Timespec[] times, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int lsetxattr(byte[] path, byte[] name, byte[] value, nuint size, int flags);

        public static byte[] Z(byte[] s) => [.. s, 0];

        public static byte[] PathOf(string folder, byte[] name) => [.. Encoding.UTF8.GetBytes(folder), (byte)'/', .. name, 0];

        public static void Check(int result, string what)
        {
            if (result != 0)
            {
                throw new InvalidOperationException($"{what} failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }

        public static void WriteFile(string folder, byte[] name, byte[] content)
        {
            int fd = open(PathOf(folder, name), OpenWriteCreateTruncate, 0x1A4);
            if (fd < 0)
            {
                throw new InvalidOperationException($"open failed: errno {Marshal.GetLastPInvokeError()}");
            }

            try
            {
                if (content.Length > 0 && write(fd, content, content.Length) != content.Length)
                {
                    throw new InvalidOperationException($"write failed: errno {Marshal.GetLastPInvokeError()}");
                }
            }
            finally
            {
                close(fd);
            }
        }

        public static void SetTimes(string folder, byte[] name, (long Seconds, long Nanoseconds) access, (long Seconds, long Nanoseconds) modification)
        {
            Timespec[] times =
            [
                new() { Seconds = access.Seconds, Nanoseconds = access.Nanoseconds },
                new() { Seconds = modification.Seconds, Nanoseconds = modification.Nanoseconds },
            ];
            Check(utimensat(AtFdCwd, PathOf(folder, name), times, 0), "utimensat");
        }

        public static void TrySetXattr(string folder, byte[] name, string attribute, byte[] value) =>
            _ = lsetxattr(PathOf(folder, name), Z(Encoding.UTF8.GetBytes(attribute)), value, (nuint)value.Length, 0);
    }
}
