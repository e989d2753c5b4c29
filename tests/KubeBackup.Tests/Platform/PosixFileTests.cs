using System.Diagnostics;
using System.Globalization;
using System.Text;
using KubeBackup.Platform;

namespace KubeBackup.Tests.Platform;

public class PosixFileTests
{
    private const int MiB = 1024 * 1024;

    [Fact]
    public void LStat_describes_a_symlink_itself_and_takes_raw_byte_paths()
    {
        using var scratch = new ScratchFolder();
        File.WriteAllText(scratch.Combine("target"), "12345");
        scratch.Handle.CreateSymlink("link"u8, "target"u8);
        byte[] rawName = [(byte)'r', 0xff];
        scratch.Handle.CreateFile(rawName, 0x1A4).Dispose();

        var link = PosixFile.LStat(scratch.Combine("link"));
        Assert.Equal(PosixFileKind.Symlink, link.Kind);
        Assert.Equal(6, link.Size); // the length of "target"
        Assert.Equal(PosixFileKind.Regular, PosixFile.LStat(scratch.Combine("target")).Kind);
        Assert.Equal(5, PosixFile.LStat(scratch.Combine("target")).Size);

        byte[] rawPath = [.. Encoding.UTF8.GetBytes(scratch.Path + "/"), .. rawName];
        Assert.Equal(scratch.Handle.StatChild(rawName).Inode, PosixFile.LStat(rawPath).Inode);
        Assert.True(Assert.Throws<PosixException>(() => PosixFile.LStat(scratch.Combine("missing"))).IsNotFound);
        Assert.Throws<ArgumentException>(() => PosixFile.LStat([(byte)'a', 0, (byte)'b']));
    }

    [Fact]
    public void Stat_of_a_handle_matches_the_entry()
    {
        using var scratch = new ScratchFolder();
        using var file = scratch.Handle.CreateFile("f"u8, 0x1A4);
        RandomAccess.Write(file, new byte[100], 0);
        var byHandle = PosixFile.Stat(file);
        var byName = scratch.Handle.StatChild("f"u8);
        Assert.Equal(byName.Inode, byHandle.Inode);
        Assert.Equal(100, byHandle.Size);

        // Handles opened by .NET work too.
        using var dotnet = File.OpenHandle(scratch.Combine("f"));
        Assert.Equal(byName.Inode, PosixFile.Stat(dotnet).Inode);
    }

    [Fact]
    public void SetLength_grows_with_a_hole_and_shrinks()
    {
        using var scratch = new ScratchFolder();
        using var file = scratch.Handle.CreateFile("f"u8, 0x1A4);
        PosixFile.SetLength(file, 64 * MiB);
        var grown = PosixFile.Stat(file);
        Assert.Equal(64 * MiB, grown.Size);
        Assert.True(grown.Blocks * 512 < grown.Size, "growing should leave a hole");
        PosixFile.SetLength(file, 10);
        Assert.Equal(10, PosixFile.Stat(file).Size);
        Assert.Throws<ArgumentOutOfRangeException>(() => PosixFile.SetLength(file, -1));
    }

    [Fact]
    public void NextData_and_NextHole_find_the_data_regions_of_a_sparse_file()
    {
        using var scratch = new ScratchFolder();
        using (var file = scratch.Handle.CreateFile("sparse"u8, 0x1A4))
        {
            PosixFile.SetLength(file, 16 * MiB);
            RandomAccess.Write(file, Fill(4096, 1), 0);
            RandomAccess.Write(file, Fill(8192, 2), 8 * MiB);
            RandomAccess.Write(file, Fill(4096, 3), (16 * MiB) - 4096);
            PosixFile.Sync(file);
        }

        using var read = scratch.Handle.OpenFileForRead("sparse"u8);
        var regions = new List<(long Start, long End)>();
        for (var offset = 0L; ;)
        {
            var data = PosixFile.NextData(read, offset);
            if (data < 0)
            {
                break;
            }

            var hole = PosixFile.NextHole(read, data);
            regions.Add((data, hole));
            offset = hole;
        }

        Assert.Equal([(0L, 4096L), (8L * MiB, (8L * MiB) + 8192), ((16L * MiB) - 4096, 16L * MiB)], regions);
        Assert.Equal(-1, PosixFile.NextData(read, 16 * MiB));
        Assert.Equal(-1, PosixFile.NextData(read, 20 * MiB));
        Assert.Equal(4096, PosixFile.NextHole(read, 100));
        Assert.Equal(20 * MiB, PosixFile.NextHole(read, 20 * MiB));
        Assert.Equal(8 * MiB, PosixFile.NextData(read, 4096));

        // The content read back positionally is unaffected by the seeks.
        var buffer = new byte[8192];
        Assert.Equal(8192, RandomAccess.Read(read, buffer, 8 * MiB));
        Assert.All(buffer, b => Assert.Equal(2, b));
    }

    [Fact]
    public void NextHole_of_a_dense_file_is_its_end_and_an_all_hole_file_has_no_data()
    {
        using var scratch = new ScratchFolder();
        using (var file = scratch.Handle.CreateFile("dense"u8, 0x1A4))
        {
            RandomAccess.Write(file, Fill(100_000, 7), 0);
        }

        using (var file = scratch.Handle.CreateFile("hole"u8, 0x1A4))
        {
            PosixFile.SetLength(file, 4 * MiB);
        }

        using var dense = scratch.Handle.OpenFileForRead("dense"u8);
        Assert.Equal(0, PosixFile.NextData(dense, 0));
        Assert.Equal(100_000, PosixFile.NextHole(dense, 0));
        using var hole = scratch.Handle.OpenFileForRead("hole"u8);
        Assert.Equal(-1, PosixFile.NextData(hole, 0));
        Assert.Equal(0, PosixFile.NextHole(hole, 0));
    }

    [Fact]
    public void Sync_flushes_files_and_directories()
    {
        using var scratch = new ScratchFolder();
        using var file = scratch.Handle.CreateFile("f"u8, 0x1A4);
        RandomAccess.Write(file, "x"u8, 0);
        PosixFile.Sync(file);
        scratch.Handle.Sync();
    }

    [Fact]
    public void Effective_user_and_group_ids_match_id()
    {
        Assert.Equal(uint.Parse(Tool.Run("id", "-u"), CultureInfo.InvariantCulture), PosixFile.EffectiveUserId);
        Assert.Equal(uint.Parse(Tool.Run("id", "-g"), CultureInfo.InvariantCulture), PosixFile.EffectiveGroupId);
    }

    [Fact]
    public void ProcessExists_tells_live_from_gone()
    {
        Assert.True(PosixFile.ProcessExists(Environment.ProcessId));
        Assert.True(PosixFile.ProcessExists(1));
        Assert.False(PosixFile.ProcessExists(0));
        Assert.False(PosixFile.ProcessExists(-1));

        using var child = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        child.WaitForExit(); // reaped: the ID is free now
        Assert.False(PosixFile.ProcessExists(child.Id));
        Assert.False(PosixFile.ProcessExists(int.MaxValue));
    }

    private static byte[] Fill(int length, byte value)
    {
        var bytes = new byte[length];
        Array.Fill(bytes, value);
        return bytes;
    }
}
