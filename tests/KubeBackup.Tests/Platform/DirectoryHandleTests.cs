using System.Globalization;
using System.Text;
using KubeBackup.Platform;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Platform;

public class DirectoryHandleTests
{
    private const int ELOOP = 40;
    private const int ENOTDIR = 20;
    private const int EISDIR = 21;
    private const int EINVAL = 22;
    private const int ENOENT = 2;

    private static readonly byte[] InvalidName = [(byte)'f', 0xff, 0xfe, (byte)'\n', (byte)'x', 0x80];

    [Fact]
    public void Invalid_utf8_names_round_trip_through_create_list_stat_and_read()
    {
        using var scratch = new ScratchFolder();
        var dir = scratch.Handle;
        using (var file = dir.CreateFile(InvalidName, 0x1A4))
        {
            RandomAccess.Write(file, "payload"u8, 0);
        }

        byte[] dirName = [(byte)'d', 0xc0, 0xaf];
        byte[] linkTarget = [(byte)'t', 0xff, (byte)'/', 0xfe];
        using (var sub = dir.CreateDirectory(dirName, 0x1ED))
        {
            sub.CreateSymlink(InvalidName, linkTarget);
            Assert.Equal(linkTarget, sub.ReadLink(InvalidName));
            Assert.Equal(InvalidName, Assert.Single(sub.ReadEntries()));
        }

        var names = dir.ReadEntries();
        Assert.Equal(2, names.Count);
        Assert.Contains(names, n => n.AsSpan().SequenceEqual(InvalidName));
        Assert.Contains(names, n => n.AsSpan().SequenceEqual(dirName));

        var status = dir.StatChild(InvalidName);
        Assert.Equal(PosixFileKind.Regular, status.Kind);
        Assert.Equal(7, status.Size);
        using (var read = dir.OpenFileForRead(InvalidName))
        {
            var buffer = new byte[16];
            Assert.Equal(7, RandomAccess.Read(read, buffer, 0));
            Assert.Equal("payload"u8.ToArray(), buffer[..7]);
        }

        // Independently of our P/Invoke layer: find prints the raw bytes the kernel holds.
        var listed = Tool.RunForBytes("find", scratch.Path, "-mindepth", "1", "-maxdepth", "1", "-printf", "%f\\0");
        var found = listed.AsSpan().TrimEnd((byte)0).ToArray().Split0();
        Assert.Contains(found, n => n.AsSpan().SequenceEqual(InvalidName));
        Assert.Contains(found, n => n.AsSpan().SequenceEqual(dirName));
    }

    [Fact]
    public void StatChild_matches_coreutils_stat()
    {
        using var scratch = new ScratchFolder();
        var dir = scratch.Handle;
        using (var file = dir.CreateFile("f"u8, 0x1A4))
        {
            RandomAccess.Write(file, new byte[12_345], 0);
        }

        using (var sub = dir.CreateDirectory("sub"u8, 0x1ED))
        {
            sub.CreateHardLink("f2"u8, dir, "f"u8);
        }

        dir.SetOwner("f"u8, 1234, 2345);
        dir.SetPermissions("f"u8, 0x5ED); // 02755
        dir.SetTimes("f"u8, new TimeSpec(1_234_567_890, 123_456_789), new TimeSpec(1_111_111_111, 987_654_321));

        var status = dir.StatChild("f"u8);
        var fields = Tool.Run("stat", "-c", "%i %h %s %u %g %f %d %.9Y %.9X %b", scratch.Combine("f")).Split(' ');
        Assert.Equal(ulong.Parse(fields[0], CultureInfo.InvariantCulture), status.Inode);
        Assert.Equal(2UL, status.Links);
        Assert.Equal(12_345, status.Size);
        Assert.Equal(1234U, status.Uid);
        Assert.Equal(2345U, status.Gid);
        Assert.Equal(Convert.ToUInt32(fields[5], 16), status.Mode);
        Assert.Equal(0x8000U | 0x5EDU, status.Mode);
        Assert.Equal(ulong.Parse(fields[6], CultureInfo.InvariantCulture), status.Device);
        Assert.Equal("1111111111.987654321", fields[7]);
        Assert.Equal("1234567890.123456789", fields[8]);
        Assert.Equal(new TimeSpec(1_111_111_111, 987_654_321), status.ModifyTime);
        Assert.Equal(new TimeSpec(1_234_567_890, 123_456_789), status.AccessTime);
        Assert.Equal(long.Parse(fields[9], CultureInfo.InvariantCulture), status.Blocks);

        // The second name is the same inode, as ls -i would show.
        Assert.Equal(status.Inode, PosixFile.LStat(scratch.Combine("sub", "f2")).Inode);
        Assert.Equal(status.Device, dir.Stat().Device);
        Assert.Equal(PosixFileKind.Directory, dir.Stat().Kind);
    }

    [Theory]
    [InlineData(0L, 0L)]
    [InlineData(1_600_000_000L, 999_999_999L)]
    [InlineData(-150_000_000L, 123_456_789L)]
    [InlineData(4_102_444_842L, 1L)]
    public void SetTimes_round_trips_nanoseconds_exactly(long seconds, long nanoseconds)
    {
        using var scratch = new ScratchFolder();
        scratch.Handle.CreateFile("t"u8, 0x1A4).Dispose();
        var modify = new TimeSpec(seconds, nanoseconds);
        var access = new TimeSpec(seconds + 17, (nanoseconds + 1) % 1_000_000_000);
        scratch.Handle.SetTimes("t"u8, access, modify);
        var status = scratch.Handle.StatChild("t"u8);
        Assert.Equal(modify, status.ModifyTime);
        Assert.Equal(access, status.AccessTime);
    }

    [Fact]
    public void OpenDirectory_and_OpenFileForRead_refuse_a_symlink_at_the_name()
    {
        using var scratch = new ScratchFolder();
        var outside = scratch.MakeOutside();
        File.WriteAllText(Path.Combine(outside, "secret"), "secret");
        scratch.Handle.CreateSymlink("to-dir"u8, Encoding.UTF8.GetBytes(outside));
        scratch.Handle.CreateSymlink("to-file"u8, Encoding.UTF8.GetBytes(Path.Combine(outside, "secret")));

        // With O_DIRECTORY the kernel reports a symlink as "not a directory", even one pointing at a directory.
        Assert.Equal(ENOTDIR, Assert.Throws<PosixException>(() => scratch.Handle.OpenDirectory("to-dir"u8)).Errno);
        Assert.Equal(ELOOP, Assert.Throws<PosixException>(() => scratch.Handle.OpenFileForRead("to-file"u8)).Errno);

        // And the other wrong kinds.
        scratch.Handle.CreateFile("file"u8, 0x1A4).Dispose();
        scratch.Handle.CreateDirectory("dir"u8, 0x1ED).Dispose();
        Assert.Equal(ENOTDIR, Assert.Throws<PosixException>(() => scratch.Handle.OpenDirectory("file"u8)).Errno);
        Assert.Equal(EISDIR, Assert.Throws<PosixException>(() => scratch.Handle.OpenFileForRead("dir"u8)).Errno);
    }

    [Fact]
    public async Task OpenFileForRead_on_a_fifo_fails_at_once_instead_of_waiting_for_a_writer()
    {
        using var scratch = new ScratchFolder();
        scratch.Handle.CreateSpecial("pipe"u8, PosixFileKind.Fifo, 0x1A4, 0);
        var open = Task.Run(() => Assert.Throws<PosixException>(() => scratch.Handle.OpenFileForRead("pipe"u8)));
        var error = await open.WaitAsync(TimeSpan.FromSeconds(10)); // TimeoutException if the open blocked
        Assert.Equal(EINVAL, error.Errno);
    }

    [Fact]
    public void OpenFileForRead_gives_a_handle_that_FileStream_accepts()
    {
        using var scratch = new ScratchFolder();
        using (var file = scratch.Handle.CreateFile("data"u8, 0x1A4))
        using (var stream = new FileStream(file, FileAccess.Write))
        {
            stream.Write("written through FileStream"u8);
        }

        using var read = scratch.Handle.OpenFileForRead("data"u8);
        using var reader = new StreamReader(new FileStream(read, FileAccess.Read));
        Assert.Equal("written through FileStream", reader.ReadToEnd());
    }

    [Fact]
    public void CreateFile_replaces_a_planted_symlink_instead_of_writing_through_it()
    {
        using var scratch = new ScratchFolder();
        var outside = scratch.MakeOutside();
        var victim = Path.Combine(outside, "victim");
        File.WriteAllText(victim, "original");
        var before = PosixFile.LStat(victim);
        scratch.Handle.CreateSymlink("evil"u8, Encoding.UTF8.GetBytes(victim));
        scratch.Handle.CreateSymlink("dangling"u8, Encoding.UTF8.GetBytes(Path.Combine(outside, "created-outside")));

        using (var file = scratch.Handle.CreateFile("evil"u8, 0x180))
        {
            RandomAccess.Write(file, "restored"u8, 0);
        }

        using (var file = scratch.Handle.CreateFile("dangling"u8, 0x180))
        {
            RandomAccess.Write(file, "restored"u8, 0);
        }

        Assert.Equal("original", File.ReadAllText(victim));
        var after = PosixFile.LStat(victim);
        Assert.Equal(before.ModifyTime, after.ModifyTime);
        Assert.Equal(before.Mode, after.Mode);
        Assert.False(File.Exists(Path.Combine(outside, "created-outside")));
        Assert.Equal(PosixFileKind.Regular, scratch.Handle.StatChild("evil"u8).Kind);
        Assert.Equal(PosixFileKind.Regular, scratch.Handle.StatChild("dangling"u8).Kind);
        Assert.Equal("restored", File.ReadAllText(scratch.Combine("evil")));
    }

    [Fact]
    public void CreateDirectory_replaces_a_planted_symlink_to_a_directory_with_a_real_one()
    {
        using var scratch = new ScratchFolder();
        var outside = scratch.MakeOutside();
        scratch.Handle.CreateSymlink("d"u8, Encoding.UTF8.GetBytes(outside));

        using (var d = scratch.Handle.CreateDirectory("d"u8, 0x1ED))
        {
            d.CreateFile("x"u8, 0x1A4).Dispose();
        }

        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.Equal(PosixFileKind.Directory, scratch.Handle.StatChild("d"u8).Kind);
        Assert.True(File.Exists(scratch.Combine("d", "x")));
    }

    [Fact]
    public void CreateDirectory_keeps_an_existing_directory_and_replaces_a_file()
    {
        using var scratch = new ScratchFolder();
        using (var d = scratch.Handle.CreateDirectory("d"u8, 0x1ED))
        {
            d.CreateFile("keep"u8, 0x1A4).Dispose();
        }

        using (var again = scratch.Handle.CreateDirectory("d"u8, 0x1ED))
        {
            Assert.Equal("keep"u8.ToArray(), Assert.Single(again.ReadEntries()));
        }

        scratch.Handle.CreateFile("f"u8, 0x1A4).Dispose();
        using (scratch.Handle.CreateDirectory("f"u8, 0x1ED))
        {
            Assert.Equal(PosixFileKind.Directory, scratch.Handle.StatChild("f"u8).Kind);
        }
    }

    [Fact]
    public void Creating_a_non_directory_where_a_directory_is_fails_with_EISDIR()
    {
        using var scratch = new ScratchFolder();
        using (var d = scratch.Handle.CreateDirectory("d"u8, 0x1ED))
        {
            d.CreateFile("inside"u8, 0x1A4).Dispose();
        }

        scratch.Handle.CreateFile("f"u8, 0x1A4).Dispose();
        Assert.Equal(EISDIR, Assert.Throws<PosixException>(() => scratch.Handle.CreateFile("d"u8, 0x1A4)).Errno);
        Assert.Equal(EISDIR, Assert.Throws<PosixException>(() => scratch.Handle.CreateSymlink("d"u8, "x"u8)).Errno);
        Assert.Equal(EISDIR, Assert.Throws<PosixException>(() => scratch.Handle.CreateHardLink("d"u8, scratch.Handle, "f"u8)).Errno);
        Assert.Equal(EISDIR, Assert.Throws<PosixException>(() => scratch.Handle.CreateSpecial("d"u8, PosixFileKind.Fifo, 0x1A4, 0)).Errno);
        Assert.True(File.Exists(scratch.Combine("d", "inside")));
    }

    [Fact]
    public void Create_calls_replace_an_existing_file_or_symlink()
    {
        using var scratch = new ScratchFolder();
        var dir = scratch.Handle;
        dir.CreateFile("a"u8, 0x1A4).Dispose();
        dir.CreateSymlink("a"u8, "first"u8);
        dir.CreateSymlink("a"u8, "second"u8);
        Assert.Equal("second"u8.ToArray(), dir.ReadLink("a"u8));

        dir.CreateSpecial("a"u8, PosixFileKind.Fifo, 0x1A4, 0);
        Assert.Equal(PosixFileKind.Fifo, dir.StatChild("a"u8).Kind);

        using (var file = dir.CreateFile("a"u8, 0x1A4))
        {
            RandomAccess.Write(file, "new"u8, 0);
        }

        Assert.Equal(PosixFileKind.Regular, dir.StatChild("a"u8).Kind);
        dir.CreateFile("b"u8, 0x1A4).Dispose();
        dir.CreateHardLink("a"u8, dir, "b"u8);
        Assert.Equal(dir.StatChild("b"u8).Inode, dir.StatChild("a"u8).Inode);
    }

    public static TheoryData<string> BadNames => new() { "", ".", "..", "a/b", "/etc", "../x", "a\0b" };

    [Theory]
    [MemberData(nameof(BadNames))]
    public void Names_that_are_not_a_single_child_component_are_rejected(string text)
    {
        using var scratch = new ScratchFolder();
        var dir = scratch.Handle;
        dir.CreateFile("ok"u8, 0x1A4).Dispose();
        var name = Encoding.UTF8.GetBytes(text);
        var calls = new List<Action>
        {
            () => dir.OpenDirectory(name),
            () => dir.StatChild(name),
            () => dir.TryStatChild(name, out _),
            () => dir.ReadLink(name),
            () => dir.OpenFileForRead(name),
            () => dir.ReadExtendedAttributes(name),
            () => dir.CreateDirectory(name, 0x1ED),
            () => dir.CreateFile(name, 0x1A4),
            () => dir.CreateSymlink(name, "t"u8),
            () => dir.CreateHardLink(name, dir, "ok"u8),
            () => dir.CreateHardLink("new"u8, dir, name),
            () => dir.CreateSpecial(name, PosixFileKind.Fifo, 0x1A4, 0),
            () => dir.Remove(name, false),
            () => dir.Remove(name, true),
            () => dir.SetPermissions(name, 0x1A4),
            () => dir.SetOwner(name, 0, 0),
            () => dir.SetTimes(name, default, default),
            () => dir.SetExtendedAttribute(name, "user.x", "v"u8),
        };
        foreach (var call in calls)
        {
            Assert.ThrowsAny<ArgumentException>(call);
        }

        Assert.Equal("ok"u8.ToArray(), Assert.Single(dir.ReadEntries()));
    }

    [Fact]
    public void Bad_link_targets_and_attribute_names_from_snapshot_data_fail_as_IO_errors()
    {
        // A restore catches IOException per entry; these come from snapshot data, so they must not escape as
        // argument errors.
        using var scratch = new ScratchFolder();
        scratch.Handle.CreateFile("f"u8, 0x1A4).Dispose();
        Assert.Equal(ENOENT, Assert.Throws<PosixException>(() => scratch.Handle.CreateSymlink("empty"u8, ""u8)).Errno);
        Assert.Equal(EINVAL, Assert.Throws<PosixException>(() => scratch.Handle.CreateSymlink("nul"u8, "a\0b"u8)).Errno);
        Assert.Equal(EINVAL, Assert.Throws<PosixException>(() => scratch.Handle.SetExtendedAttribute("f"u8, "", "v"u8)).Errno);
        Assert.Equal(EINVAL, Assert.Throws<PosixException>(() => scratch.Handle.SetExtendedAttribute("f"u8, "user.a\0b", "v"u8)).Errno);
        Assert.Equal("f"u8.ToArray(), Assert.Single(scratch.Handle.ReadEntries()));
    }

    [Fact]
    public void Hard_links_share_an_inode_across_folders()
    {
        using var scratch = new ScratchFolder();
        var dir = scratch.Handle;
        using var a = dir.CreateDirectory("a"u8, 0x1ED);
        using var b = dir.CreateDirectory("b"u8, 0x1ED);
        using (var file = a.CreateFile("one"u8, 0x1A4))
        {
            RandomAccess.Write(file, "shared"u8, 0);
        }

        b.CreateHardLink("two"u8, a, "one"u8);
        dir.CreateHardLink("three"u8, a, "one"u8);
        var one = a.StatChild("one"u8);
        Assert.Equal(3UL, one.Links);
        Assert.Equal(one.Inode, b.StatChild("two"u8).Inode);
        Assert.Equal(one.Inode, dir.StatChild("three"u8).Inode);
        Assert.Equal(one.Device, b.StatChild("two"u8).Device);

        // Linking again to the same inode changes nothing, including the name linked to itself.
        b.CreateHardLink("two"u8, a, "one"u8);
        a.CreateHardLink("one"u8, a, "one"u8);
        Assert.Equal(3UL, a.StatChild("one"u8).Links);
        Assert.Equal("shared", File.ReadAllText(scratch.Combine("b", "two")));

        // A hard link to a symlink links the symlink itself.
        a.CreateSymlink("link"u8, "one"u8);
        b.CreateHardLink("link-too"u8, a, "link"u8);
        Assert.Equal(PosixFileKind.Symlink, b.StatChild("link-too"u8).Kind);
        Assert.Equal(a.StatChild("link"u8).Inode, b.StatChild("link-too"u8).Inode);
    }

    [Fact]
    public void CreateSpecial_makes_fifos_and_devices()
    {
        using var scratch = new ScratchFolder();
        var dir = scratch.Handle;
        dir.CreateSpecial("fifo"u8, PosixFileKind.Fifo, 0x1A0, 0);
        dir.SetPermissions("fifo"u8, 0x1A0);
        var fifo = dir.StatChild("fifo"u8);
        Assert.Equal(PosixFileKind.Fifo, fifo.Kind);
        Assert.Equal(0x1A0U, fifo.Permissions);
        Assert.Equal("fifo", Tool.Run("stat", "-c", "%F", scratch.Combine("fifo")));

        // Devices need CAP_MKNOD; the tests run as root. 1:3 are /dev/null's numbers; 259:70000 needs the wide encoding.
        Assert.Equal(0U, PosixFile.EffectiveUserId);
        dir.CreateSpecial("null"u8, PosixFileKind.CharDevice, 0x1B6, Makedev(1, 3));
        dir.CreateSpecial("block"u8, PosixFileKind.BlockDevice, 0x180, Makedev(259, 70_000));
        var nul = dir.StatChild("null"u8);
        Assert.Equal(PosixFileKind.CharDevice, nul.Kind);
        Assert.Equal(0x103UL, nul.RDevice);
        Assert.Equal("1:3", Tool.Run("stat", "-c", "%Hr:%Lr", scratch.Combine("null")));
        Assert.Equal(PosixFileKind.BlockDevice, dir.StatChild("block"u8).Kind);
        Assert.Equal(Makedev(259, 70_000), dir.StatChild("block"u8).RDevice);
        Assert.Equal("259:70000", Tool.Run("stat", "-c", "%Hr:%Lr", scratch.Combine("block")));

        Assert.Throws<ArgumentException>(() => dir.CreateSpecial("x"u8, PosixFileKind.Regular, 0x1A4, 0));
        Assert.Throws<ArgumentException>(() => dir.CreateSpecial("x"u8, PosixFileKind.Directory, 0x1A4, 0));
    }

    [Fact]
    public void SetOwner_SetPermissions_and_SetTimes_do_not_follow_a_symlink()
    {
        using var scratch = new ScratchFolder();
        var dir = scratch.Handle;
        dir.CreateFile("target"u8, 0x1A4).Dispose();
        dir.SetPermissions("target"u8, 0x1A4);
        dir.SetTimes("target"u8, new TimeSpec(1_000_000_000, 1), new TimeSpec(1_000_000_000, 2));
        dir.CreateSymlink("link"u8, "target"u8);
        var before = dir.StatChild("target"u8);

        dir.SetOwner("link"u8, 1234, 2345);
        dir.SetPermissions("link"u8, 0x49); // 0111: a no-op on a symlink
        dir.SetTimes("link"u8, new TimeSpec(1_500_000_000, 111), new TimeSpec(1_400_000_000, 222_222_222));

        var link = dir.StatChild("link"u8);
        Assert.Equal(PosixFileKind.Symlink, link.Kind);
        Assert.Equal(1234U, link.Uid);
        Assert.Equal(2345U, link.Gid);
        Assert.Equal(new TimeSpec(1_400_000_000, 222_222_222), link.ModifyTime);

        var after = dir.StatChild("target"u8);
        Assert.Equal(before.Uid, after.Uid);
        Assert.Equal(before.Gid, after.Gid);
        Assert.Equal(before.Mode, after.Mode);
        Assert.Equal(before.ModifyTime, after.ModifyTime);
        Assert.Equal(before.AccessTime, after.AccessTime);
        Assert.Equal(before.ChangeTime, after.ChangeTime);
    }

    [Fact]
    public void SetPermissions_sets_setuid_setgid_and_sticky_bits()
    {
        using var scratch = new ScratchFolder();
        var dir = scratch.Handle;
        dir.CreateFile("suid"u8, 0x1A4).Dispose();
        dir.CreateDirectory("sgid"u8, 0x1ED).Dispose();
        dir.CreateDirectory("sticky"u8, 0x1ED).Dispose();
        dir.SetOwner("suid"u8, 1234, 2345); // owner first: a chown clears setuid
        dir.SetPermissions("suid"u8, 0x9ED); // 04755
        dir.SetPermissions("sgid"u8, 0x5ED); // 02755
        dir.SetPermissions("sticky"u8, 0x3FF); // 01777
        Assert.Equal(0x9EDU, dir.StatChild("suid"u8).Permissions);
        Assert.Equal(0x5EDU, dir.StatChild("sgid"u8).Permissions);
        Assert.Equal(0x3FFU, dir.StatChild("sticky"u8).Permissions);
        Assert.Equal("4755 2755 1777", string.Join(' ', new[] { "suid", "sgid", "sticky" }.Select(n => Tool.Run("stat", "-c", "%a", scratch.Combine(n)))));
    }

    [Fact]
    public void Extended_attributes_round_trip_and_are_read_from_the_symlink_itself()
    {
        using var scratch = new ScratchFolder();
        var dir = scratch.Handle;
        dir.CreateFile("f"u8, 0x1A4).Dispose();
        dir.SetExtendedAttribute("f"u8, "user.kb.test", "value"u8);
        dir.SetExtendedAttribute("f"u8, "user.kb.binary", [0, 0xff, 0x80]);
        dir.SetExtendedAttribute("f"u8, "user.kb.empty", []);
        dir.SetExtendedAttribute("f"u8, "user.kb.big", new byte[3000]);

        var attributes = dir.ReadExtendedAttributes("f"u8).ToDictionary(a => a.Name, a => a.Value);
        Assert.Equal(4, attributes.Count);
        Assert.Equal("value"u8.ToArray(), attributes["user.kb.test"]);
        Assert.Equal(new byte[] { 0, 0xff, 0x80 }, attributes["user.kb.binary"]);
        Assert.Empty(attributes["user.kb.empty"]);
        Assert.Equal(3000, attributes["user.kb.big"].Length);

        // The symlink's own attributes (none), not its target's; and user.* cannot be set on a symlink.
        dir.CreateSymlink("link"u8, "f"u8);
        Assert.Empty(dir.ReadExtendedAttributes("link"u8));
        Assert.Throws<PosixException>(() => dir.SetExtendedAttribute("link"u8, "user.kb.test", "x"u8));
        Assert.Equal(4, dir.ReadExtendedAttributes("f"u8).Count);

        // As root, trusted.* can be set on the symlink itself; it must not land on the target.
        dir.SetExtendedAttribute("link"u8, "trusted.kb", "on-link"u8);
        Assert.Equal(("trusted.kb", "on-link"), dir.ReadExtendedAttributes("link"u8).Select(a => (a.Name, Encoding.UTF8.GetString(a.Value))).Single());
        Assert.DoesNotContain(dir.ReadExtendedAttributes("f"u8), a => a.Name == "trusted.kb");

        // The same when the target has no attributes at all (the quick "none?" probe must not follow the link either).
        dir.CreateFile("bare"u8, 0x1A4).Dispose();
        dir.CreateSymlink("link-to-bare"u8, "bare"u8);
        dir.SetExtendedAttribute("link-to-bare"u8, "trusted.kb", "on-link"u8);
        Assert.Equal("on-link", Encoding.UTF8.GetString(dir.ReadExtendedAttributes("link-to-bare"u8).Single().Value));
        Assert.Empty(dir.ReadExtendedAttributes("bare"u8));
        Assert.Throws<PosixException>(() => dir.ReadExtendedAttributes("missing"u8));

        // A file system without attributes (procfs) gives an empty list rather than an error.
        using var proc = DirectoryHandle.Open("/proc/self");
        Assert.Empty(proc.ReadExtendedAttributes("status"u8));
    }

    [Fact]
    public void ReadEntries_lists_every_name_once_and_can_be_repeated()
    {
        using var scratch = new ScratchFolder();
        var expected = new HashSet<string>();
        for (var i = 0; i < 1500; i++)
        {
            var name = $"entry-{i:D4}-{new string('n', i % 200)}";
            expected.Add(name);
            scratch.Handle.CreateFile(Encoding.UTF8.GetBytes(name), 0x1A4).Dispose();
        }

        for (var round = 0; round < 2; round++)
        {
            var names = scratch.Handle.ReadEntries().Select(n => Encoding.UTF8.GetString(n)).ToList();
            Assert.Equal(1500, names.Count);
            Assert.True(expected.SetEquals(names));
        }
    }

    [Fact]
    public void ReadLink_returns_long_targets_whole()
    {
        using var scratch = new ScratchFolder();
        var target = Encoding.ASCII.GetBytes(string.Join('/', Enumerable.Range(0, 400).Select(i => $"seg{i:D4}")));
        Assert.True(target.Length > 3000);
        scratch.Handle.CreateSymlink("long"u8, target);
        Assert.Equal(target, scratch.Handle.ReadLink("long"u8));
        Assert.Equal(target.Length, scratch.Handle.StatChild("long"u8).Size);
    }

    [Fact]
    public void Remove_deletes_files_and_empty_directories()
    {
        using var scratch = new ScratchFolder();
        scratch.Handle.CreateFile("f"u8, 0x1A4).Dispose();
        scratch.Handle.CreateDirectory("d"u8, 0x1ED).Dispose();
        scratch.Handle.Remove("f"u8, directory: false);
        scratch.Handle.Remove("d"u8, directory: true);
        Assert.Empty(scratch.Handle.ReadEntries());
        Assert.Equal(ENOENT, Assert.Throws<PosixException>(() => scratch.Handle.Remove("f"u8, false)).Errno);
    }

    [Fact]
    public void Errors_carry_the_errno_the_call_and_the_path()
    {
        using var scratch = new ScratchFolder();
        var missing = Assert.Throws<PosixException>(() => scratch.Handle.StatChild([(byte)'m', 0xff]));
        Assert.True(missing.IsNotFound);
        Assert.Equal("statx", missing.Operation);
        Assert.Equal(scratch.Path + "/m\uFFFD", missing.Path);
        Assert.Contains("errno 2", missing.Message, StringComparison.Ordinal);
        Assert.False(scratch.Handle.TryStatChild("m"u8, out _));
        Assert.Equal(scratch.Path, scratch.Handle.DisplayPath);
        using var sub = scratch.Handle.CreateDirectory("sub"u8, 0x1ED);
        Assert.Equal(scratch.Path + "/sub", sub.DisplayPath);
    }

    [Fact]
    public void Open_follows_symlinks_in_the_path_it_is_given()
    {
        using var scratch = new ScratchFolder();
        scratch.Handle.CreateDirectory("real"u8, 0x1ED).Dispose();
        scratch.Handle.CreateSymlink("alias"u8, "real"u8);
        using var viaLink = DirectoryHandle.Open(scratch.Combine("alias"));
        Assert.Equal(scratch.Handle.StatChild("real"u8).Inode, viaLink.Stat().Inode);
        Assert.Throws<PosixException>(() => DirectoryHandle.Open(scratch.Combine("missing")));
        Assert.Throws<ArgumentException>(() => DirectoryHandle.Open(""));
    }

    [Fact]
    public void Sync_and_Dispose_work_and_Dispose_is_idempotent()
    {
        var scratch = new ScratchFolder();
        var sub = scratch.Handle.CreateDirectory("s"u8, 0x1ED);
        sub.Sync();
        sub.Dispose();
        sub.Dispose();
        Assert.Throws<ObjectDisposedException>(() => sub.Stat());
        scratch.Dispose();
    }

    private static ulong Makedev(uint major, uint minor) =>
        ((ulong)(major & 0xfff) << 8) | ((ulong)(major & ~0xfffu) << 32) | (minor & 0xff) | ((ulong)(minor & ~0xffu) << 12);
}

internal static class ByteSplitExtensions
{
    /// <summary>Splits NUL-separated output (find -printf '%f\0') into names.</summary>
    public static List<byte[]> Split0(this byte[] data)
    {
        var result = new List<byte[]>();
        var rest = data.AsSpan();
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf((byte)0);
            result.Add((end < 0 ? rest : rest[..end]).ToArray());
            rest = end < 0 ? default : rest[(end + 1)..];
        }

        return result;
    }
}
