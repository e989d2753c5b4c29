using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace KubeBackup.Benchmarks.Data;

/// <summary>
/// xoshiro256** (Blackman and Vigna). Chosen over SHAKE-128 because its output is defined by a few lines of integer
/// arithmetic: the dataset must come out byte-identical on any machine, whatever the OpenSSL build supports, and it is
/// fast enough (several GB/s) that generating 1 GB is bound by the disk, not the generator. It is not a cryptographic
/// generator; nothing here needs one, only bytes that zstd cannot compress and that no two files share.
/// </summary>
internal sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;

    private Rng(ulong s0, ulong s1, ulong s2, ulong s3)
    {
        (_s0, _s1, _s2, _s3) = (s0, s1, s2, s3);
        if ((s0 | s1 | s2 | s3) == 0)
        {
            // The all-zero state is the one fixed point of the generator.
            _s0 = 0x9E3779B97F4A7C15UL;
        }
    }

    /// <summary>A generator keyed by a seed and a name: every file gets its own independent stream, so files can be
    /// written in any order (or in parallel) and a change to one file's size never shifts another file's bytes.</summary>
    public static Rng For(ulong seed, string key)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"kubebackup-bench/{seed}/{key}"), digest);
        return new Rng(
            BinaryPrimitives.ReadUInt64LittleEndian(digest),
            BinaryPrimitives.ReadUInt64LittleEndian(digest[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(digest[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(digest[24..]));
    }

    public ulong NextU64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) from the top 53 bits.</summary>
    public double NextDouble() => (NextU64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [min, max], both inclusive. The tiny modulo bias of a 64-bit draw is irrelevant here.</summary>
    public int Between(int min, int max) => min + (int)(NextU64() % (ulong)((long)max - min + 1));

    /// <summary>An index in [0, count) skewed towards 0 (a rough Zipf shape), which is what makes text compressible.</summary>
    public int Skewed(int count, double power) => Math.Min(count - 1, (int)(count * Math.Pow(NextDouble(), power)));

    /// <summary>Fills <paramref name="destination"/> with generator output, 8 bytes per step.</summary>
    public void Fill(Span<byte> destination)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(destination);
        for (int i = 0; i < words.Length; i++)
        {
            // Stored little-endian explicitly so the bytes do not depend on the machine's byte order.
            words[i] = BitConverter.IsLittleEndian ? NextU64() : BinaryPrimitives.ReverseEndianness(NextU64());
        }

        var tail = destination[(words.Length * 8)..];
        if (!tail.IsEmpty)
        {
            Span<byte> last = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(last, NextU64());
            last[..tail.Length].CopyTo(tail);
        }
    }
}
