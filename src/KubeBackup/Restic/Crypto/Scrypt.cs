using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace KubeBackup.Restic.Crypto;

/// <summary>scrypt parameters as stored in a restic key file.</summary>
/// <param name="N">CPU/memory cost, a power of two greater than 1.</param>
/// <param name="R">Block size.</param>
/// <param name="P">Parallelism.</param>
public readonly record struct ScryptParameters(int N, int R, int P)
{
    /// <summary>Throws <see cref="ArgumentException"/> unless the parameters are ones restic accepts
    /// (N a power of two &gt; 1, r ≥ 1, p ≥ 1, r·p &lt; 2^30, N ≤ int.MaxValue/128/r).</summary>
    public void Validate()
    {
        // restic runs simple-scrypt's Params.Check and then Go's scrypt.Key; the union of their rejections is here.
        if (N <= 1 || (N & (N - 1)) != 0)
        {
            throw new ArgumentException($"scrypt N must be a power of two greater than 1 (got {N}).");
        }
        if (R < 1)
        {
            throw new ArgumentException($"scrypt r must be at least 1 (got {R}).");
        }
        if (P < 1)
        {
            throw new ArgumentException($"scrypt p must be at least 1 (got {P}).");
        }
        if ((long)R * P >= 1L << 30)
        {
            throw new ArgumentException($"scrypt r·p must be below 2^30 (got r={R}, p={P}).");
        }
        // These keep 128·r·p (the PBKDF2 output) and 128·r·N (one lane's memory) within an int, as Go requires.
        if (R > int.MaxValue / 128 / P || R > int.MaxValue / 256)
        {
            throw new ArgumentException($"scrypt r is too large for p (got r={R}, p={P}).");
        }
        if (N > int.MaxValue / 128 / R)
        {
            throw new ArgumentException($"scrypt N is too large for r (got N={N}, r={R}).");
        }
    }
}

/// <summary>scrypt (RFC 7914) key derivation.</summary>
public static class Scrypt
{
    /// <summary>Derives <paramref name="output"/>.Length bytes from a password and salt.</summary>
    public static void DeriveKey(ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, ScryptParameters parameters, Span<byte> output) =>
        DeriveKey(password, salt, parameters, output, Environment.ProcessorCount);

    /// <summary>As the public overload, with a cap on how many lanes run at once (1 = sequentially, like Go).</summary>
    internal static void DeriveKey(ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, ScryptParameters parameters, Span<byte> output, int maxParallelLanes)
    {
        parameters.Validate();
        if (output.IsEmpty)
        {
            return;
        }

        int n = parameters.N, r = parameters.R, p = parameters.P;
        int laneBytes = 128 * r;
        byte[] b = new byte[laneBytes * p];
        try
        {
            // B = PBKDF2-HMAC-SHA256(P, S, 1, p·128·r); then each 128·r-byte lane goes through ROMix independently.
            Rfc2898DeriveBytes.Pbkdf2(password, salt, b, 1, HashAlgorithmName.SHA256);

            int workers = Math.Max(1, Math.Min(p, maxParallelLanes));
            if (workers == 1)
            {
                using var scratch = new Scratch(n, r);
                for (int lane = 0; lane < p; lane++)
                {
                    RoMix(b.AsSpan(lane * laneBytes, laneBytes), n, r, scratch.Span);
                }
            }
            else
            {
                // Each worker allocates one V buffer and reuses it for every lane it runs, so memory stays at
                // workers·128·r·N rather than p·128·r·N.
                Parallel.For(
                    0,
                    p,
                    new ParallelOptions { MaxDegreeOfParallelism = workers },
                    () => new Scratch(n, r),
                    (lane, _, scratch) =>
                    {
                        RoMix(b.AsSpan(lane * laneBytes, laneBytes), n, r, scratch.Span);
                        return scratch;
                    },
                    scratch => scratch.Dispose());
            }

            Rfc2898DeriveBytes.Pbkdf2(password, b, output, 1, HashAlgorithmName.SHA256);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(b);
        }
    }

    /// <summary>Chooses parameters the way restic does on <c>init</c> and <c>key add</c>: r = 8, N the largest power of two
    /// whose memory (128·r·N) stays under <paramref name="maxMemoryBytes"/>, and p raised until one derivation takes
    /// about <paramref name="targetTime"/>.</summary>
    public static ScryptParameters Calibrate(TimeSpan targetTime, long maxMemoryBytes)
    {
        // The same procedure as restic's calibration (simple-scrypt's Calibrate): zero means its defaults of
        // 200 ms and 16 MiB; restic itself asks for 500 ms and 60 MiB.
        if (targetTime < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(targetTime), "The target time must not be negative.");
        }
        if (maxMemoryBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxMemoryBytes), "The memory limit must not be negative.");
        }
        if (targetTime == TimeSpan.Zero)
        {
            targetTime = TimeSpan.FromMilliseconds(200);
        }
        if (maxMemoryBytes == 0)
        {
            maxMemoryBytes = 16L << 20;
        }

        const int r = 8;
        int n = LargestN(maxMemoryBytes, r);
        if (n < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(maxMemoryBytes), "The memory limit is too small for scrypt with r = 8.");
        }

        byte[] password = "weakpassword"u8.ToArray();
        byte[] salt = RandomNumberGenerator.GetBytes(16);

        // Timings are taken with the lanes run one after another, as Go's scrypt (and so restic) runs them:
        // the parameters describe how long restic would take on this machine, not how long our parallel lanes take.
        // A tiny run first, so JIT compilation does not count against the first real measurement.
        Time(password, salt, new ScryptParameters(16, r, 1));
        var parameters = new ScryptParameters(n, r, 1);
        TimeSpan elapsed = Time(password, salt, parameters);

        // One lane too slow even at p = 1: halve N until it fits.
        while (elapsed > targetTime && parameters.N > 2)
        {
            parameters = parameters with { N = parameters.N / 2 };
            elapsed = Time(password, salt, parameters);
        }

        // Scale p linearly from the single-lane time, then back off while a real run overshoots (load can skew the
        // first estimate, mostly with small N and large p).
        parameters = parameters with { P = ClampP(targetTime.Ticks / Math.Max(1, elapsed.Ticks), r) };
        elapsed = Time(password, salt, parameters);
        while (elapsed > targetTime && parameters.P > 1)
        {
            long perLane = Math.Max(1, elapsed.Ticks / parameters.P);
            int next = ClampP(targetTime.Ticks / perLane, r);
            parameters = parameters with { P = next < parameters.P ? next : parameters.P - 1 };
            elapsed = Time(password, salt, parameters);
        }

        parameters.Validate();
        return parameters;
    }

    /// <summary>The largest power of two N with 128·r·N strictly below <paramref name="maxMemoryBytes"/>, capped at
    /// the largest N that <see cref="ScryptParameters.Validate"/> accepts; 1 or 0 when even N = 2 does not fit.</summary>
    internal static int LargestN(long maxMemoryBytes, int r)
    {
        long n = 1;
        while (128L * r * n < maxMemoryBytes && n <= int.MaxValue / 128 / r)
        {
            n <<= 1;
        }
        return (int)(n >> 1);
    }

    private static int ClampP(long p, int r) => (int)Math.Clamp(p, 1, int.MaxValue / 128 / r);

    private static TimeSpan Time(byte[] password, byte[] salt, ScryptParameters parameters)
    {
        Span<byte> output = stackalloc byte[32];
        long start = Stopwatch.GetTimestamp();
        DeriveKey(password, salt, parameters, output, maxParallelLanes: 1);
        return Stopwatch.GetElapsedTime(start);
    }

    /// <summary>One lane's working memory: V (N blocks of 32·r words) followed by the two 32·r-word buffers X and Y.</summary>
    /// <summary>ROMix's V array and two blocks (128·r·(N+2) bytes, 32 MiB with restic's parameters), in native memory:
    /// a managed array that size lands on the large object heap, which only a full collection gives back, so every
    /// repository open would leave tens of megabytes resident for the rest of the run. Freed (and zeroed) at once.</summary>
    private sealed unsafe class Scratch : IDisposable
    {
        private readonly nuint _words;
        private uint* _memory;

        public Scratch(int n, int r)
        {
            _words = checked((nuint)(n + 2) * 32 * (nuint)r);
            _memory = (uint*)NativeMemory.Alloc(_words, sizeof(uint));
        }

        public Span<uint> Span => new(_memory, checked((int)_words));

        public void Dispose()
        {
            if (_memory is not null)
            {
                NativeMemory.Clear(_memory, _words * sizeof(uint));
                NativeMemory.Free(_memory);
                _memory = null;
            }
        }
    }

    /// <summary>ROMix (RFC 7914 §5) on one lane, in place.</summary>
    // A hot loop: jitted fully optimized at once. Tiered compilation would run it as slow tier-0 code first, a
    // noticeable share of a short backup.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RoMix(Span<byte> lane, int n, int r, Span<uint> scratch)
    {
        int blockWords = 32 * r;
        Span<uint> v = scratch.Slice(0, n * blockWords);
        Span<uint> x = scratch.Slice(n * blockWords, blockWords);
        Span<uint> y = scratch.Slice((n + 1) * blockWords, blockWords);

        for (int i = 0; i < 2 * r; i++)
        {
            Salsa20Core.ToDiagonal(lane.Slice(i * 64, 64), v.Slice(i * 16, 16));
        }

        // First loop: V[i] = X; X = BlockMix(X). Writing each BlockMix straight into the next V slot saves a copy.
        ref uint vRef = ref MemoryMarshal.GetReference(v);
        for (int i = 0; i < n - 1; i++)
        {
            ref uint current = ref Unsafe.Add(ref vRef, (nint)i * blockWords);
            ref uint next = ref Unsafe.Add(ref current, blockWords);
            Salsa20Core.BlockMix(ref current, ref current, xorInput: false, ref next, r);
        }
        ref uint xRef = ref MemoryMarshal.GetReference(x);
        ref uint yRef = ref MemoryMarshal.GetReference(y);
        Salsa20Core.BlockMix(ref Unsafe.Add(ref vRef, (nint)(n - 1) * blockWords), ref xRef, xorInput: false, ref xRef, r);

        // Second loop: j = Integerify(X) mod N; X = BlockMix(X ⊕ V[j]). Integerify reads the first word of the last
        // 64-byte block, which the diagonal order leaves in place; N ≤ 2^31 so the upper word never matters.
        int last = (2 * r - 1) * 16;
        int mask = n - 1;
        for (int i = 0; i < n; i++)
        {
            int j = (int)(Unsafe.Add(ref xRef, last) & (uint)mask);
            Salsa20Core.BlockMix(ref xRef, ref Unsafe.Add(ref vRef, (nint)j * blockWords), xorInput: true, ref yRef, r);
            ref uint swap = ref xRef;
            xRef = ref yRef;
            yRef = ref swap;
        }

        Span<uint> result = MemoryMarshal.CreateSpan(ref xRef, blockWords);
        for (int i = 0; i < 2 * r; i++)
        {
            Salsa20Core.FromDiagonal(result.Slice(i * 16, 16), lane.Slice(i * 64, 64));
        }
    }
}
