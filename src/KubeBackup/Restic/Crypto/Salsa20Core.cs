using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace KubeBackup.Restic.Crypto;

/// <summary>
/// The Salsa20/8 core and scrypt's BlockMix on 64-byte blocks held in a "diagonal" word order, so that each Salsa20
/// quarter-round step is one operation on a whole <see cref="Vector128{T}"/> row.
/// </summary>
/// <remarks>
/// In the diagonal order, the 16 state words x0..x15 are stored as
/// <c>(x0 x5 x10 x15) (x4 x9 x14 x3) (x8 x13 x2 x7) (x12 x1 x6 x11)</c>: position i holds word <c>5·i mod 16</c>.
/// Then the four column quarter-rounds run lane-parallel, and rotating three of the rows by one, two and three lanes
/// lines the words up for the row quarter-rounds. Everything scrypt does besides the core (XOR, copy, feed-forward
/// addition) is word-wise, so ROMix can keep its whole working set in this order and convert only on entry and exit.
/// Word 0 stays at position 0, which Integerify reads.
/// </remarks>
internal static class Salsa20Core
{
    /// <summary>Converts one 64-byte block from little-endian bytes into diagonal-order words.</summary>
    public static void ToDiagonal(ReadOnlySpan<byte> block, Span<uint> words)
    {
        for (int i = 0; i < 16; i++)
        {
            words[i] = BinaryPrimitives.ReadUInt32LittleEndian(block[(((5 * i) & 15) * 4)..]);
        }
    }

    /// <summary>Converts one block back from diagonal-order words into little-endian bytes.</summary>
    public static void FromDiagonal(ReadOnlySpan<uint> words, Span<byte> block)
    {
        for (int i = 0; i < 16; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(block[(((5 * i) & 15) * 4)..], words[i]);
        }
    }

    /// <summary>
    /// scrypt BlockMix over <c>2r</c> blocks: <c>X = B[2r−1]; for each i: X = Salsa20/8(X ⊕ B[i]); Y[i] = X</c>, with the
    /// outputs stored even-indexed first, then odd-indexed. The input is <c>a ⊕ b</c> when <paramref name="xorInput"/> is
    /// set (ROMix's second loop, which saves a separate XOR pass), otherwise just <paramref name="a"/>.
    /// <paramref name="output"/> must not overlap the inputs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BlockMix(ref uint a, ref uint b, bool xorInput, ref uint output, int r)
    {
        nuint lastBlock = (nuint)(2 * r - 1) * 16;
        Vector128<uint> x0 = Vector128.LoadUnsafe(ref a, lastBlock);
        Vector128<uint> x1 = Vector128.LoadUnsafe(ref a, lastBlock + 4);
        Vector128<uint> x2 = Vector128.LoadUnsafe(ref a, lastBlock + 8);
        Vector128<uint> x3 = Vector128.LoadUnsafe(ref a, lastBlock + 12);
        if (xorInput)
        {
            x0 ^= Vector128.LoadUnsafe(ref b, lastBlock);
            x1 ^= Vector128.LoadUnsafe(ref b, lastBlock + 4);
            x2 ^= Vector128.LoadUnsafe(ref b, lastBlock + 8);
            x3 ^= Vector128.LoadUnsafe(ref b, lastBlock + 12);
        }

        int blocks = 2 * r;
        for (int i = 0; i < blocks; i++)
        {
            nuint inOffset = (nuint)i * 16;
            x0 ^= Vector128.LoadUnsafe(ref a, inOffset);
            x1 ^= Vector128.LoadUnsafe(ref a, inOffset + 4);
            x2 ^= Vector128.LoadUnsafe(ref a, inOffset + 8);
            x3 ^= Vector128.LoadUnsafe(ref a, inOffset + 12);
            if (xorInput)
            {
                x0 ^= Vector128.LoadUnsafe(ref b, inOffset);
                x1 ^= Vector128.LoadUnsafe(ref b, inOffset + 4);
                x2 ^= Vector128.LoadUnsafe(ref b, inOffset + 8);
                x3 ^= Vector128.LoadUnsafe(ref b, inOffset + 12);
            }

            Salsa8(ref x0, ref x1, ref x2, ref x3);

            // Even blocks go to the first half of the output, odd blocks to the second.
            nuint outOffset = (nuint)((i >> 1) + (i & 1) * r) * 16;
            x0.StoreUnsafe(ref output, outOffset);
            x1.StoreUnsafe(ref output, outOffset + 4);
            x2.StoreUnsafe(ref output, outOffset + 8);
            x3.StoreUnsafe(ref output, outOffset + 12);
        }
    }

    /// <summary>Salsa20/8 with feed-forward, in place on the four diagonal rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Salsa8(ref Vector128<uint> row0, ref Vector128<uint> row1, ref Vector128<uint> row2, ref Vector128<uint> row3)
    {
        Vector128<uint> a = row0, b = row1, c = row2, d = row3;
        for (int i = 0; i < 4; i++)
        {
            // Column round: b = (x4 x9 x14 x3) gets x0+x12 etc.; see the remarks for why lanes line up.
            b ^= Rotate(a + d, 7);
            c ^= Rotate(b + a, 9);
            d ^= Rotate(c + b, 13);
            a ^= Rotate(d + c, 18);

            // Row round on the same registers after rotating rows by lanes: b becomes (x3 x4 x9 x14),
            // c (x2 x7 x8 x13), d (x1 x6 x11 x12).
            b = Vector128.Shuffle(b, Vector128.Create(3u, 0, 1, 2));
            c = Vector128.Shuffle(c, Vector128.Create(2u, 3, 0, 1));
            d = Vector128.Shuffle(d, Vector128.Create(1u, 2, 3, 0));
            d ^= Rotate(a + b, 7);
            c ^= Rotate(d + a, 9);
            b ^= Rotate(c + d, 13);
            a ^= Rotate(b + c, 18);

            // Rotate back for the next column round.
            b = Vector128.Shuffle(b, Vector128.Create(1u, 2, 3, 0));
            c = Vector128.Shuffle(c, Vector128.Create(2u, 3, 0, 1));
            d = Vector128.Shuffle(d, Vector128.Create(3u, 0, 1, 2));
        }
        row0 += a;
        row1 += b;
        row2 += c;
        row3 += d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Rotate(Vector128<uint> value, [ConstantExpected] byte count)
    {
        if (Avx512F.VL.IsSupported)
        {
            return Avx512F.VL.RotateLeft(value, count);
        }
        return Vector128.ShiftLeft(value, count) | Vector128.ShiftRightLogical(value, 32 - count);
    }

    /// <summary>Whether <see cref="BlockMixPair"/> has its vector path (two lanes in one 256-bit register).</summary>
    public static bool PairSupported => Avx2.IsSupported;

    /// <summary>
    /// Two independent BlockMix calls at once, one per 128-bit half of 256-bit registers: each output is
    /// <c>BlockMix(a ⊕ b)</c> for its lane. One Salsa20/8 is a chain of dependent steps that leaves most of a core's
    /// vector units idle, so the second lane rides along in the upper halves for almost nothing. Pass a block of
    /// zeros as <c>b</c> for a plain BlockMix. Outputs must not overlap the inputs. Requires <see cref="PairSupported"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BlockMixPair(ref uint a0, ref uint b0, ref uint output0, ref uint a1, ref uint b1, ref uint output1, int r)
    {
        nuint lastBlock = (nuint)(2 * r - 1) * 16;
        Vector256<uint> x0 = Join(ref a0, ref a1, lastBlock) ^ Join(ref b0, ref b1, lastBlock);
        Vector256<uint> x1 = Join(ref a0, ref a1, lastBlock + 4) ^ Join(ref b0, ref b1, lastBlock + 4);
        Vector256<uint> x2 = Join(ref a0, ref a1, lastBlock + 8) ^ Join(ref b0, ref b1, lastBlock + 8);
        Vector256<uint> x3 = Join(ref a0, ref a1, lastBlock + 12) ^ Join(ref b0, ref b1, lastBlock + 12);

        int blocks = 2 * r;
        for (int i = 0; i < blocks; i++)
        {
            nuint inOffset = (nuint)i * 16;
            x0 ^= Join(ref a0, ref a1, inOffset) ^ Join(ref b0, ref b1, inOffset);
            x1 ^= Join(ref a0, ref a1, inOffset + 4) ^ Join(ref b0, ref b1, inOffset + 4);
            x2 ^= Join(ref a0, ref a1, inOffset + 8) ^ Join(ref b0, ref b1, inOffset + 8);
            x3 ^= Join(ref a0, ref a1, inOffset + 12) ^ Join(ref b0, ref b1, inOffset + 12);

            Salsa8(ref x0, ref x1, ref x2, ref x3);

            nuint outOffset = (nuint)((i >> 1) + (i & 1) * r) * 16;
            x0.GetLower().StoreUnsafe(ref output0, outOffset);
            x1.GetLower().StoreUnsafe(ref output0, outOffset + 4);
            x2.GetLower().StoreUnsafe(ref output0, outOffset + 8);
            x3.GetLower().StoreUnsafe(ref output0, outOffset + 12);
            x0.GetUpper().StoreUnsafe(ref output1, outOffset);
            x1.GetUpper().StoreUnsafe(ref output1, outOffset + 4);
            x2.GetUpper().StoreUnsafe(ref output1, outOffset + 8);
            x3.GetUpper().StoreUnsafe(ref output1, outOffset + 12);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Join(ref uint lower, ref uint upper, nuint offset) =>
        Vector256.Create(Vector128.LoadUnsafe(ref lower, offset), Vector128.LoadUnsafe(ref upper, offset));

    /// <summary>Salsa20/8 with feed-forward on two diagonal-order states at once (one per 128-bit half).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Salsa8(ref Vector256<uint> row0, ref Vector256<uint> row1, ref Vector256<uint> row2, ref Vector256<uint> row3)
    {
        // The same steps as the 128-bit version; vpshufd permutes within each half, which is what both lanes need.
        const byte RotateOne = 0b10_01_00_11, RotateTwo = 0b01_00_11_10, RotateThree = 0b00_11_10_01;
        Vector256<uint> a = row0, b = row1, c = row2, d = row3;
        for (int i = 0; i < 4; i++)
        {
            b ^= Rotate(a + d, 7);
            c ^= Rotate(b + a, 9);
            d ^= Rotate(c + b, 13);
            a ^= Rotate(d + c, 18);

            b = Avx2.Shuffle(b, RotateOne);
            c = Avx2.Shuffle(c, RotateTwo);
            d = Avx2.Shuffle(d, RotateThree);
            d ^= Rotate(a + b, 7);
            c ^= Rotate(d + a, 9);
            b ^= Rotate(c + d, 13);
            a ^= Rotate(b + c, 18);

            b = Avx2.Shuffle(b, RotateThree);
            c = Avx2.Shuffle(c, RotateTwo);
            d = Avx2.Shuffle(d, RotateOne);
        }
        row0 += a;
        row1 += b;
        row2 += c;
        row3 += d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Rotate(Vector256<uint> value, [ConstantExpected] byte count)
    {
        if (Avx512F.VL.IsSupported)
        {
            return Avx512F.VL.RotateLeft(value, count);
        }
        return Vector256.ShiftLeft(value, count) | Vector256.ShiftRightLogical(value, 32 - count);
    }
}
