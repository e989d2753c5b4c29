using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;

namespace KubeBackup.Restic.Crypto;

/// <summary>
/// AES-256 in counter mode exactly as Go's <c>cipher.NewCTR</c> runs it (and therefore restic): the 16-byte IV is the
/// first counter block, and the counter is the whole block read as a 128-bit big-endian integer, incremented by one
/// per block with the carry running through all 16 bytes (and wrapping from 2^128−1 to 0). A final partial block uses
/// the leading bytes of its keystream block.
/// </summary>
/// <remarks>
/// Immutable after construction, so one instance may be used from many threads. With AES-NI the round keys are
/// expanded once here and eight counter blocks are encrypted side by side, which hides the latency of the AES
/// instructions. Without AES-NI the BCL's AES (OpenSSL or the platform library, which uses whatever hardware support
/// the CPU has) encrypts batches of counter blocks in ECB mode.
/// </remarks>
internal sealed class Aes256Ctr
{
    /// <summary>How many counter blocks the portable path encrypts per call into the BCL (16 KiB).</summary>
    private const int PortableBatchBytes = 16 * 1024;

    private readonly byte[] _key;
    private readonly bool _hardware;
    private Aes256RoundKeys _roundKeys;

    /// <summary>Creates the cipher for a 32-byte key.</summary>
    /// <param name="key">The AES-256 key.</param>
    /// <param name="allowHardware">False forces the portable path (used by tests to cover it on AES-NI machines).</param>
    public Aes256Ctr(ReadOnlySpan<byte> key, bool allowHardware = true)
    {
        if (key.Length != 32)
        {
            throw new ArgumentException("AES-256 needs a 32-byte key.", nameof(key));
        }

        _key = key.ToArray();
        _hardware = allowHardware && AesNi.IsSupported;
        if (_hardware)
        {
            AesNi.ExpandKey256(key, ref _roundKeys);
        }
    }

    /// <summary>Whether this instance uses the AES-NI path.</summary>
    public bool UsesHardware => _hardware;

    /// <summary>XORs <paramref name="input"/> with the keystream that starts at counter block <paramref name="iv"/>
    /// and writes the result to <paramref name="output"/> (same length). The two may be the same memory; any other
    /// overlap is not supported.</summary>
    public void Transform(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, Span<byte> output)
    {
        if (iv.Length != 16)
        {
            throw new ArgumentException("The IV must be 16 bytes.", nameof(iv));
        }
        if (output.Length != input.Length)
        {
            throw new ArgumentException("Input and output must have the same length.", nameof(output));
        }

        UInt128 counter = BinaryPrimitives.ReadUInt128BigEndian(iv);
        if (_hardware)
        {
            TransformHardware(counter, input, output);
        }
        else
        {
            TransformPortable(counter, input, output);
        }
    }

    // A hot loop: jitted fully optimized at once. Tiered compilation would run it as slow tier-0 code first, a
    // noticeable share of a short backup.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TransformHardware(UInt128 counter, ReadOnlySpan<byte> input, Span<byte> output)
    {
        ref byte src = ref MemoryMarshal.GetReference(input);
        ref byte dst = ref MemoryMarshal.GetReference(output);
        nuint length = (nuint)input.Length;
        nuint offset = 0;

        while (length - offset >= 128)
        {
            Process8(ref counter, ref Unsafe.Add(ref src, offset), ref Unsafe.Add(ref dst, offset));
            offset += 128;
        }

        nuint rest = length - offset;
        if (rest != 0)
        {
            // Up to 127 bytes left: run one more 8-block batch over a copy on the stack. The few surplus AES blocks
            // cost less than a separate single-block path would in code.
            Span<byte> tail = stackalloc byte[128];
            ReadOnlySpan<byte> restIn = input[(int)offset..];
            restIn.CopyTo(tail);
            Process8(ref counter, ref MemoryMarshal.GetReference(tail), ref MemoryMarshal.GetReference(tail));
            tail[..(int)rest].CopyTo(output[(int)offset..]);
            CryptographicOperations.ZeroMemory(tail);
        }
    }

    /// <summary>Encrypts the next eight counter blocks, XORs them into 128 bytes from <paramref name="src"/> and stores
    /// the result at <paramref name="dst"/>; advances <paramref name="counter"/> by eight.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Process8(ref UInt128 counter, ref byte src, ref byte dst)
    {
        Vector128<byte> b0, b1, b2, b3, b4, b5, b6, b7;
        ulong low = (ulong)counter;

        if (low <= ulong.MaxValue - 7)
        {
            // No carry into the high half inside this batch: add to the low 64-bit lane with vector adds, then
            // reverse the 16 bytes, which turns (low LE, high LE) into the big-endian 128-bit counter block.
            Vector128<ulong> c = Vector128.Create(low, (ulong)(counter >> 64));
            Vector128<byte> reverse = Vector128.Create((byte)15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
            b0 = Vector128.Shuffle(c.AsByte(), reverse);
            b1 = Vector128.Shuffle((c + Vector128.Create(1UL, 0)).AsByte(), reverse);
            b2 = Vector128.Shuffle((c + Vector128.Create(2UL, 0)).AsByte(), reverse);
            b3 = Vector128.Shuffle((c + Vector128.Create(3UL, 0)).AsByte(), reverse);
            b4 = Vector128.Shuffle((c + Vector128.Create(4UL, 0)).AsByte(), reverse);
            b5 = Vector128.Shuffle((c + Vector128.Create(5UL, 0)).AsByte(), reverse);
            b6 = Vector128.Shuffle((c + Vector128.Create(6UL, 0)).AsByte(), reverse);
            b7 = Vector128.Shuffle((c + Vector128.Create(7UL, 0)).AsByte(), reverse);
        }
        else
        {
            // Rare: the low half wraps within these eight blocks; let UInt128 carry into the high half
            // (and wrap at 2^128, as Go's byte-wise increment does).
            b0 = CounterBlock(counter);
            b1 = CounterBlock(counter + 1);
            b2 = CounterBlock(counter + 2);
            b3 = CounterBlock(counter + 3);
            b4 = CounterBlock(counter + 4);
            b5 = CounterBlock(counter + 5);
            b6 = CounterBlock(counter + 6);
            b7 = CounterBlock(counter + 7);
        }
        counter += 8;

        ref Vector128<byte> rk = ref _roundKeys[0];
        Vector128<byte> k = rk;
        b0 ^= k; b1 ^= k; b2 ^= k; b3 ^= k; b4 ^= k; b5 ^= k; b6 ^= k; b7 ^= k;
        for (nuint round = 1; round < 14; round++)
        {
            k = Unsafe.Add(ref rk, round);
            b0 = X86Aes.Encrypt(b0, k);
            b1 = X86Aes.Encrypt(b1, k);
            b2 = X86Aes.Encrypt(b2, k);
            b3 = X86Aes.Encrypt(b3, k);
            b4 = X86Aes.Encrypt(b4, k);
            b5 = X86Aes.Encrypt(b5, k);
            b6 = X86Aes.Encrypt(b6, k);
            b7 = X86Aes.Encrypt(b7, k);
        }
        k = Unsafe.Add(ref rk, 14);
        b0 = X86Aes.EncryptLast(b0, k);
        b1 = X86Aes.EncryptLast(b1, k);
        b2 = X86Aes.EncryptLast(b2, k);
        b3 = X86Aes.EncryptLast(b3, k);
        b4 = X86Aes.EncryptLast(b4, k);
        b5 = X86Aes.EncryptLast(b5, k);
        b6 = X86Aes.EncryptLast(b6, k);
        b7 = X86Aes.EncryptLast(b7, k);

        // Load all input before storing anything, so in-place operation is safe.
        Vector128<byte> i0 = Vector128.LoadUnsafe(ref src, 0);
        Vector128<byte> i1 = Vector128.LoadUnsafe(ref src, 16);
        Vector128<byte> i2 = Vector128.LoadUnsafe(ref src, 32);
        Vector128<byte> i3 = Vector128.LoadUnsafe(ref src, 48);
        Vector128<byte> i4 = Vector128.LoadUnsafe(ref src, 64);
        Vector128<byte> i5 = Vector128.LoadUnsafe(ref src, 80);
        Vector128<byte> i6 = Vector128.LoadUnsafe(ref src, 96);
        Vector128<byte> i7 = Vector128.LoadUnsafe(ref src, 112);
        (i0 ^ b0).StoreUnsafe(ref dst, 0);
        (i1 ^ b1).StoreUnsafe(ref dst, 16);
        (i2 ^ b2).StoreUnsafe(ref dst, 32);
        (i3 ^ b3).StoreUnsafe(ref dst, 48);
        (i4 ^ b4).StoreUnsafe(ref dst, 64);
        (i5 ^ b5).StoreUnsafe(ref dst, 80);
        (i6 ^ b6).StoreUnsafe(ref dst, 96);
        (i7 ^ b7).StoreUnsafe(ref dst, 112);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> CounterBlock(UInt128 value)
    {
        Vector128<byte> reverse = Vector128.Create((byte)15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
        return Vector128.Shuffle(Vector128.Create((ulong)value, (ulong)(value >> 64)).AsByte(), reverse);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TransformPortable(UInt128 counter, ReadOnlySpan<byte> input, Span<byte> output)
    {
        if (input.IsEmpty)
        {
            return;
        }

        // A fresh Aes object per call: the BCL does not document its one-shot methods as thread-safe on a shared
        // instance, and this path only runs where AES-NI is missing.
        using System.Security.Cryptography.Aes aes = System.Security.Cryptography.Aes.Create();
        aes.Key = _key;

        int batch = Math.Min(PortableBatchBytes, (input.Length + 15) & ~15);
        byte[] rented = ArrayPool<byte>.Shared.Rent(batch);
        try
        {
            Span<byte> keystream = rented.AsSpan(0, batch);
            int offset = 0;
            while (offset < input.Length)
            {
                int chunk = Math.Min(batch, input.Length - offset);
                int blocks = (chunk + 15) / 16;
                Span<byte> counters = keystream[..(blocks * 16)];
                for (int i = 0; i < blocks; i++)
                {
                    BinaryPrimitives.WriteUInt128BigEndian(counters.Slice(i * 16, 16), counter);
                    counter++;
                }
                aes.EncryptEcb(counters, counters, PaddingMode.None);
                Xor(input.Slice(offset, chunk), counters[..chunk], output.Slice(offset, chunk));
                offset += chunk;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(rented.AsSpan(0, batch));
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary><c>destination = a XOR b</c>; <paramref name="destination"/> may be the same memory as
    /// <paramref name="a"/>.</summary>
    internal static void Xor(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> destination)
    {
        ref byte pa = ref MemoryMarshal.GetReference(a);
        ref byte pb = ref MemoryMarshal.GetReference(b);
        ref byte pd = ref MemoryMarshal.GetReference(destination);
        nuint length = (nuint)destination.Length;
        nuint i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; length - i >= 32; i += 32)
            {
                (Vector256.LoadUnsafe(ref pa, i) ^ Vector256.LoadUnsafe(ref pb, i)).StoreUnsafe(ref pd, i);
            }
        }
        for (; length - i >= 16; i += 16)
        {
            (Vector128.LoadUnsafe(ref pa, i) ^ Vector128.LoadUnsafe(ref pb, i)).StoreUnsafe(ref pd, i);
        }
        for (; i < length; i++)
        {
            Unsafe.Add(ref pd, i) = (byte)(Unsafe.Add(ref pa, i) ^ Unsafe.Add(ref pb, i));
        }
    }
}
