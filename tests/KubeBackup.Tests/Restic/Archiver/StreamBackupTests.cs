using KubeBackup.Restic.Archiver;
using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Restic.Archiver;

public class StreamBackupTests
{
    [Fact]
    public async Task Stream_is_saved_as_one_file_restic_can_dump()
    {
        using var dir = new TempDirectory();
        await using var repo = await TestRepository.InitAsync(dir.Combine("repo"));
        var data = new byte[9 * 1024 * 1024 + 17];
        new Random(7).NextBytes(data);

        var result = await repo.BackupStreamAsync(new MemoryStream(data), new StreamBackupOptions { FileName = "db/dump.sql", ExpectedLength = data.Length });

        Assert.Equal(["/db/dump.sql"], result.Snapshot.Paths);
        using var ours = new MemoryStream();
        await repo.DumpAsync(result.Snapshot, "/db/dump.sql", ours);
        Assert.Equal(data, ours.ToArray());
        var restic = new ResticCli(dir.Combine("repo"), TestRepository.Password);
        Assert.Equal(data, await restic.RunForBytesAsync("dump", "latest", "/db/dump.sql"));
        Assert.Equal(0, (await restic.RunAsync("check", "--read-data")).ExitCode);
    }

    [Fact]
    public async Task Short_stream_raises_TruncatedStreamException_and_writes_no_snapshot()
    {
        using var dir = new TempDirectory();
        await using var repo = await TestRepository.InitAsync(dir.Combine("repo"));

        var ex = await Assert.ThrowsAsync<TruncatedStreamException>(() =>
            repo.BackupStreamAsync(new MemoryStream(new byte[1000]), new StreamBackupOptions { FileName = "x", ExpectedLength = 2000 }));

        Assert.Equal(1000, ex.ActualBytes);
        Assert.Empty(await repo.ListSnapshotsAsync());
    }

    [Fact]
    public async Task Stream_that_fails_midway_writes_no_snapshot()
    {
        using var dir = new TempDirectory();
        await using var repo = await TestRepository.InitAsync(dir.Combine("repo"));

        var ex = await Assert.ThrowsAsync<TruncatedStreamException>(() => repo.BackupStreamAsync(new FailingStream(3_000_000), new StreamBackupOptions { FileName = "x" }));
        Assert.Equal(3_000_000, ex.ActualBytes);
        Assert.IsType<IOException>(ex.InnerException);

        Assert.Empty(await repo.ListSnapshotsAsync());
        Assert.Equal(0, (await new ResticCli(dir.Combine("repo"), TestRepository.Password).RunAsync("check")).ExitCode);
    }

    private sealed class FailingStream(long failAfter) : Stream
    {
        private long _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= failAfter)
            {
                throw new IOException("the dump command died");
            }

            int n = (int)Math.Min(count, failAfter - _position);
            Array.Fill(buffer, (byte)'x', offset, n);
            _position += n;
            return n;
        }
    }
}
