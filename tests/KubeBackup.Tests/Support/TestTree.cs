using System.Text;
using KubeBackup.Platform;
using Microsoft.Win32.SafeHandles;

namespace KubeBackup.Tests.Support;

/// <summary>
/// Builds a deterministic file tree that exercises everything a POSIX backup must carry: multi-chunk, zero-run and
/// sparse files, many small files, empty files and folders, deep nesting, symlinks of every sort, hard links across
/// folders, awkward and invalid-UTF-8 names, a fifo and devices, special permission bits, other owners, xattrs, and
/// nanosecond timestamps (directories' set last, bottom-up). The same seed and options give the same tree (compare
/// with <see cref="TreeSnapshot"/>), wherever it is made.
/// </summary>
/// <remarks>Everything goes through <see cref="DirectoryHandle"/>, since .NET cannot name invalid UTF-8 or set
/// nanosecond times. Ownership and devices need root; other parts work for any user.</remarks>
internal static class TestTree
{
    /// <summary>Relative paths of notable items, for tests that look at one of them.</summary>
    public static class Paths
    {
        /// <summary>Pseudo-random content, <see cref="TestTreeOptions.BigFileSize"/> bytes.</summary>
        public const string BigRandom = "big/random.bin";

        /// <summary>Random islands in long zero runs, written densely.</summary>
        public const string ZeroRuns = "big/zero-runs.bin";

        /// <summary>A sparse file with four data regions.</summary>
        public const string Sparse = "big/sparse.bin";

        /// <summary>A sparse file that is all hole.</summary>
        public const string HoleOnly = "big/hole-only.bin";

        /// <summary>An empty regular file (also hard-linked as <c>hardlinks/empty-link</c>).</summary>
        public const string EmptyFile = "empty/empty-file";

        /// <summary>An empty directory.</summary>
        public const string EmptyDirectory = "empty/empty-dir";

        /// <summary>A file with <c>user.kb.test</c> (if xattrs were applied).</summary>
        public const string XattrFile = "xattr/with-xattr.txt";

        /// <summary>The fifo.</summary>
        public const string Fifo = "special/fifo";

        /// <summary>First of two names of one inode (the other is <c>hardlinks/sub/pair-b</c>).</summary>
        public const string HardLinkPair = "hardlinks/pair-a";

        /// <summary>First of three names of one inode (also <c>names/triple-2</c>, <c>deep/d01/triple-3</c>).</summary>
        public const string HardLinkTriple = "hardlinks/triple-1";

        /// <summary>A symlink whose target is not valid UTF-8 (if invalid UTF-8 is included).</summary>
        public const string InvalidUtf8Symlink = "links/invalid-utf8-target";

        /// <summary>A 0640 file.</summary>
        public const string Mode0640 = "modes/0640.txt";

        /// <summary>A file owned by 1234:2345 (if ownership was applied).</summary>
        public const string ForeignOwnedFile = "owners/file-1234";
    }

    /// <summary>The bytes of the invalid UTF-8 file name under <c>names/</c>.</summary>
    public static byte[] InvalidUtf8Name => Raw("bad-\xff\xfe-name.bin");

    /// <summary>Bytes from a string whose characters are all below U+0100, one byte each: C# string and u8 literals
    /// cannot hold invalid UTF-8, so "\xff" here means the single byte 0xFF.</summary>
    public static byte[] Raw(string latin1) => System.Text.Encoding.Latin1.GetBytes(latin1);

    /// <summary>An octal permission written with decimal digits: O(2755) is 0x5ED.</summary>
    private static uint O(int digits) => Convert.ToUInt32(digits.ToString(System.Globalization.CultureInfo.InvariantCulture), 8);

    /// <summary>Generates the tree in <paramref name="root"/> (created if missing; must be empty).</summary>
    public static TestTreeInfo Generate(string root, TestTreeOptions options, int seed)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(options);
        root = Path.GetFullPath(root).TrimEnd('/');
        Directory.CreateDirectory(root);
        if (Directory.EnumerateFileSystemEntries(root).Any())
        {
            throw new ArgumentException($"The test tree root must be empty: {root}", nameof(root));
        }

        using var builder = new Builder(root, options, seed);
        builder.Build();
        return builder.Finish();
    }

    /// <summary>Deletes a folder and everything below it, whatever the names (.NET's Directory.Delete cannot remove
    /// names that are not valid UTF-8) and permissions (0000 folders are opened up first). Symlinks are removed,
    /// never followed. A missing folder is fine.</summary>
    public static void Delete(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        path = Path.GetFullPath(path).TrimEnd('/');
        using var parent = DirectoryHandle.Open(Path.GetDirectoryName(path) ?? "/");
        var name = Encoding.UTF8.GetBytes(Path.GetFileName(path));
        if (!parent.TryStatChild(name, out var status))
        {
            return;
        }

        DeleteEntry(parent, name, status);
    }

    private static void DeleteEntry(DirectoryHandle parent, byte[] name, FileStatus status)
    {
        if (status.Kind == PosixFileKind.Directory)
        {
            parent.SetPermissions(name, 0x1C0); // 0700: a non-root owner must be able to list and empty it
            using var directory = parent.OpenDirectory(name);
            foreach (var child in directory.ReadEntries())
            {
                DeleteEntry(directory, child, directory.StatChild(child));
            }
        }

        parent.Remove(name, status.Kind == PosixFileKind.Directory);
    }

    /// <summary>Generates the full-size tree.</summary>
    public static TestTreeInfo Generate(string root, int seed = 1) => Generate(root, TestTreeOptions.Default, seed);

    private sealed class Builder : IDisposable
    {
        private const int MiB = 1024 * 1024;
        private const uint ForeignUid = 1234;
        private const uint ForeignGid = 2345;

        private readonly TestTreeOptions options;
        private readonly TestTreeRandom random;
        private readonly string root;
        private readonly int seed;
        private readonly bool isRoot;
        private readonly DirectoryHandle rootParent;
        private readonly Folder top;
        private readonly List<Folder> folders = [];
        private readonly List<(Folder Folder, byte[] Name, TimeSpec Access, TimeSpec Modify)> fileTimes = [];
        private readonly List<string> skipped = [];
        private bool xattrs;
        private int regularFiles;
        private int hardLinkNames;
        private int symlinks;
        private int fifos;
        private int devices;
        private long contentBytes;

        public Builder(string root, TestTreeOptions options, int seed)
        {
            this.root = root;
            this.options = options;
            this.seed = seed;
            random = new TestTreeRandom((ulong)seed);
            isRoot = PosixFile.EffectiveUserId == 0;
            var parentPath = Path.GetDirectoryName(root) ?? "/";
            rootParent = DirectoryHandle.Open(parentPath);
            top = new Folder(DirectoryHandle.Open(root), null, Encoding.UTF8.GetBytes(Path.GetFileName(root)), 0, O(755), null, NextTimes());
            xattrs = options.IncludeExtendedAttributes;
        }

        public void Build()
        {
            BuildBig();
            BuildSmall();
            BuildEmpty();
            BuildDeep();
            BuildNames();
            BuildLinks();
            BuildHardLinks();
            BuildModes();
            BuildOwners();
            BuildSpecial();
            BuildXattrs();
            BuildTimes();
        }

        public TestTreeInfo Finish()
        {
            // Times of non-directories first (nothing later touches their mtime), then owners, modes and times of the
            // directories deepest first: creating an entry changes its parent's mtime, and a read-only or 0000
            // directory must stay writable until everything below it exists.
            foreach (var (folder, name, access, modify) in fileTimes)
            {
                folder.Handle.SetTimes(name, access, modify);
            }

            foreach (var folder in folders.OrderByDescending(f => f.Depth))
            {
                ApplyFolderMetadata(folder.Parent!.Handle, folder);
            }

            ApplyFolderMetadata(rootParent, top);

            return new TestTreeInfo(root, seed, folders.Count, regularFiles, hardLinkNames, symlinks, fifos, devices,
                contentBytes, xattrs, options.IncludeOwnership && isRoot, skipped);
        }

        public void Dispose()
        {
            foreach (var folder in folders)
            {
                folder.Handle.Dispose();
            }

            top.Handle.Dispose();
            rootParent.Dispose();
        }

        // ---- the parts of the tree ----

        private void BuildBig()
        {
            var big = Mkdir(top, "big");

            // Pseudo-random: content-defined chunking cuts it into many chunks.
            WriteFile(big, "random.bin", O(644), file => WriteRandom(file, 0, options.BigFileSize));

            // Random islands between long zero runs, written out densely (not sparse): zero chunks deduplicate, and
            // a restore that punches holes for zeros makes it sparse.
            var z = options.ZeroRunFileSize;
            WriteFile(big, "zero-runs.bin", O(644), file =>
            {
                // random [0, a) | zeros [a, b) | random [b, c) | zeros [c, d) | random [d, z)
                var a = Math.Min(MiB, z);
                var b = Math.Max(a, z * 6 / 10);
                var c = Math.Min(z, b + (512 * 1024));
                var d = Math.Max(c, z - Math.Min(MiB - 17, z / 4));
                WriteRandom(file, 0, a);
                WriteZeros(file, a, b);
                WriteRandom(file, b, c - b);
                WriteZeros(file, c, d);
                WriteRandom(file, d, z - d);
            }, size: z);

            // Sparse: set the size first, then write a few regions; the rest stays unallocated.
            var s = options.SparseFileSize;
            WriteFile(big, "sparse.bin", O(644), file =>
            {
                PosixFile.SetLength(file, s);
                WriteRandom(file, 0, Math.Min(4096, s));
                WriteRandom(file, (s / 4) + 12_345, Math.Min(65_536, s / 8));
                WriteRandom(file, s / 2, Math.Min(4096, s / 8));
                WriteRandom(file, s - Math.Min(1000, s / 8), Math.Min(1000, s / 8));
            }, size: s);

            WriteFile(big, "hole-only.bin", O(644), file => PosixFile.SetLength(file, s / 4), size: s / 4);
        }

        private void BuildSmall()
        {
            var small = Mkdir(top, "small");
            Folder? folder = null;
            byte[]? previous = null;
            for (var i = 0; i < options.SmallFileCount; i++)
            {
                if (i % Math.Max(1, options.SmallFilesPerFolder) == 0)
                {
                    folder = Mkdir(small, $"d{i / Math.Max(1, options.SmallFilesPerFolder):D3}");
                }

                byte[] content;
                if (i % 50 == 7)
                {
                    content = [];
                }
                else if (i % 13 == 5 && previous is not null)
                {
                    content = previous; // identical content under another name: deduplicates
                }
                else if (i % 2 == 0)
                {
                    var text = new StringBuilder();
                    var target = random.Next(options.SmallFileMaxSize + 1);
                    for (var line = 0; text.Length < target; line++)
                    {
                        text.Append("file ").Append(i).Append(" line ").Append(line).Append(" value ").Append(random.NextUInt64()).Append('\n');
                    }

                    content = Encoding.ASCII.GetBytes(text.ToString(0, target));
                }
                else
                {
                    content = random.NextBytes(random.Next(options.SmallFileMaxSize + 1));
                }

                previous = content;
                WriteFile(folder!, $"f{i:D5}{(i % 2 == 0 ? ".txt" : ".bin")}", O(644), content);
            }
        }

        private void BuildEmpty()
        {
            var empty = Mkdir(top, "empty");
            WriteFile(empty, "empty-file", O(644), []);
            Mkdir(empty, "empty-dir");
            var nested = Mkdir(empty, "nested");
            Mkdir(Mkdir(Mkdir(nested, "a"), "b"), "c");
        }

        private void BuildDeep()
        {
            var folder = Mkdir(top, "deep");
            for (var level = 1; level <= 12; level++)
            {
                folder = Mkdir(folder, $"d{level:D2}");
            }

            WriteFile(folder, "leaf.txt", O(644), "twelve levels down\n"u8.ToArray());
        }

        private void BuildNames()
        {
            var names = Mkdir(top, "names");
            string[] awkward =
            [
                "with space.txt", " leading space", "trailing space ", "new\nline", "tab\there", "carriage\rreturn",
                "back\\slash", "double\"quote", "single'quote", "colon:star*question?", "less<greater>pipe|",
                "-leading-dash", ".hidden", "..double-dot-prefix", "percent%20encoded", "ctrl\u0001\u007fchars",
                "caf\u00e9 precomposed", "cafe\u0301 decomposed", "\u65e5\u672c\u8a9e.txt", "emoji \U0001F600.txt",
                "nbsp\u00a0and\u2028separator", "zero\u200bwidth", "rtl \u05e9\u05dc\u05d5\u05dd",
                new string('x', 251) + ".txt", // 255 bytes: NAME_MAX
            ];
            foreach (var name in awkward)
            {
                var bytes = Encoding.UTF8.GetBytes(name);
                WriteFile(names, bytes, O(644), [.. bytes, (byte)'\n']);
            }

            var spaced = Mkdir(names, "dir with space");
            WriteFile(spaced, "inner file", O(644), "inside a spaced folder\n"u8.ToArray());
            var japanese = Mkdir(names, "\u65e5\u672c");
            WriteFile(japanese, "\u00e9\u00e8.txt", O(644), "accents\n"u8.ToArray());

            if (options.IncludeInvalidUtf8)
            {
                WriteFile(names, InvalidUtf8Name, O(644), "name is not UTF-8\n"u8.ToArray());
                WriteFile(names, Raw("lone-continuation-\x80"), O(644), "x\n"u8.ToArray());
                WriteFile(names, Raw("overlong-\xc0\xaf"), O(644), "y\n"u8.ToArray());
                WriteFile(names, Raw("latin1-caf\xe9"), O(644), "z\n"u8.ToArray());
                var invalidFolder = Mkdir(names, Raw("dir-\xff"));
                WriteFile(invalidFolder, Raw("child-\xfe"), O(600), "invalid all the way down\n"u8.ToArray());
            }
        }

        private void BuildLinks()
        {
            var links = Mkdir(top, "links");
            Symlink(links, "relative-file", "../big/random.bin"u8);
            Symlink(links, "relative-dir", "../deep"u8);
            Symlink(links, "absolute", "/etc/hostname"u8);
            Symlink(links, "dangling", "does/not/exist"u8);
            Symlink(links, "dangling-absolute", "/nonexistent/kubebackup/target"u8);
            Symlink(links, "chain", "relative-file"u8);
            Symlink(links, "self-loop", "self-loop"u8);
            Symlink(links, "escape", "../../../../../../../../etc/passwd"u8);
            Symlink(links, "unicode target", Encoding.UTF8.GetBytes("../names/\u65e5\u672c/\u00e9\u00e8.txt"));
            Symlink(links, "newline\ntarget", "../names/new\nline"u8);
            if (options.IncludeInvalidUtf8)
            {
                Symlink(links, "invalid-utf8-target", Raw("target-\xff\xfe-bad"));
            }

            var nested = Mkdir(links, "nested");
            Symlink(nested, "up", ".."u8);
        }

        private void BuildHardLinks()
        {
            var hardlinks = Mkdir(top, "hardlinks");
            var sub = Mkdir(hardlinks, "sub");
            WriteFile(hardlinks, "pair-a", O(644), "two names, one inode\n"u8.ToArray());
            HardLink(sub, "pair-b", hardlinks, "pair-a");

            WriteFile(hardlinks, "triple-1", O(640), random.NextBytes(3000));
            HardLink(Find("names"), "triple-2", hardlinks, "triple-1");
            HardLink(Find("deep/d01"), "triple-3", hardlinks, "triple-1");

            HardLink(hardlinks, "empty-link", Find("empty"), "empty-file");
        }

        private void BuildModes()
        {
            var modes = Mkdir(top, "modes");
            foreach (var mode in new uint[] { O(600), O(640), O(755), O(444), O(400), O(711), O(000) })
            {
                WriteFile(modes, $"{Convert.ToString(mode, 8).PadLeft(4, '0')}.txt", mode, Encoding.ASCII.GetBytes($"mode {mode}\n"));
            }

            WriteFile(modes, "04755-setuid", O(4755), "#!/bin/sh\necho setuid\n"u8.ToArray());
            WriteFile(modes, "02755-setgid", O(2755), "#!/bin/sh\necho setgid\n"u8.ToArray());
            WriteFile(modes, "01644-sticky-file", O(1644), "sticky file\n"u8.ToArray());

            var setgid = Mkdir(modes, "setgid-dir", O(2755), isRoot && options.IncludeOwnership ? (0u, ForeignGid) : null);
            // Created inside a setgid folder the file would inherit its group; it is given group 0 explicitly, so a
            // restore that does not set ownership explicitly shows up.
            WriteFile(setgid, "child", O(644), "in a setgid folder\n"u8.ToArray(), owner: isRoot && options.IncludeOwnership ? (0u, 0u) : null);
            var sticky = Mkdir(modes, "sticky-dir", O(1777));
            WriteFile(sticky, "child", O(666), "in a sticky folder\n"u8.ToArray());
            var readOnly = Mkdir(modes, "readonly-dir", O(555));
            WriteFile(readOnly, "child", O(444), "in a read-only folder\n"u8.ToArray());
            Mkdir(modes, "private-dir", O(700));
            if (isRoot)
            {
                // Only root can read it back; a restore must fill it before taking its permissions away.
                var closed = Mkdir(modes, "no-access-dir", O(000));
                WriteFile(closed, "child", O(600), "behind a 0000 folder\n"u8.ToArray());
            }
            else
            {
                skipped.Add("modes/no-access-dir: needs root to read back");
            }
        }

        private void BuildOwners()
        {
            if (!options.IncludeOwnership)
            {
                return;
            }

            if (!isRoot)
            {
                skipped.Add("owners/: changing owners needs root");
                return;
            }

            var owners = Mkdir(top, "owners");
            WriteFile(owners, "file-1234", O(644), "owned by 1234:2345\n"u8.ToArray(), owner: (ForeignUid, ForeignGid));
            WriteFile(owners, "group-only", O(664), "owned by 0:2345\n"u8.ToArray(), owner: (0, ForeignGid));
            WriteFile(owners, "nobody", O(600), "owned by 65534:65534\n"u8.ToArray(), owner: (65534, 65534));
            var dir = Mkdir(owners, "dir-1234", O(750), (ForeignUid, ForeignGid));
            WriteFile(dir, "inner", O(640), "root's file in 1234's folder\n"u8.ToArray());
            Symlink(owners, "link-1234", "file-1234"u8, owner: (ForeignUid, ForeignGid));
        }

        private void BuildSpecial()
        {
            if (!options.IncludeFifo && !options.IncludeDevices)
            {
                return;
            }

            var special = Mkdir(top, "special");
            if (options.IncludeFifo)
            {
                var name = "fifo"u8.ToArray();
                special.Handle.CreateSpecial(name, PosixFileKind.Fifo, O(644), 0);
                special.Handle.SetPermissions(name, O(644));
                fifos++;
                RecordTimes(special, name);
            }

            if (!options.IncludeDevices)
            {
                return;
            }

            if (!isRoot)
            {
                skipped.Add("special/ devices: mknod needs root");
                return;
            }

            foreach (var (name, kind, major, minor) in new[]
            {
                ("null-device", PosixFileKind.CharDevice, 1u, 3u),
                ("block-device", PosixFileKind.BlockDevice, 7u, 200u),
            })
            {
                var bytes = Encoding.ASCII.GetBytes(name);
                try
                {
                    special.Handle.CreateSpecial(bytes, kind, O(640), MakeDevice(major, minor));
                }
                catch (PosixException e) when (e.IsAccessDenied)
                {
                    skipped.Add($"special/{name}: {e.Message}");
                    continue;
                }

                special.Handle.SetPermissions(bytes, O(640));
                devices++;
                RecordTimes(special, bytes);
            }
        }

        private void BuildXattrs()
        {
            var folder = Mkdir(top, "xattr");
            WriteFile(folder, "with-xattr.txt", O(644), "has extended attributes\n"u8.ToArray());
            WriteFile(folder, "without-xattr.txt", O(644), "has none\n"u8.ToArray());
            Mkdir(folder, "dir-with-xattr");
            if (!xattrs)
            {
                return;
            }

            try
            {
                folder.Handle.SetExtendedAttribute("with-xattr.txt"u8, "user.kb.test", "hello xattr"u8);
            }
            catch (PosixException e) when (e.Errno is 95 or 1)
            {
                // EOPNOTSUPP: the file system has no user xattrs; EPERM: they are disabled for this mount.
                xattrs = false;
                skipped.Add($"xattr/: {e.Message}");
                return;
            }

            folder.Handle.SetExtendedAttribute("with-xattr.txt"u8, "user.kb.binary", [0x00, 0xff, 0x80, 0x01, 0x0a]);
            folder.Handle.SetExtendedAttribute("with-xattr.txt"u8, "user.kb.empty", []);
            folder.Handle.SetExtendedAttribute("dir-with-xattr"u8, "user.kb.dir", "on a folder"u8);
        }

        private void BuildTimes()
        {
            var times = Mkdir(top, "times");
            WriteFile(times, "ns-zero", O(644), "0 ns\n"u8.ToArray(), times: (new TimeSpec(1_600_000_000, 0), new TimeSpec(1_600_000_000, 0)));
            WriteFile(times, "ns-max", O(644), "999999999 ns\n"u8.ToArray(), times: (new TimeSpec(1_600_000_001, 999_999_999), new TimeSpec(1_600_000_000, 999_999_999)));
            WriteFile(times, "atime-before-mtime", O(644), "a < m\n"u8.ToArray(), times: (new TimeSpec(1_000_000_000, 1), new TimeSpec(1_700_000_000, 2)));
            if (options.IncludeExtremeTimes)
            {
                WriteFile(times, "epoch", O(644), "1970\n"u8.ToArray(), times: (new TimeSpec(0, 0), new TimeSpec(0, 0)));
                WriteFile(times, "pre-epoch", O(644), "1965\n"u8.ToArray(), times: (new TimeSpec(-152_000_000, 123_456_789), new TimeSpec(-150_000_000, 987_654_321)));
                WriteFile(times, "year-2100", O(644), "2100\n"u8.ToArray(), times: (new TimeSpec(4_102_444_800, 42), new TimeSpec(4_102_444_842, 500_000_000)));
            }
        }

        // ---- primitives ----

        private Folder Mkdir(Folder parent, string name, uint? permissions = null, (uint Uid, uint Gid)? owner = null) =>
            Mkdir(parent, Encoding.UTF8.GetBytes(name), permissions, owner);

        private Folder Mkdir(Folder parent, byte[] name, uint? permissions = null, (uint Uid, uint Gid)? owner = null)
        {
            // Created writable; the real mode, owner and times are applied in Finish, bottom-up.
            var handle = parent.Handle.CreateDirectory(name, O(700));
            var folder = new Folder(handle, parent, name, parent.Depth + 1, permissions ?? O(755), owner, NextTimes());
            folders.Add(folder);
            return folder;
        }

        private Folder Find(string relative)
        {
            var folder = top;
            foreach (var part in relative.Split('/'))
            {
                var bytes = Encoding.UTF8.GetBytes(part);
                folder = folders.First(f => ReferenceEquals(f.Parent, folder) && f.Name.AsSpan().SequenceEqual(bytes));
            }

            return folder;
        }

        private void WriteFile(Folder folder, string name, uint permissions, byte[] content, (uint Uid, uint Gid)? owner = null, (TimeSpec Access, TimeSpec Modify)? times = null) =>
            WriteFile(folder, Encoding.UTF8.GetBytes(name), permissions, content, owner, times);

        private void WriteFile(Folder folder, byte[] name, uint permissions, byte[] content, (uint Uid, uint Gid)? owner = null, (TimeSpec Access, TimeSpec Modify)? times = null) =>
            WriteFile(folder, name, permissions, file => RandomAccess.Write(file, content, 0), content.Length, owner, times);

        private void WriteFile(Folder folder, string name, uint permissions, Action<SafeFileHandle> write, long? size = null) =>
            WriteFile(folder, Encoding.UTF8.GetBytes(name), permissions, write, size, null, null);

        private void WriteFile(Folder folder, byte[] name, uint permissions, Action<SafeFileHandle> write, long? size, (uint Uid, uint Gid)? owner, (TimeSpec Access, TimeSpec Modify)? times)
        {
            using (var file = folder.Handle.CreateFile(name, O(600)))
            {
                write(file);
                contentBytes += size ?? PosixFile.Stat(file).Size;
            }

            // Owner before mode: changing the owner clears setuid/setgid.
            if (owner is { } o)
            {
                folder.Handle.SetOwner(name, o.Uid, o.Gid);
            }

            folder.Handle.SetPermissions(name, permissions);
            regularFiles++;
            RecordTimes(folder, name, times);
        }

        private void Symlink(Folder folder, string name, ReadOnlySpan<byte> target, (uint Uid, uint Gid)? owner = null)
        {
            var bytes = Encoding.UTF8.GetBytes(name);
            folder.Handle.CreateSymlink(bytes, target);
            if (owner is { } o)
            {
                folder.Handle.SetOwner(bytes, o.Uid, o.Gid);
            }

            symlinks++;
            RecordTimes(folder, bytes);
        }

        private void HardLink(Folder folder, string name, Folder existingFolder, string existingName)
        {
            folder.Handle.CreateHardLink(Encoding.UTF8.GetBytes(name), existingFolder.Handle, Encoding.UTF8.GetBytes(existingName));
            regularFiles++;
            hardLinkNames++;
            // No times of its own: it is the same inode as the first name.
        }

        private void RecordTimes(Folder folder, byte[] name, (TimeSpec Access, TimeSpec Modify)? times = null)
        {
            var (access, modify) = times ?? NextTimes();
            fileTimes.Add((folder, name, access, modify));
        }

        private (TimeSpec Access, TimeSpec Modify) NextTimes()
        {
            // Between 2001 and 2020, with arbitrary nanoseconds; the access time a little later than the modification.
            var modify = new TimeSpec(1_000_000_000 + (long)random.Next(600_000_000), random.Next(1_000_000_000));
            var access = new TimeSpec(modify.Seconds + random.Next(10_000_000), random.Next(1_000_000_000));
            return (access, modify);
        }

        private void ApplyFolderMetadata(DirectoryHandle parent, Folder folder)
        {
            if (folder.Owner is { } o)
            {
                parent.SetOwner(folder.Name, o.Uid, o.Gid);
            }

            parent.SetPermissions(folder.Name, folder.Permissions);
            parent.SetTimes(folder.Name, folder.Times.Access, folder.Times.Modify);
        }

        private void WriteRandom(SafeFileHandle file, long offset, long length)
        {
            var buffer = new byte[(int)Math.Min(length, MiB)];
            while (length > 0)
            {
                var n = (int)Math.Min(length, buffer.Length);
                random.Fill(buffer.AsSpan(0, n));
                RandomAccess.Write(file, buffer.AsSpan(0, n), offset);
                offset += n;
                length -= n;
            }
        }

        private static void WriteZeros(SafeFileHandle file, long from, long to)
        {
            var zeros = new byte[MiB];
            for (var offset = from; offset < to; offset += zeros.Length)
            {
                RandomAccess.Write(file, zeros.AsSpan(0, (int)Math.Min(zeros.Length, to - offset)), offset);
            }
        }

        private static ulong MakeDevice(uint major, uint minor) =>
            ((ulong)(major & 0xfff) << 8) | ((ulong)(major & ~0xfffu) << 32) | (minor & 0xff) | ((ulong)(minor & ~0xffu) << 12);

        private sealed class Folder(DirectoryHandle handle, Folder? parent, byte[] name, int depth, uint permissions,
            (uint Uid, uint Gid)? owner, (TimeSpec Access, TimeSpec Modify) times)
        {
            public DirectoryHandle Handle { get; } = handle;

            public Folder? Parent { get; } = parent;

            public byte[] Name { get; } = name;

            public int Depth { get; } = depth;

            public uint Permissions { get; } = permissions;

            public (uint Uid, uint Gid)? Owner { get; } = owner;

            public (TimeSpec Access, TimeSpec Modify) Times { get; } = times;
        }
    }
}

/// <summary>xoshiro256** seeded by SplitMix64: fast, and the same sequence on every machine and .NET version.</summary>
internal sealed class TestTreeRandom
{
    private ulong s0;
    private ulong s1;
    private ulong s2;
    private ulong s3;

    public TestTreeRandom(ulong seed)
    {
        s0 = SplitMix(ref seed);
        s1 = SplitMix(ref seed);
        s2 = SplitMix(ref seed);
        s3 = SplitMix(ref seed);
    }

    public ulong NextUInt64()
    {
        var result = ulong.RotateLeft(s1 * 5, 7) * 9;
        var t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = ulong.RotateLeft(s3, 45);
        return result;
    }

    /// <summary>A value in [0, <paramref name="maxExclusive"/>).</summary>
    public int Next(int maxExclusive) => maxExclusive <= 0 ? 0 : (int)(NextUInt64() % (ulong)maxExclusive);

    public byte[] NextBytes(int length)
    {
        var bytes = new byte[length];
        Fill(bytes);
        return bytes;
    }

    public void Fill(Span<byte> destination)
    {
        while (destination.Length >= 8)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(destination, NextUInt64());
            destination = destination[8..];
        }

        if (!destination.IsEmpty)
        {
            Span<byte> last = stackalloc byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(last, NextUInt64());
            last[..destination.Length].CopyTo(destination);
        }
    }

    private static ulong SplitMix(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
