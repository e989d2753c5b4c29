using System.Diagnostics;
using System.Numerics;
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

    /// <summary>As the public overload, with a cap on how many lanes run at once (1 = sequentially, like Go) and,
    /// for tests, a forced V stride (see <see cref="StrideFor"/>).</summary>
    internal static void DeriveKey(ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, ScryptParameters parameters, Span<byte> output, int maxParallelLanes, int? stride = null)
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

            int workers = Math.Max(1, Math.Min(Math.Min(p, maxParallelLanes), MaxWorkers));
            int s = Math.Min(stride ?? StrideFor(workers), n);
            if (workers == 1)
            {
                using var scratch = new Scratch(n, r, s);
                for (int lane = 0; lane < p; lane++)
                {
                    RoMix(b.AsSpan(lane * laneBytes, laneBytes), n, r, s, scratch.Span);
                }
            }
            else
            {
                // Each worker allocates one V buffer and reuses it for every lane it runs, so memory stays at
                // workers·128·r·N/stride, which the stride keeps at or below one full V.
                Parallel.For(
                    0,
                    p,
                    new ParallelOptions { MaxDegreeOfParallelism = workers },
                    () => new Scratch(n, r, s),
                    (lane, _, scratch) =>
                    {
                        RoMix(b.AsSpan(lane * laneBytes, laneBytes), n, r, s, scratch.Span);
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

    /// <summary>More lanes at once than this would need a stride whose recomputation eats the gain.</summary>
    private const int MaxWorkers = 4;

    /// <summary>
    /// How sparsely ROMix keeps V when <paramref name="workers"/> lanes run at once: every stride-th block only, the
    /// others recomputed from the kept one when the second loop asks for them (scrypt's time–memory trade-off). A
    /// stride of w costs a lane (2.5 + (w−2)/2)·N BlockMix calls instead of 2·N, and keeps w parallel lanes within
    /// the memory of one full V — what Go's sequential scrypt (restic) needs. With 2 lanes at once that is 1.25× the
    /// work per lane for half the wall time of a sequential derivation at the same peak memory.
    /// </summary>
    internal static int StrideFor(int workers) => workers <= 1 ? 1 : (int)BitOperations.RoundUpToPowerOf2((uint)workers);

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

    /// <summary>ROMix's V array and two blocks (128·r·(N+2) bytes, 32 MiB with restic's parameters), in native memory:
    /// a managed array that size lands on the large object heap, which only a full collection gives back, so every
    /// repository open would leave tens of megabytes resident for the rest of the run. Freed (and zeroed) at once.</summary>
    private sealed unsafe class Scratch : IDisposable
    {
        private readonly nuint _words;
        private uint* _memory;

        public Scratch(int n, int r, int stride)
        {
            // V keeps N/stride blocks; X and Y, and two more for recomputing a skipped V entry.
            _words = checked((nuint)(n / stride + 4) * 32 * (nuint)r);
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

    /// <summary>ROMix (RFC 7914 §5) on one lane, in place, keeping every <paramref name="stride"/>-th V block.</summary>
    // A hot loop: jitted fully optimized at once. Tiered compilation would run it as slow tier-0 code first, a
    // noticeable share of a short backup.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RoMix(Span<byte> lane, int n, int r, int stride, Span<uint> scratch)
    {
        int blockWords = 32 * r;
        int kept = n / stride;
        Span<uint> v = scratch.Slice(0, kept * blockWords);
        Span<uint> x = scratch.Slice(kept * blockWords, blockWords);
        Span<uint> y = scratch.Slice((kept + 1) * blockWords, blockWords);
        ref uint vRef = ref MemoryMarshal.GetReference(v);
        ref uint xRef = ref MemoryMarshal.GetReference(x);
        ref uint yRef = ref MemoryMarshal.GetReference(y);

        if (stride == 1)
        {
            for (int i = 0; i < 2 * r; i++)
            {
                Salsa20Core.ToDiagonal(lane.Slice(i * 64, 64), v.Slice(i * 16, 16));
            }

            // First loop: V[i] = X; X = BlockMix(X). Writing each BlockMix straight into the next V slot saves a copy.
            for (int i = 0; i < n - 1; i++)
            {
                ref uint current = ref Unsafe.Add(ref vRef, (nint)i * blockWords);
                ref uint next = ref Unsafe.Add(ref current, blockWords);
                Salsa20Core.BlockMix(ref current, ref current, xorInput: false, ref next, r);
            }
            Salsa20Core.BlockMix(ref Unsafe.Add(ref vRef, (nint)(n - 1) * blockWords), ref xRef, xorInput: false, ref xRef, r);
        }
        else
        {
            for (int i = 0; i < 2 * r; i++)
            {
                Salsa20Core.ToDiagonal(lane.Slice(i * 64, 64), x.Slice(i * 16, 16));
            }

            // First loop with a sparse V: only every stride-th X is kept.
            for (int i = 0; i < n; i++)
            {
                if ((i & (stride - 1)) == 0)
                {
                    MemoryMarshal.CreateReadOnlySpan(ref xRef, blockWords).CopyTo(v.Slice((i / stride) * blockWords, blockWords));
                }
                Salsa20Core.BlockMix(ref xRef, ref xRef, xorInput: false, ref yRef, r);
                ref uint swap1 = ref xRef;
                xRef = ref yRef;
                yRef = ref swap1;
            }
        }

        // Second loop: j = Integerify(X) mod N; X = BlockMix(X ⊕ V[j]). Integerify reads the first word of the last
        // 64-byte block, which the diagonal order leaves in place; N ≤ 2^31 so the upper word never matters.
        int last = (2 * r - 1) * 16;
        int mask = n - 1;
        ref uint t0 = ref Unsafe.Add(ref vRef, (nint)(kept + 2) * blockWords);
        ref uint t1 = ref Unsafe.Add(ref t0, blockWords);
        for (int i = 0; i < n; i++)
        {
            int j = (int)(Unsafe.Add(ref xRef, last) & (uint)mask);
            ref uint vj = ref Unsafe.Add(ref vRef, (nint)(j / stride) * blockWords);
            int missing = j & (stride - 1);
            if (missing > 0)
            {
                // V[j] was not kept: replay the first loop's BlockMix steps from the nearest kept block before it.
                Salsa20Core.BlockMix(ref vj, ref vj, xorInput: false, ref t0, r);
                for (int k = 1; k < missing; k++)
                {
                    Salsa20Core.BlockMix(ref t0, ref t0, xorInput: false, ref t1, r);
                    ref uint swapT = ref t0;
                    t0 = ref t1;
                    t1 = ref swapT;
                }
                vj = ref t0;
            }

            Salsa20Core.BlockMix(ref xRef, ref vj, xorInput: true, ref yRef, r);
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
