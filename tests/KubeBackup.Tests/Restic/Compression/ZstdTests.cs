using System.Text;
using KubeBackup.Restic.Compression;
using ZstdSharp;

namespace KubeBackup.Tests.Restic.Compression;

/// <summary>zstd frames as restic stores them, through the system library and the managed port alike.</summary>
public class ZstdTests
{
    private static byte[] Text(int length)
    {
        var sb = new StringBuilder();
        var rng = new Random(7);
        while (sb.Length < length)
        {
            sb.Append("line ").Append(rng.Next(1000)).Append(": the quick brown fox jumps over the lazy dog\n");
        }

        return Encoding.ASCII.GetBytes(sb.ToString(0, length));
    }

    [Fact]
    public void The_system_library_is_used_where_it_is_installed()
    {
        // Debian's libzstd1 is on every machine this project is built and tested on (apt itself depends on it).
        Assert.True(File.Exists("/usr/lib/x86_64-linux-gnu/libzstd.so.1") == NativeZstd.IsAvailable,
            $"libzstd.so.1 present: {File.Exists("/usr/lib/x86_64-linux-gnu/libzstd.so.1")}, native in use: {NativeZstd.IsAvailable}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(100_000)]
    [InlineData(3_000_000)]
    public void A_frame_we_write_is_read_by_the_managed_decoder_and_has_its_content_size(int length)
    {
        var source = Text(length);
        var frame = new byte[Zstd.CompressBound(length)];
        int n = Zstd.Compress(source, frame, Zstd.DefaultLevel);
        if (length > 1000)
        {
            Assert.True(n < length / 2, $"text should compress: {n} of {length}");
        }

        using var managed = new Decompressor();
        Assert.Equal((ulong)length, Decompressor.GetDecompressedSize(frame.AsSpan(0, n)));
        Assert.Equal(source, managed.Unwrap(frame.AsSpan(0, n)).ToArray());
    }

    [Fact]
    public void A_frame_the_managed_encoder_wrote_is_read_exactly()
    {
        var source = Text(1_000_000);
        using var managed = new Compressor(Zstd.MaxLevel);
        var frame = managed.Wrap(source).ToArray();
        var back = new byte[source.Length];
        Zstd.DecompressExact(frame, back);
        Assert.Equal(source, back);
    }

    [Fact]
    public void Damaged_or_mis_sized_data_is_a_format_error()
    {
        var source = Text(200_000);
        var frame = new byte[Zstd.CompressBound(source.Length)];
        int n = Zstd.Compress(source, frame, Zstd.DefaultLevel);
        Assert.Throws<FormatException>(() => Zstd.DecompressExact(frame.AsSpan(0, n), new byte[source.Length - 1]));
        Assert.Throws<FormatException>(() => Zstd.DecompressExact(frame.AsSpan(0, n), new byte[source.Length + 1]));
        Assert.Throws<FormatException>(() => Zstd.DecompressExact(frame.AsSpan(0, n / 2), new byte[source.Length]));
        Assert.Throws<FormatException>(() => Zstd.DecompressExact("not zstd at all"u8, new byte[10]));
    }
}
