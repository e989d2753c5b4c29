using System.Text;
using KubeBackup.Platform;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Platform;

public class TestTreeTests
{
    // Every kind of item, but small: the generator and comparer are what is under test here.
    private static readonly TestTreeOptions Small = TestTreeOptions.Quick with { SmallFileCount = 12, SmallFilesPerFolder = 5 };

    [Fact]
    public void The_same_seed_gives_trees_that_compare_equal_strictly()
    {
        using var scratch = new ScratchFolder();
        var info = TestTree.Generate(scratch.Combine("one"), Small, 42);
        TestTree.Generate(scratch.Combine("two"), Small, 42);
        var one = TreeSnapshot.Capture(scratch.Combine("one"));
        var two = TreeSnapshot.Capture(scratch.Combine("two"));

        TreeSnapshot.AssertEqual(one, two, TreeCompareOptions.Strict);
        Assert.Equal(info.Entries + 1, one.Entries.Count);
        Assert.Empty(info.Skipped);
        Assert.True(info.ExtendedAttributes);
        Assert.True(info.Ownership);
        Assert.Equal(2, info.Devices);
        Assert.Equal(1, info.Fifos);

        // A different seed gives different content and times.
        TestTree.Generate(scratch.Combine("three"), Small, 43);
        Assert.NotEmpty(TreeSnapshot.Compare(one, TreeSnapshot.Capture(scratch.Combine("three"))));
    }

    [Fact]
    public void The_tree_has_what_the_generator_promises()
    {
        using var scratch = new ScratchFolder();
        TestTree.Generate(scratch.Combine("t"), Small, 1);
        var tree = TreeSnapshot.Capture(scratch.Combine("t"));
        TreeEntry Get(string path) => tree.Find(path) ?? throw new Xunit.Sdk.XunitException($"no {path} in\n{tree.Describe()}");

        Assert.Equal(Small.BigFileSize, Get(TestTree.Paths.BigRandom).Size);
        Assert.False(Get(TestTree.Paths.BigRandom).IsSparse);
        Assert.False(Get(TestTree.Paths.ZeroRuns).IsSparse);
        Assert.True(Get(TestTree.Paths.Sparse).IsSparse);
        Assert.Equal(Small.SparseFileSize, Get(TestTree.Paths.Sparse).Size);
        Assert.True(Get(TestTree.Paths.HoleOnly).IsSparse);
        Assert.Equal(0, Get(TestTree.Paths.EmptyFile).Size);
        Assert.Equal(PosixFileKind.Directory, Get(TestTree.Paths.EmptyDirectory).Kind);
        Assert.Equal(PosixFileKind.Fifo, Get(TestTree.Paths.Fifo).Kind);
        Assert.Equal(PosixFileKind.CharDevice, Get("special/null-device").Kind);
        Assert.Equal(0x103UL, Get("special/null-device").RDevice);
        Assert.Equal(0x1A0U, Get(TestTree.Paths.Mode0640).Permissions);
        Assert.Equal(0x9EDU, Get("modes/04755-setuid").Permissions);
        Assert.Equal(0x5EDU, Get("modes/setgid-dir").Permissions);
        Assert.Equal(0x3FFU, Get("modes/sticky-dir").Permissions);
        Assert.Equal(0U, Get("modes/no-access-dir").Permissions);
        Assert.Equal((1234U, 2345U), (Get(TestTree.Paths.ForeignOwnedFile).Uid, Get(TestTree.Paths.ForeignOwnedFile).Gid));
        Assert.Equal(1234U, Get("owners/link-1234").Uid);
        Assert.Equal("hello xattr"u8.ToArray(), Get(TestTree.Paths.XattrFile).ExtendedAttributes.Single(a => a.Name == "user.kb.test").Value);
        Assert.Equal(TestTree.Raw("target-\xff\xfe-bad"), Get(TestTree.Paths.InvalidUtf8Symlink).LinkTarget);
        Assert.NotNull(tree.Find([.. "names/"u8, .. TestTree.InvalidUtf8Name]));
        Assert.Equal(new TimeSpec(-150_000_000, 987_654_321), Get("times/pre-epoch").ModifyTime);
        Assert.Equal(new TimeSpec(4_102_444_842, 500_000_000), Get("times/year-2100").ModifyTime);

        // Hard links: a pair and a triple across folders, described by the first name in path order.
        Assert.Equal("hardlinks/pair-a"u8.ToArray(), Get("hardlinks/sub/pair-b").HardLinkOf);
        var triple = new[] { "deep/d01/triple-3", "hardlinks/triple-1", "names/triple-2" }.Select(Get).ToList();
        Assert.Null(triple[0].HardLinkOf);
        Assert.All(triple.Skip(1), e => Assert.Equal("deep/d01/triple-3"u8.ToArray(), e.HardLinkOf));
        Assert.All(triple, e => Assert.Equal(3UL, e.Links));

        // Every entry got a time of its own from the generator (none is "now").
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.All(tree.Entries, e => Assert.True(e.ModifyTime.Seconds < now - 86_400 || e.ModifyTime.Seconds > now + 86_400, e.DisplayPath));
    }

    [Fact]
    public void A_single_changed_byte_mode_or_mtime_is_reported_with_its_path_and_field()
    {
        using var scratch = new ScratchFolder();
        TestTree.Generate(scratch.Combine("a"), Small, 9);
        TestTree.Generate(scratch.Combine("b"), Small, 9);
        var expected = TreeSnapshot.Capture(scratch.Combine("a"));
        using var names = DirectoryHandle.Open(scratch.Combine("b", "names"));
        using var modes = DirectoryHandle.Open(scratch.Combine("b", "modes"));
        using var leaf = DirectoryHandle.Open(scratch.Combine("b", "deep/d01/d02/d03/d04/d05/d06/d07/d08/d09/d10/d11/d12"));
        var badName = TestTree.InvalidUtf8Name;

        // One byte, with the file's times put back so that only the content differs.
        var original = names.StatChild(badName);
        FlipFirstByte(scratch.Combine("b", "names"), badName);
        names.SetTimes(badName, original.AccessTime, original.ModifyTime);
        RestoreDirectoryTimes(scratch, expected, "names");
        var difference = Assert.Single(TreeSnapshot.Compare(expected, TreeSnapshot.Capture(scratch.Combine("b"))));
        Assert.Equal("names/bad-\\xff\\xfe-name.bin", difference.Path);
        Assert.Equal("content", difference.Field);
        FlipFirstByte(scratch.Combine("b", "names"), badName);
        names.SetTimes(badName, original.AccessTime, original.ModifyTime);
        RestoreDirectoryTimes(scratch, expected, "names");
        TreeSnapshot.AssertEqual(expected, TreeSnapshot.Capture(scratch.Combine("b")), TreeCompareOptions.Strict);

        // One mode.
        modes.SetPermissions("0640.txt"u8, 0x180);
        difference = Assert.Single(TreeSnapshot.Compare(expected, TreeSnapshot.Capture(scratch.Combine("b"))));
        Assert.Equal(new TreeDifference("modes/0640.txt", "mode", "0640", "0600"), difference);
        modes.SetPermissions("0640.txt"u8, 0x1A0);

        // One mtime, off by a nanosecond.
        var leafStatus = leaf.StatChild("leaf.txt"u8);
        var later = leafStatus.ModifyTime with { Nanoseconds = (leafStatus.ModifyTime.Nanoseconds + 1) % 1_000_000_000 };
        leaf.SetTimes("leaf.txt"u8, leafStatus.AccessTime, later);
        difference = Assert.Single(TreeSnapshot.Compare(expected, TreeSnapshot.Capture(scratch.Combine("b"))));
        Assert.Equal("deep/d01/d02/d03/d04/d05/d06/d07/d08/d09/d10/d11/d12/leaf.txt", difference.Path);
        Assert.Equal("mtime", difference.Field);
        Assert.Equal(TreeSnapshot.Capture(scratch.Combine("a")).Find(difference.Path)!.ModifyTime.Nanoseconds.ToString("D9", System.Globalization.CultureInfo.InvariantCulture), difference.Expected[20..29]);
        Assert.Equal(later.Nanoseconds.ToString("D9", System.Globalization.CultureInfo.InvariantCulture), difference.Actual[20..29]);

        // And the assertion's message names them.
        var failure = Assert.Throws<Xunit.Sdk.FailException>(() => TreeSnapshot.AssertEqual(expected, TreeSnapshot.Capture(scratch.Combine("b"))));
        Assert.Contains("deep/d01/d02/d03/d04/d05/d06/d07/d08/d09/d10/d11/d12/leaf.txt: mtime: expected ", failure.Message, StringComparison.Ordinal);
        Assert.Contains("differ in 1 place", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Structural_and_metadata_changes_are_all_reported()
    {
        using var scratch = new ScratchFolder();
        TestTree.Generate(scratch.Combine("a"), Small, 5);
        TestTree.Generate(scratch.Combine("b"), Small, 5);
        var expected = TreeSnapshot.Capture(scratch.Combine("a"));
        var b = scratch.Combine("b");
        using (var hardlinks = DirectoryHandle.Open(Path.Combine(b, "hardlinks", "sub")))
        {
            // pair-b becomes a copy instead of a second name.
            hardlinks.Remove("pair-b"u8, false);
            File.WriteAllText(Path.Combine(b, "hardlinks", "sub", "pair-b"), "two names, one inode\n");
        }

        File.Delete(Path.Combine(b, "names", "with space.txt"));
        File.WriteAllText(Path.Combine(b, "xattr", "extra"), "unexpected");
        using (var owners = DirectoryHandle.Open(Path.Combine(b, "owners")))
        {
            owners.SetOwner("file-1234"u8, 1234, 1);
            owners.CreateSymlink("link-1234"u8, "elsewhere"u8);
        }

        using (var xattr = DirectoryHandle.Open(Path.Combine(b, "xattr")))
        {
            xattr.SetExtendedAttribute("with-xattr.txt"u8, "user.kb.test", "changed"u8);
        }

        var found = TreeSnapshot.Compare(expected, TreeSnapshot.Capture(b)).Select(d => (d.Path, d.Field)).ToHashSet();
        Assert.Contains(("hardlinks/sub/pair-b", "hardlink"), found);
        Assert.Contains(("names/with space.txt", "entry"), found);
        Assert.Contains(("xattr/extra", "entry"), found);
        Assert.Contains(("owners/file-1234", "gid"), found);
        Assert.Contains(("owners/link-1234", "target"), found);
        Assert.Contains(("owners/link-1234", "uid"), found);
        Assert.Contains(("xattr/with-xattr.txt", "xattr user.kb.test"), found);
        Assert.DoesNotContain(found, d => d.Field is "content" or "mode" or "size");

        // Relaxing the options removes exactly the corresponding differences.
        var relaxed = TreeSnapshot.Compare(expected, TreeSnapshot.Capture(b), TreeCompareOptions.Default with
        {
            IgnoreHardLinks = true,
            IgnoreOwnership = true,
            IgnoreExtendedAttributes = true,
            IgnoreModifyTimes = true,
            Exclude = e => e.Path.AsSpan().StartsWith("owners/link"u8) || e.Path.AsSpan().SequenceEqual("names/with space.txt"u8) || e.Path.AsSpan().SequenceEqual("xattr/extra"u8),
        });
        Assert.Empty(relaxed);
    }

    [Fact]
    public void Options_relax_ownership_sparseness_time_resolution_and_link_target_encoding()
    {
        using var scratch = new ScratchFolder();
        TestTree.Generate(scratch.Combine("a"), Small, 3);
        TestTree.Generate(scratch.Combine("b"), Small, 3);
        var expected = TreeSnapshot.Capture(scratch.Combine("a"));
        var b = scratch.Combine("b");
        using (var big = DirectoryHandle.Open(Path.Combine(b, "big")))
        {
            // Write the sparse file out densely, as a restore without hole support would.
            var status = big.StatChild("sparse.bin"u8);
            var content = File.ReadAllBytes(Path.Combine(b, "big", "sparse.bin"));
            using (var file = big.CreateFile("sparse.bin"u8, 0x1A4))
            {
                RandomAccess.Write(file, content, 0);
            }

            big.SetPermissions("sparse.bin"u8, status.Permissions);
            big.SetTimes("sparse.bin"u8, status.AccessTime, status.ModifyTime with { Nanoseconds = status.ModifyTime.Nanoseconds / 1000 * 1000 });
        }

        using (var links = DirectoryHandle.Open(Path.Combine(b, "links")))
        {
            var status = links.StatChild("invalid-utf8-target"u8);
            links.CreateSymlink("invalid-utf8-target"u8, Encoding.UTF8.GetBytes("target-\uFFFD\uFFFD-bad"));
            links.SetTimes("invalid-utf8-target"u8, status.AccessTime, status.ModifyTime);
        }

        RestoreDirectoryTimes(scratch, expected, "big");
        RestoreDirectoryTimes(scratch, expected, "links");
        var actual = TreeSnapshot.Capture(b);
        var differences = TreeSnapshot.Compare(expected, actual, TreeCompareOptions.Strict).Select(d => (d.Path, d.Field)).ToHashSet();
        Assert.Contains(("big/sparse.bin", "sparse"), differences);
        Assert.Contains(("links/invalid-utf8-target", "target"), differences);

        TreeSnapshot.AssertEqualIgnoring(expected, actual, o => o with
        {
            IgnoreSparseness = true,
            CompareLinkTargetsAsLossyUtf8 = true,
            TimeResolutionNanoseconds = 1000,
        });
        Assert.Contains(TreeSnapshot.Compare(expected, actual, TreeCompareOptions.Restic014), d => d.Field == "mtime");
    }

    [Fact]
    public async Task Restic_restores_the_tree_as_the_Restic014_options_say()
    {
        // Backs the tree up and restores it with the real restic, to pin down what TreeCompareOptions.Restic014 may
        // ignore, so that the end-to-end tests built on it compare everything restic can reproduce.
        using var scratch = new ScratchFolder();
        var source = scratch.Combine("source");
        var target = scratch.Combine("restored");
        TestTree.Generate(source, Small, 11);
        var expected = TreeSnapshot.Capture(source);

        var restic = new ResticCli(scratch.Combine("repo"), "test-password");
        await restic.RunCheckedAsync("init");
        await restic.RunCheckedAsync("backup", source);
        await restic.RunCheckedAsync("restore", "latest", "--target", target);
        var actual = TreeSnapshot.Capture(target + source);

        TreeSnapshot.AssertEqual(expected, actual, TreeCompareOptions.Restic014);

        // Nothing else differs even strictly: restic 0.14 loses atimes, holes and invalid UTF-8 link target bytes only.
        var strict = TreeSnapshot.Compare(expected, actual, TreeCompareOptions.Strict);
        Assert.All(strict, d => Assert.Contains(d.Field, new[] { "atime", "sparse", "target" }));

        // The source was not changed by being read (capture and restic both read without touching atimes).
        TreeSnapshot.AssertEqual(expected, TreeSnapshot.Capture(source), TreeCompareOptions.Strict);
    }

    [Fact]
    public void Delete_removes_trees_that_Directory_Delete_cannot()
    {
        var root = Path.Combine(Path.GetTempPath(), $"kb-delete-{Guid.NewGuid():N}");
        TestTree.Generate(root, Small with { BigFileSize = 1024, ZeroRunFileSize = 1024, SparseFileSize = 1024 * 1024 }, 2);
        TestTree.Delete(root);
        Assert.False(Directory.Exists(root));
        TestTree.Delete(root); // missing is fine
    }

    [Fact]
    public void Generate_refuses_a_folder_that_is_not_empty()
    {
        using var scratch = new ScratchFolder();
        File.WriteAllText(scratch.Combine("x"), "x");
        Assert.Throws<ArgumentException>(() => TestTree.Generate(scratch.Path, Small, 1));
    }

    private static void FlipFirstByte(string folder, byte[] name)
    {
        using var directory = DirectoryHandle.Open(folder);
        using var read = directory.OpenFileForRead(name);
        var content = new byte[PosixFile.Stat(read).Size];
        RandomAccess.Read(read, content, 0);
        content[0] ^= 0x01;
        var status = directory.StatChild(name);
        using var write = directory.CreateFile(name, status.Permissions);
        RandomAccess.Write(write, content, 0);
    }

    /// <summary>Puts back the times of a folder of tree "b" that an edit inside it changed.</summary>
    private static void RestoreDirectoryTimes(ScratchFolder scratch, TreeSnapshot expected, string folder)
    {
        var entry = expected.Find(folder)!;
        using var root = DirectoryHandle.Open(scratch.Combine("b"));
        root.SetTimes(Encoding.UTF8.GetBytes(folder), entry.AccessTime, entry.ModifyTime);
    }
}
