using KubeBackup.Platform;
using KubeBackup.Restic.Archiver;
using KubeBackup.Restic.Restorer;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Restic.Restore;

/// <summary>
/// Restored files written past the page cache (<see cref="DirectFileWriter"/>, <see cref="RestoreOptions.BypassPageCache"/>):
/// the same bytes as through the cache, and the cache left alone. On the disk the tests run from, which takes
/// <c>O_DIRECT</c> (ext4 here and in CI).
/// </summary>
public class DirectRestoreTests
{
    [Fact]
    public async Task Pieces_at_unaligned_offsets_from_several_threads_give_the_file_byte_for_byte_and_leave_it_uncached()
    {
        // Blob boundaries fall anywhere: pieces shorter than a page, inside one page, across one, page-aligned, and
        // large ones, written in a shuffled order by several workers at once, as the restorer does.
        string root = PageCache.NewFolderOnDisk("kb-direct");
        try
        {
            var rng = new Random(23);
            int[] lengths = [1, 100, 4095, 4096, 4097, 8191, 70_000, 1_500_000, 3, 4093, 2_100_000, 12_288, 655_360, 999_999, 517];
            var data = new byte[lengths.Sum()];
            rng.NextBytes(data);
            var pieces = new List<(long Offset, int Length)>();
            long offset = 0;
            foreach (int length in lengths)
            {
                pieces.Add((offset, length));
                offset += length;
            }

            var shuffled = pieces.OrderBy(_ => rng.Next()).ToArray();
            using var dir = DirectoryHandle.Open(root);
            var resident = new Dictionary<bool, long>();
            foreach (bool direct in new[] { false, true })
            {
                byte[] name = direct ? "direct.bin"u8.ToArray() : "cached.bin"u8.ToArray();
                using (var file = dir.CreateFile(name, 0x1A4))
                {
                    using var writer = direct ? DirectFileWriter.TryOpen(dir, name, file) : null;
                    Assert.True(!direct || writer is not null, "the test disk should take O_DIRECT");
                    PosixFile.SetLength(file, data.Length);
                    Parallel.ForEach(shuffled, new ParallelOptions { MaxDegreeOfParallelism = 4 },
                        () => new DirectFileWriter.Staging(),
                        (piece, _, staging) =>
                        {
                            var bytes = data.AsSpan((int)piece.Offset, piece.Length);
                            if (writer is null)
                            {
                                RandomAccess.Write(file, bytes, piece.Offset);
                            }
                            else
                            {
                                writer.Write(file, bytes, piece.Offset, staging, "direct.bin");
                            }

                            return staging;
                        },
                        staging => staging.Dispose());
                    Assert.False(writer?.Refused ?? false);
                }

                string path = Path.Combine(root, direct ? "direct.bin" : "cached.bin");
                resident[direct] = await PageCache.ResidentBytesAsync(path);
                Assert.Equal(data, await File.ReadAllBytesAsync(path));
            }

            // Through the cache, all of it stays cached; direct, at most the partial pages at the pieces' ends.
            Assert.True(resident[false] >= data.Length * 9L / 10, $"buffered writes should stay cached: {resident[false]} of {data.Length} bytes");
            Assert.True(resident[true] <= 2L * lengths.Length * 4096, $"direct writes should bypass the cache: {resident[true]} bytes resident");
        }
        finally
        {
            TestTree.Delete(root);
        }
    }

    [Fact]
    public void A_second_descriptor_is_refused_when_the_name_no_longer_holds_the_same_regular_file()
    {
        using var scratch = new Platform.ScratchFolder();
        var dir = scratch.Handle;
        using var file = dir.CreateFile("f"u8, 0x1A4);
        using (var same = dir.TryOpenForDirectWrite("f"u8, file, out int blockSize))
        {
            Assert.NotNull(same);
            Assert.True(blockSize > 0);
        }

        // Replaced by another file, then by a symlink to the original: neither is the file being restored.
        File.Move(scratch.Combine("f"), scratch.Combine("moved"));
        File.WriteAllText(scratch.Combine("f"), "other");
        Assert.Null(dir.TryOpenForDirectWrite("f"u8, file, out _));
        File.Delete(scratch.Combine("f"));
        File.CreateSymbolicLink(scratch.Combine("f"), scratch.Combine("moved"));
        Assert.Null(dir.TryOpenForDirectWrite("f"u8, file, out _));
    }

    [Fact]
    public async Task A_restore_bypasses_the_page_cache_for_large_files_unless_told_not_to()
    {
        string root = PageCache.NewFolderOnDisk("kb-direct-restore");
        try
        {
            var source = Path.Combine(root, "src");
            Directory.CreateDirectory(source);
            var rng = new Random(29);
            var large = new byte[(5 << 20) + 1234];
            rng.NextBytes(large);
            await File.WriteAllBytesAsync(Path.Combine(source, "large.bin"), large);
            var small = new byte[3000];
            rng.NextBytes(small);
            await File.WriteAllBytesAsync(Path.Combine(source, "small.bin"), small);

            await using var repo = await TestRepository.InitAsync(Path.Combine(root, "repo"));
            var options = new BackupOptions();
            options.Paths.Add(source);
            var backup = await repo.BackupAsync(options);
            Assert.True(backup.IsComplete);

            var resident = new Dictionary<bool, long>();
            foreach (bool bypass in new[] { false, true })
            {
                var target = Path.Combine(root, bypass ? "direct" : "cached");
                var restore = await repo.RestoreAsync(backup.Snapshot, new RestoreOptions { Target = target, BypassPageCache = bypass });
                Assert.True(restore.IsComplete, string.Join("\n", restore.Errors));
                string restored = Path.Combine(target, source.TrimStart('/'));
                resident[bypass] = await PageCache.ResidentBytesAsync(Path.Combine(restored, "large.bin"));
                Assert.Equal(large, await File.ReadAllBytesAsync(Path.Combine(restored, "large.bin")));
                Assert.Equal(small, await File.ReadAllBytesAsync(Path.Combine(restored, "small.bin")));
            }

            Assert.True(resident[false] >= large.Length * 9L / 10, $"without the bypass the file should be cached: {resident[false]} bytes");
            Assert.True(resident[true] <= 64 * 4096, $"with the bypass at most the blobs' edge pages should be cached: {resident[true]} bytes");
        }
        finally
        {
            TestTree.Delete(root);
        }
    }
}
