using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
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

    /// <summary>As the public overload, with a cap on the threads (1 = the lanes one after another, like Go, when
    /// <paramref name="pairLanes"/> is off), whether a thread may run two lanes at once (default: where
    /// <see cref="Salsa20Core.PairSupported"/>), and, for tests, a forced V stride (see <see cref="StrideFor"/>).</summary>
    internal static void DeriveKey(
        ReadOnlySpan<byte> password,
        ReadOnlySpan<byte> salt,
        ScryptParameters parameters,
        Span<byte> output,
        int maxThreads,
        int? stride = null,
        bool? pairLanes = null)
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

            bool pair = (pairLanes ?? true) && Salsa20Core.PairSupported;
            LanePlan plan = PlanLanes(p, maxThreads, pair ? PairCost : null);
            int s = Math.Min(stride ?? plan.Stride, n);
            int perThread = plan.LanesPerThread;

            // A thread runs its lanes two at a time (or one at a time in a single-lane plan); an odd one out runs alone
            // and keeps V twice as densely in the same scratch.
            int singleStride = Math.Min(stride ?? Math.Max(1, s / perThread), n);
            void RunLanes(int thread, Scratch scratch)
            {
                (int lane, int count) = plan.LanesOf(thread, p);
                int end = lane + count;
                for (; perThread == 2 && lane + 1 < end; lane += 2)
                {
                    RoMixPair(b.AsSpan(lane * laneBytes, laneBytes), b.AsSpan((lane + 1) * laneBytes, laneBytes), n, r, s, scratch);
                }
                for (; lane < end; lane++)
                {
                    RoMix(b.AsSpan(lane * laneBytes, laneBytes), n, r, singleStride, scratch.Lane(0, singleStride));
                }
            }

            if (plan.Threads == 1)
            {
                using var scratch = new Scratch(n, r, s, perThread);
                RunLanes(0, scratch);
            }
            else
            {
                // One scratch per thread, reused for every lane it runs, so memory stays at (lanes in flight)·128·r·N
                // /stride, which the stride keeps at or below one full V.
                Parallel.For(
                    0,
                    plan.Threads,
                    new ParallelOptions { MaxDegreeOfParallelism = plan.Threads },
                    thread =>
                    {
                        using var scratch = new Scratch(n, r, s, perThread);
                        RunLanes(thread, scratch);
                    });
            }

            Rfc2898DeriveBytes.Pbkdf2(password, b, output, 1, HashAlgorithmName.SHA256);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(b);
        }
    }

    /// <summary>More lanes at once than this would need a stride whose recomputation eats the gain.</summary>
    private const int MaxLanesInFlight = 4;

    /// <summary>How a derivation's lanes are spread: threads, lanes per thread at once, V stride.</summary>
    internal readonly record struct LanePlan(int Threads, int LanesPerThread, int Stride)
    {
        /// <summary>The contiguous run of lanes a thread takes: the runs as even as p allows. (A shared queue of pairs
        /// would give one thread a whole pair more: p = 10 on two threads as three pairs and two, where two pairs and a
        /// lone lane each take a tenth less.)</summary>
        public (int First, int Count) LanesOf(int thread, int p)
        {
            int each = p / Threads, extra = p % Threads;
            return ((thread * each) + Math.Min(thread, extra), each + (thread < extra ? 1 : 0));
        }
    }

    /// <summary>
    /// Picks threads and lanes per thread for the least estimated wall time at the memory of one full V. Running
    /// w lanes at once needs stride <see cref="StrideFor"/>(w), which costs each lane (2 + (s−1)/2)/2 of a full-V
    /// lane; a pair on one thread costs little more than a single lane (one Salsa20/8 is a chain of dependent steps,
    /// so a second chain fills idle units). With two cores every p from 3 goes faster paired (four lanes at stride 4;
    /// a thread's odd lane alone at stride 2), p = 2 as two single lanes. The estimate only ranks plans: a sparse V also
    /// misses the cache less, so real strides cost less than it says (native executable, two cores, opening a key:
    /// p = 5 0.30 → 0.24 s, p = 7 0.39 → 0.28 s, p = 11 0.59 → 0.41 s; p = 10, the lanes split five and five rather
    /// than by a shared queue of pairs, 0.40 → 0.37 s).
    /// </summary>
    /// <param name="p">Lanes.</param>
    /// <param name="maxThreads">Threads that may run at once.</param>
    /// <param name="pairCost">The time of a paired ROMix relative to a single one at the same stride; null: no pairs.</param>
    internal static LanePlan PlanLanes(int p, int maxThreads, double? pairCost)
    {
        LanePlan best = new(1, 1, 1);
        double bestCost = double.MaxValue;
        for (int perThread = 1; perThread <= (pairCost is null ? 1 : 2); perThread++)
        {
            int threads = Math.Max(1, Math.Min(Math.Min((p + perThread - 1) / perThread, maxThreads), MaxLanesInFlight / perThread));
            int stride = StrideFor(threads * perThread);

            // Threads take p / threads lanes, some one more (LanePlan.LanesOf); the plan's time is the busiest thread's.
            double ThreadCost(int lanes) => perThread == 1
                ? lanes * LaneCost(stride)
                : ((lanes / 2) * pairCost!.Value * LaneCost(stride)) + ((lanes % 2) * LaneCost(Math.Max(1, stride / 2)));
            double cost = Math.Max(ThreadCost((p + threads - 1) / threads), ThreadCost(p / threads));
            if (cost < bestCost - 1e-9)
            {
                bestCost = cost;
                best = new LanePlan(threads, perThread, stride);
            }
        }
        return best;
    }

    /// <summary>One lane's ROMix at a V stride, relative to a full V: (2 + (s−1)/2)/2, see <see cref="StrideFor"/>.</summary>
    private static double LaneCost(int stride) => (2 + (stride - 1) / 2.0) / 2;

    /// <summary>Time of a paired ROMix relative to a single one at the same stride. With AVX-512 a rotation is one
    /// instruction and the pair measured 1.26 (the benchmarks' "p=2 as one pair" against "p=1, V stride 2"); with
    /// AVX2 alone (the native executable's target) the single chain is longer and the pair came out at ~1.0 (p = 5
    /// and 7 keys, two cores).</summary>
    private static double PairCost => Avx512F.VL.IsSupported ? 1.25 : 1.0;

    /// <summary>
    /// How sparsely ROMix keeps V when <paramref name="lanes"/> lanes run at once: every stride-th block only, the
    /// others recomputed from the kept one when the second loop asks for them (scrypt's time–memory trade-off). A
    /// stride of s costs a lane (2 + (s−1)/2)·N BlockMix calls instead of 2·N, and keeps that many lanes within the
    /// memory of one full V — what Go's sequential scrypt (restic) needs.
    /// </summary>
    internal static int StrideFor(int lanes) => lanes <= 1 ? 1 : (int)BitOperations.RoundUpToPowerOf2((uint)lanes);

    /// <summary>Chooses parameters the way restic does on <c>init</c> and <c>key add</c>: r = 8, N the largest power of two
    /// whose memory (128·r·N) stays under <paramref name="maxMemoryBytes"/>, and p raised until one derivation on one
    /// core takes about <paramref name="targetTime"/> (opening the key with more cores takes less).</summary>
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

        // restic times one lane of Go's scrypt and takes p = target / lane time: p is the lanes one core gets through
        // in the target time. Go's lane is a scalar chain that keeps the core's integer units busy; a single lane of
        // ours is one vector chain that leaves them half idle (about twice Go's time here), and we run lanes in pairs
        // for that reason. So lanes are timed the way one thread of ours runs them (two at once where the CPU can),
        // and a lane's time is the pair's halved: timing a lone lane would pick half restic's p on the same machine,
        // a key half as costly to attack. Each per-lane figure is the best of two runs: a timing only errs long
        // (preemption, a cold cache), and a long one would weaken the key. A tiny run first, so JIT compilation does
        // not count against the first real measurement.
        Time(password, salt, new ScryptParameters(16, r, 2));
        var parameters = new ScryptParameters(n, r, 1);
        TimeSpan perLane = PerLane(password, salt, parameters);

        // One lane too slow even at p = 1: halve N until it fits.
        while (perLane > targetTime && parameters.N > 2)
        {
            parameters = parameters with { N = parameters.N / 2 };
            perLane = PerLane(password, salt, parameters);
        }

        // Scale p linearly from the lane time, then back off while a real run (one thread, as timed) overshoots by
        // more than a tenth: load can skew the first estimate, mostly with small N and large p.
        parameters = parameters with { P = ClampP(targetTime.Ticks / Math.Max(1, perLane.Ticks), r) };
        TimeSpan elapsed = Time(password, salt, parameters);
        while (elapsed > targetTime * 1.1 && parameters.P > 1)
        {
            long lane = Math.Max(1, elapsed.Ticks / parameters.P);
            int next = ClampP(targetTime.Ticks / lane, r);
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

    /// <summary>One lane's share of two lanes run on one thread, the best of two runs.</summary>
    private static TimeSpan PerLane(byte[] password, byte[] salt, ScryptParameters parameters)
    {
        var two = parameters with { P = 2 };
        TimeSpan best = Time(password, salt, two);
        TimeSpan again = Time(password, salt, two);
        return (again < best ? again : best) / 2;
    }

    /// <summary>One derivation on one thread, lanes paired where the CPU allows (see <see cref="DeriveKey(ReadOnlySpan{byte}, ReadOnlySpan{byte}, ScryptParameters, Span{byte}, int, int?, bool?)"/>).</summary>
    private static TimeSpan Time(byte[] password, byte[] salt, ScryptParameters parameters)
    {
        Span<byte> output = stackalloc byte[32];
        long start = Stopwatch.GetTimestamp();
        DeriveKey(password, salt, parameters, output, maxThreads: 1);
        return Stopwatch.GetElapsedTime(start);
    }

    /// <summary>ROMix's working memory for the lanes one thread runs at once: per lane, V's kept blocks and four more
    /// (X, Y and two for recomputing a skipped V entry); for a pair, one block of zeros as well. 128·r·(N+4) bytes
    /// for one lane with a full V (32 MiB with restic's parameters), in native memory: a managed array that size lands
    /// on the large object heap, which only a full collection gives back, so every repository open would leave tens of
    /// megabytes resident for the rest of the run. Freed (and zeroed) at once.</summary>
    private sealed unsafe class Scratch : IDisposable
    {
        private readonly int _n;
        private readonly int _blockWords;
        private readonly nuint _words;
        private uint* _memory;

        /// <summary>Room for <paramref name="lanes"/> lanes at <paramref name="stride"/> (and the zero block a pair
        /// needs), which also holds one lane at stride/lanes.</summary>
        public Scratch(int n, int r, int stride, int lanes)
        {
            _n = n;
            _blockWords = 32 * r;
            nuint laneWords = LaneWords(stride);
            _words = checked(laneWords * (nuint)lanes + (lanes > 1 ? (nuint)_blockWords : 0));
            nuint bytes = _words * sizeof(uint);
            _memory = (uint*)NativeMemory.AlignedAlloc(bytes, HugePage);
            if (OperatingSystem.IsLinux())
            {
                // Transparent huge pages where the system allows them on request: ROMix's second loop reads V at random,
                // so 4 KiB pages miss the TLB on nearly every block, and each first touch is a fault (on a virtual
                // machine, an expensive one). Advice only: where huge pages are off, nothing changes.
                _ = Platform.LibC.MAdvise(_memory, bytes, Platform.LibC.MADV_HUGEPAGE);
            }
        }

        private const nuint HugePage = 2 << 20;

        /// <summary>One lane's words at a stride: V's kept blocks and four more (X, Y and two for replaying a skipped
        /// V entry).</summary>
        private nuint LaneWords(int stride) => checked((nuint)(_n / stride + 4) * (nuint)_blockWords);

        public Span<uint> Lane(int index, int stride)
        {
            nuint words = LaneWords(stride);
            Debug.Assert(words * (nuint)(index + 1) <= _words);
            return new(_memory + words * (nuint)index, checked((int)words));
        }

        public uint* LaneStart(int index, int stride) => _memory + LaneWords(stride) * (nuint)index;

        /// <summary>A block of zeros after two lanes at <paramref name="stride"/>: the second input of a plain BlockMix
        /// in a pair.</summary>
        public uint* Zero(int stride)
        {
            uint* zero = _memory + LaneWords(stride) * 2;
            NativeMemory.Clear(zero, (nuint)_blockWords * sizeof(uint));
            return zero;
        }

        public void Dispose()
        {
            if (_memory is not null)
            {
                NativeMemory.Clear(_memory, _words * sizeof(uint));
                NativeMemory.AlignedFree(_memory);
                _memory = null;
            }
        }
    }

    /// <summary>
    /// Where one lane of a pair stands in ROMix's second loop. Each step is one BlockMix: either the next replayed
    /// block towards a V entry that was not kept, or the loop's own <c>X = BlockMix(X ⊕ V[j])</c>. The two lanes need
    /// different numbers of replays, so each keeps its own queue and a paired call serves whatever each needs next.
    /// </summary>
    private unsafe struct LaneCursor
    {
        public uint* V, X, Y, T0, T1;
        public int Step;
        public int Replays;
        public uint* Source;

        /// <summary>The inputs and output of this lane's next BlockMix (its result is <c>BlockMix(a ⊕ b)</c>).</summary>
        public readonly void Next(uint* zero, out uint* a, out uint* b, out uint* output)
        {
            if (Replays > 0)
            {
                a = Source;
                b = zero;
                output = Source == T0 ? T1 : T0;
            }
            else
            {
                a = X;
                b = Source;
                output = Y;
            }
        }

        /// <summary>Moves past the BlockMix <see cref="Next"/> described.</summary>
        public void Advance(int n, int r, int stride)
        {
            if (Replays > 0)
            {
                Source = Source == T0 ? T1 : T0;
                Replays--;
                return;
            }
            uint* swap = X;
            X = Y;
            Y = swap;
            if (++Step < n)
            {
                Target(n, r, stride);
            }
        }

        /// <summary>Integerify: j from X's last block; V[j] is the kept block before it, replayed j mod stride times.</summary>
        public void Target(int n, int r, int stride)
        {
            int j = (int)(X[(2 * r - 1) * 16] & (uint)(n - 1));
            Source = V + (nuint)(j / stride) * 32 * (nuint)r;
            Replays = j & (stride - 1);
        }
    }

    /// <summary>ROMix on two lanes at once (<see cref="Salsa20Core.BlockMixPair"/>), each in place, each keeping every
    /// <paramref name="stride"/>-th V block; the same result as <see cref="RoMix"/> on each lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RoMixPair(Span<byte> lane0, Span<byte> lane1, int n, int r, int stride, Scratch scratch)
    {
        int blockWords = 32 * r;
        int kept = n / stride;
        uint* zero = scratch.Zero(stride);
        var c0 = Cursor(scratch.LaneStart(0, stride));
        var c1 = Cursor(scratch.LaneStart(1, stride));
        for (int i = 0; i < 2 * r; i++)
        {
            Salsa20Core.ToDiagonal(lane0.Slice(i * 64, 64), new Span<uint>(c0.X + i * 16, 16));
            Salsa20Core.ToDiagonal(lane1.Slice(i * 64, 64), new Span<uint>(c1.X + i * 16, 16));
        }

        // First loop, both lanes in step: every stride-th X kept in V, X = BlockMix(X).
        nuint blockBytes = (nuint)blockWords * sizeof(uint);
        for (int i = 0; i < n; i++)
        {
            if ((i & (stride - 1)) == 0)
            {
                nuint slot = (nuint)(i / stride) * (nuint)blockWords;
                NativeMemory.Copy(c0.X, c0.V + slot, blockBytes);
                NativeMemory.Copy(c1.X, c1.V + slot, blockBytes);
            }
            Salsa20Core.BlockMixPair(ref *c0.X, ref *zero, ref *c0.Y, ref *c1.X, ref *zero, ref *c1.Y, r);
            uint* swap0 = c0.X;
            c0.X = c0.Y;
            c0.Y = swap0;
            uint* swap1 = c1.X;
            c1.X = c1.Y;
            c1.Y = swap1;
        }

        // Second loop: paired while both lanes have steps left, then the rest of the longer one alone.
        c0.Target(n, r, stride);
        c1.Target(n, r, stride);
        while (c0.Step < n && c1.Step < n)
        {
            c0.Next(zero, out uint* a0, out uint* b0, out uint* o0);
            c1.Next(zero, out uint* a1, out uint* b1, out uint* o1);
            Salsa20Core.BlockMixPair(ref *a0, ref *b0, ref *o0, ref *a1, ref *b1, ref *o1, r);
            c0.Advance(n, r, stride);
            c1.Advance(n, r, stride);
        }
        FinishAlone(ref c0, zero, n, r, stride);
        FinishAlone(ref c1, zero, n, r, stride);

        for (int i = 0; i < 2 * r; i++)
        {
            Salsa20Core.FromDiagonal(new ReadOnlySpan<uint>(c0.X + i * 16, 16), lane0.Slice(i * 64, 64));
            Salsa20Core.FromDiagonal(new ReadOnlySpan<uint>(c1.X + i * 16, 16), lane1.Slice(i * 64, 64));
        }

        LaneCursor Cursor(uint* start) => new()
        {
            V = start,
            X = start + (nuint)kept * (nuint)blockWords,
            Y = start + (nuint)(kept + 1) * (nuint)blockWords,
            T0 = start + (nuint)(kept + 2) * (nuint)blockWords,
            T1 = start + (nuint)(kept + 3) * (nuint)blockWords,
        };
    }

    private static unsafe void FinishAlone(ref LaneCursor cursor, uint* zero, int n, int r, int stride)
    {
        while (cursor.Step < n)
        {
            cursor.Next(zero, out uint* a, out uint* b, out uint* output);
            Salsa20Core.BlockMix(ref *a, ref *b, xorInput: true, ref *output, r);
            cursor.Advance(n, r, stride);
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
