using System.Globalization;
using KubeBackup.Platform;

namespace KubeBackup.Tests.Platform;

/// <summary>
/// The flag values the POSIX layer passes to the kernel, against the C library's own headers on the machine that runs
/// the tests (compiled with clang, which the native executable's build needs anyway). Some of them differ between
/// architectures (arm64 has its own O_DIRECTORY and O_NOFOLLOW), and a wrong one fails silently: the call still
/// succeeds, with another meaning.
/// </summary>
public class LibCConstantsTests
{
    [Fact]
    public async Task Open_and_at_flags_match_the_system_headers()
    {
        var expected = new (string Name, long Value)[]
        {
            ("O_RDONLY", LibC.O_RDONLY), ("O_WRONLY", LibC.O_WRONLY), ("O_RDWR", LibC.O_RDWR), ("O_CREAT", LibC.O_CREAT),
            ("O_EXCL", LibC.O_EXCL), ("O_NONBLOCK", LibC.O_NONBLOCK), ("O_DIRECTORY", LibC.O_DIRECTORY),
            ("O_NOFOLLOW", LibC.O_NOFOLLOW), ("O_DIRECT", LibC.O_DIRECT), ("O_NOATIME", LibC.O_NOATIME), ("O_CLOEXEC", LibC.O_CLOEXEC),
            ("O_PATH", LibC.O_PATH), ("O_TMPFILE", LibC.O_TMPFILE), ("AT_FDCWD", LibC.AT_FDCWD),
            ("AT_SYMLINK_NOFOLLOW", LibC.AT_SYMLINK_NOFOLLOW), ("AT_REMOVEDIR", LibC.AT_REMOVEDIR),
            ("AT_SYMLINK_FOLLOW", LibC.AT_SYMLINK_FOLLOW), ("AT_NO_AUTOMOUNT", LibC.AT_NO_AUTOMOUNT),
            ("AT_EMPTY_PATH", LibC.AT_EMPTY_PATH), ("SEEK_DATA", LibC.SEEK_DATA), ("SEEK_HOLE", LibC.SEEK_HOLE),
            ("MADV_HUGEPAGE", LibC.MADV_HUGEPAGE), ("POSIX_FADV_DONTNEED", LibC.POSIX_FADV_DONTNEED), ("ENOENT", LibC.ENOENT), ("EIO", LibC.EIO), ("EINVAL", LibC.EINVAL), ("ELOOP", LibC.ELOOP),
            ("ENODATA", LibC.ENODATA), ("EOPNOTSUPP", LibC.EOPNOTSUPP), ("ENOSYS", LibC.ENOSYS),
            ("STATFS_SIZE_FITS", 1),
        };

        using var dir = new Support.TempDirectory();
        var source = Path.Combine(dir.Path, "flags.c");
        var program = Path.Combine(dir.Path, "flags");
        var lines = expected.Where(e => e.Name != "STATFS_SIZE_FITS").Select(e => $"  printf(\"{e.Name} %ld\\n\", (long){e.Name});");
        await File.WriteAllTextAsync(source, $$"""
            #define _GNU_SOURCE
            #include <errno.h>
            #include <fcntl.h>
            #include <stdio.h>
            #include <sys/mman.h>
            #include <sys/vfs.h>
            #include <unistd.h>
            int main(void) {
            {{string.Join('\n', lines)}}
              printf("STATFS_SIZE_FITS %d\n", sizeof(struct statfs) <= {{LibC.StatFsSize}} && sizeof(((struct statfs*)0)->f_type) == 8);
              return 0;
            }
            """);
        var compile = await Support.ProcessRun.RunAsync("clang", "-o", program, source);
        Assert.True(compile.ExitCode == 0, compile.Output);
        var run = await Support.ProcessRun.RunAsync(program);
        Assert.Equal(0, run.ExitCode);

        var actual = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' '))
            .ToDictionary(parts => parts[0], parts => long.Parse(parts[1], CultureInfo.InvariantCulture));
        foreach (var (name, value) in expected)
        {
            Assert.True(actual[name] == value, $"{name}: the headers say {actual[name]:x}, LibC has {value:x}");
        }
    }
}
