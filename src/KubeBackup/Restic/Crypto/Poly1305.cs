using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace KubeBackup.Restic.Crypto;

/// <summary>
/// The Poly1305 one-time authenticator (Bernstein 2005) evaluated with 64-bit limbs: the accumulator is
/// <c>h2·2^128 + h1·2^64 + h0</c> with a small <c>h2</c>, and the clamped key is <c>r1·2^64 + r0</c>.
/// </summary>
/// <remarks>
/// Clamping clears the top four bits of both 64-bit halves of <c>r</c>, so each partial product of a 64-bit limb with
/// <c>r0</c> or <c>r1</c> stays below 2^124: its high word is below 2^60, and a few high words plus carries can be
/// summed in one 64-bit register without overflow. That is what makes a two-limb key with plain 64-bit words work.
/// The reduction modulo p = 2^130 − 5 uses 2^130 ≡ 5: everything above bit 130 is folded back in as
/// <c>5·hi = 4·hi + hi</c>, and the 4·hi term is just the upper part of the product with its low two bits cleared.
/// The accumulator is only partially reduced between blocks (it stays below about 2^131); the final reduction is
/// done once. Carries are computed with bit operations and selections with masks, so nothing branches on the
/// accumulator or the key.
/// </remarks>
internal static class Poly1305
{
    /// <summary>Clamps <paramref name="r"/> (16 bytes, little-endian) as Poly1305 requires and returns its halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (ulong R0, ulong R1) ClampR(ReadOnlySpan<byte> r)
    {
        // As bytes: ff ff ff 0f fc ff ff 0f fc ff ff 0f fc ff ff 0f.
        ulong r0 = BinaryPrimitives.ReadUInt64LittleEndian(r) & 0x0FFFFFFC0FFFFFFFUL;
        ulong r1 = BinaryPrimitives.ReadUInt64LittleEndian(r[8..]) & 0x0FFFFFFC0FFFFFFCUL;
        return (r0, r1);
    }

    /// <summary>Computes <c>tag = ((Σ c_i·r^(q−i+1)) mod (2^130 − 5) + s) mod 2^128</c> over <paramref name="message"/>,
    /// with OpenSSL's vectorised code where it loads (<see cref="NativePoly1305"/>), else with the managed code below.
    /// <paramref name="r"/> may be unclamped; it is clamped here.</summary>
    public static void ComputeTag(ReadOnlySpan<byte> r, ReadOnlySpan<byte> s, ReadOnlySpan<byte> message, Span<byte> tag)
    {
        if (NativePoly1305.IsAvailable)
        {
            ThrowIfBadLengths(r, s, tag);
            NativePoly1305.ComputeTag(r, s, message, tag);
        }
        else
        {
            ComputeTagManaged(r, s, message, tag);
        }
    }

    private static void ThrowIfBadLengths(ReadOnlySpan<byte> r, ReadOnlySpan<byte> s, Span<byte> tag)
    {
        if (r.Length != 16 || s.Length != 16 || tag.Length != 16)
        {
            throw new ArgumentException("Poly1305 keys and tags are 16 bytes.");
        }
    }

    /// <summary>The managed computation of <see cref="ComputeTag"/>, whatever the platform offers.</summary>
    internal static void ComputeTagManaged(ReadOnlySpan<byte> r, ReadOnlySpan<byte> s, ReadOnlySpan<byte> message, Span<byte> tag)
    {
        ThrowIfBadLengths(r, s, tag);

        (ulong r0, ulong r1) = ClampR(r);
        ulong h0 = 0, h1 = 0, h2 = 0;

        int fullBlocks = message.Length / 16;
        if (fullBlocks > 0)
        {
            Blocks(ref h0, ref h1, ref h2, r0, r1, ref MemoryMarshal.GetReference(message), (nuint)fullBlocks);
        }

        int rest = message.Length % 16;
        if (rest != 0)
        {
            // The last partial chunk is the integer "bytes ‖ 0x01" with no 2^128 bit: pad with the 1 byte and zeros,
            // then add it with a zero high limb.
            Span<byte> last = stackalloc byte[16];
            last.Clear();
            message[(fullBlocks * 16)..].CopyTo(last);
            last[rest] = 1;
            Add(ref h0, ref h1, ref h2, BinaryPrimitives.ReadUInt64LittleEndian(last),
                BinaryPrimitives.ReadUInt64LittleEndian(last[8..]), 0);
            Multiply(ref h0, ref h1, ref h2, r0, r1);
        }

        // Final reduction: h < 2^131 and h < 2p, so one conditional subtraction of p gives h mod p. Compute
        // g = h + 5 = h − p + 2^130; if g reaches 2^130, h ≥ p and the answer is g's low 130 bits. Only the low 128
        // bits of the result matter for the tag. The choice is made with a mask, not a branch.
        ulong g0 = Add64(h0, 5, 0, out ulong carry);
        ulong g1 = Add64(h1, 0, carry, out carry);
        ulong useG = 0 - ((h2 + carry) >> 2);
        h0 = (h0 & ~useG) | (g0 & useG);
        h1 = (h1 & ~useG) | (g1 & useG);

        ulong tag0 = Add64(h0, BinaryPrimitives.ReadUInt64LittleEndian(s), 0, out carry);
        ulong tag1 = h1 + BinaryPrimitives.ReadUInt64LittleEndian(s[8..]) + carry;
        BinaryPrimitives.WriteUInt64LittleEndian(tag, tag0);
        BinaryPrimitives.WriteUInt64LittleEndian(tag[8..], tag1);
    }

    /// <summary>Absorbs <paramref name="count"/> full 16-byte blocks (each with the 2^128 bit set).</summary>
    // A hot loop: jitted fully optimized at once. Tiered compilation would run it as slow tier-0 code first, a
    // noticeable share of a short backup.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Blocks(ref ulong h0Ref, ref ulong h1Ref, ref ulong h2Ref, ulong r0, ulong r1, ref byte data, nuint count)
    {
        ulong h0 = h0Ref, h1 = h1Ref, h2 = h2Ref;
        for (nuint i = 0; i < count; i++)
        {
            ulong m0 = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref data, i * 16));
            ulong m1 = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref data, i * 16 + 8));
            if (!BitConverter.IsLittleEndian)
            {
                m0 = BinaryPrimitives.ReverseEndianness(m0);
                m1 = BinaryPrimitives.ReverseEndianness(m1);
            }
            Add(ref h0, ref h1, ref h2, m0, m1, 1);
            Multiply(ref h0, ref h1, ref h2, r0, r1);
        }
        h0Ref = h0;
        h1Ref = h1;
        h2Ref = h2;
    }

    /// <summary><c>h += m1·2^64 + m0 + hibit·2^128</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add(ref ulong h0, ref ulong h1, ref ulong h2, ulong m0, ulong m1, ulong hibit)
    {
        h0 = Add64(h0, m0, 0, out ulong carry);
        h1 = Add64(h1, m1, carry, out carry);
        h2 += carry + hibit;
    }

    /// <summary><c>h = h·r</c>, partially reduced modulo 2^130 − 5.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Multiply(ref ulong h0, ref ulong h1, ref ulong h2, ulong r0, ulong r1)
    {
        // Schoolbook product in 64-bit columns. h2 is at most 7 and r0, r1 < 2^60, so h2·r0 and h2·r1 fit in 64
        // bits, every high half is below 2^60, and the column sums below cannot overflow where no carry is taken.
        ulong h0r0Hi = MulHigh(h0, r0), h0r0Lo = h0 * r0;
        ulong h1r0Hi = MulHigh(h1, r0), h1r0Lo = h1 * r0;
        ulong h0r1Hi = MulHigh(h0, r1), h0r1Lo = h0 * r1;
        ulong h1r1Hi = MulHigh(h1, r1), h1r1Lo = h1 * r1;
        ulong h2r0 = h2 * r0;
        ulong h2r1 = h2 * r1;

        // t = t3·2^192 + t2·2^128 + t1·2^64 + t0, the full product (< 2^255).
        ulong t0 = h0r0Lo;
        ulong t1 = Add64(h1r0Lo, h0r1Lo, 0, out ulong carryA);
        t1 = Add64(t1, h0r0Hi, 0, out ulong carryB);
        ulong t2 = Add64(h1r1Lo, h2r0, 0, out ulong carryC);
        t2 = Add64(t2, h1r0Hi + h0r1Hi + carryA + carryB, 0, out ulong carryD);
        ulong t3 = h1r1Hi + h2r1 + carryC + carryD;

        // Split t = lo + 2^130·hi with lo = t mod 2^130 and fold back with 2^130 ≡ 5: h = lo + 4·hi + hi.
        // 4·hi is the two top words with the low two bits cleared (cc1:cc0); hi itself is that shifted right by two.
        ulong cc0 = t2 & ~3UL;
        ulong cc1 = t3;
        h0 = Add64(t0, cc0, 0, out ulong carry);
        h1 = Add64(t1, cc1, carry, out carry);
        ulong top = (t2 & 3) + carry;

        ulong q0 = (cc0 >> 2) | (cc1 << 62);
        ulong q1 = cc1 >> 2;
        h0 = Add64(h0, q0, 0, out carry);
        h1 = Add64(h1, q1, carry, out carry);
        h2 = top + carry;
    }

    /// <summary>64-bit add with carry in and out (carry values are 0 or 1). The carry is computed from the operand
    /// bits, not with a comparison, so no branch can depend on the (secret-dependent) values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Add64(ulong a, ulong b, ulong carryIn, out ulong carryOut)
    {
        ulong sum = a + b + carryIn;
        carryOut = ((a & b) | ((a | b) & ~sum)) >> 63;
        return sum;
    }

    /// <summary>The high 64 bits of a 64×64-bit product. The BMI2/ARM64 intrinsics return it in a register; the
    /// portable <see cref="Math.BigMul(ulong, ulong, out ulong)"/> would route the low half through memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong MulHigh(ulong a, ulong b)
    {
        if (Bmi2.X64.IsSupported)
        {
            return Bmi2.X64.MultiplyNoFlags(a, b);
        }
        if (ArmBase.Arm64.IsSupported)
        {
            return ArmBase.Arm64.MultiplyHigh(a, b);
        }
        return Math.BigMul(a, b, out _);
    }
}
