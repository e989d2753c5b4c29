using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;

namespace KubeBackup.Restic.Crypto;

/// <summary>The 15 round keys of AES-256 (the initial whitening key plus 14 rounds).</summary>
[InlineArray(15)]
internal struct Aes256RoundKeys
{
    private Vector128<byte> _element0;
}

/// <summary>The 11 round keys of AES-128 (the initial whitening key plus 10 rounds).</summary>
[InlineArray(11)]
internal struct Aes128RoundKeys
{
    private Vector128<byte> _element0;
}

/// <summary>
/// AES key expansion and single-block encryption with the x86 AES-NI instructions. Callers check
/// <see cref="IsSupported"/> first; nothing here has a software path.
/// </summary>
internal static class AesNi
{
    /// <summary>Whether the AES-NI code paths can run on this machine (AES-NI plus the SSE2/SSSE3 shuffles the key
    /// expansion and counter handling use).</summary>
    public static bool IsSupported => X86Aes.IsSupported && Ssse3.IsSupported;

    /// <summary>Expands a 32-byte key into the AES-256 encryption schedule (FIPS-197 §5.2).</summary>
    public static void ExpandKey256(ReadOnlySpan<byte> key, ref Aes256RoundKeys rk)
    {
        if (key.Length != 32)
        {
            throw new ArgumentException("AES-256 needs a 32-byte key.", nameof(key));
        }

        // AES-256 alternates two kinds of step. Even round keys come from the previous even key and
        // RotWord+SubWord+Rcon of the last word of the odd key before (word 3 of KEYGENASSIST, shuffle 0xFF);
        // odd round keys use only SubWord of the last word of the even key before (word 2, shuffle 0xAA) and no Rcon.
        // KEYGENASSIST needs its Rcon as an immediate, so the schedule is written out instead of looped.
        Vector128<byte> a = Vector128.Create(key[..16]);
        Vector128<byte> b = Vector128.Create(key[16..]);
        rk[0] = a;
        rk[1] = b;
        a = Step(a, X86Aes.KeygenAssist(b, 0x01), 0xFF); rk[2] = a;
        b = Step(b, X86Aes.KeygenAssist(a, 0x00), 0xAA); rk[3] = b;
        a = Step(a, X86Aes.KeygenAssist(b, 0x02), 0xFF); rk[4] = a;
        b = Step(b, X86Aes.KeygenAssist(a, 0x00), 0xAA); rk[5] = b;
        a = Step(a, X86Aes.KeygenAssist(b, 0x04), 0xFF); rk[6] = a;
        b = Step(b, X86Aes.KeygenAssist(a, 0x00), 0xAA); rk[7] = b;
        a = Step(a, X86Aes.KeygenAssist(b, 0x08), 0xFF); rk[8] = a;
        b = Step(b, X86Aes.KeygenAssist(a, 0x00), 0xAA); rk[9] = b;
        a = Step(a, X86Aes.KeygenAssist(b, 0x10), 0xFF); rk[10] = a;
        b = Step(b, X86Aes.KeygenAssist(a, 0x00), 0xAA); rk[11] = b;
        a = Step(a, X86Aes.KeygenAssist(b, 0x20), 0xFF); rk[12] = a;
        b = Step(b, X86Aes.KeygenAssist(a, 0x00), 0xAA); rk[13] = b;
        a = Step(a, X86Aes.KeygenAssist(b, 0x40), 0xFF); rk[14] = a;
    }

    /// <summary>Expands a 16-byte key into the AES-128 encryption schedule.</summary>
    public static void ExpandKey128(ReadOnlySpan<byte> key, ref Aes128RoundKeys rk)
    {
        if (key.Length != 16)
        {
            throw new ArgumentException("AES-128 needs a 16-byte key.", nameof(key));
        }

        Vector128<byte> a = Vector128.Create(key);
        rk[0] = a;
        a = Step(a, X86Aes.KeygenAssist(a, 0x01), 0xFF); rk[1] = a;
        a = Step(a, X86Aes.KeygenAssist(a, 0x02), 0xFF); rk[2] = a;
        a = Step(a, X86Aes.KeygenAssist(a, 0x04), 0xFF); rk[3] = a;
        a = Step(a, X86Aes.KeygenAssist(a, 0x08), 0xFF); rk[4] = a;
        a = Step(a, X86Aes.KeygenAssist(a, 0x10), 0xFF); rk[5] = a;
        a = Step(a, X86Aes.KeygenAssist(a, 0x20), 0xFF); rk[6] = a;
        a = Step(a, X86Aes.KeygenAssist(a, 0x40), 0xFF); rk[7] = a;
        a = Step(a, X86Aes.KeygenAssist(a, 0x80), 0xFF); rk[8] = a;
        a = Step(a, X86Aes.KeygenAssist(a, 0x1B), 0xFF); rk[9] = a;
        a = Step(a, X86Aes.KeygenAssist(a, 0x36), 0xFF); rk[10] = a;
    }

    /// <summary>One key-schedule step: every word of the new key is the XOR of all words of <paramref name="previous"/>
    /// up to its position, XORed with the chosen word of the KEYGENASSIST result broadcast to all four lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Step(Vector128<byte> previous, Vector128<byte> assist, [ConstantExpected] byte broadcast)
    {
        Vector128<byte> t = Sse2.Shuffle(assist.AsUInt32(), broadcast).AsByte();
        // Prefix XOR over the four words in two shifts: (w0, w0^w1, w1^w2, w2^w3) then fold in two more words.
        previous ^= Sse2.ShiftLeftLogical128BitLane(previous, 4);
        previous ^= Sse2.ShiftLeftLogical128BitLane(previous, 8);
        return previous ^ t;
    }

    /// <summary>Encrypts one block with an AES-128 schedule.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Encrypt(Vector128<byte> block, in Aes128RoundKeys rk)
    {
        block ^= rk[0];
        for (int i = 1; i < 10; i++)
        {
            block = X86Aes.Encrypt(block, rk[i]);
        }
        return X86Aes.EncryptLast(block, rk[10]);
    }
}
