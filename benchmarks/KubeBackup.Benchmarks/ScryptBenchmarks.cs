using BenchmarkDotNet.Attributes;
using KubeBackup.Restic.Crypto;

namespace KubeBackup.Benchmarks;

/// <summary>
/// Opening a repository costs one scrypt derivation with the key file's parameters. N = 2^15 and r = 8 are what
/// restic's calibration always picks (60 MiB limit); p is whatever made one derivation take 0.5 s on the machine
/// that ran <c>init</c> — restic 0.14 chose p = 11 on the development machine. One lane is the unit of work; the
/// whole key is measured with the lanes run one after another (as Go's scrypt runs them) and in parallel (as
/// <see cref="Scrypt.DeriveKey(ReadOnlySpan{byte}, ReadOnlySpan{byte}, ScryptParameters, Span{byte})"/> does).
/// </summary>
public class ScryptBenchmarks
{
    private readonly byte[] _password = "correct horse battery staple"u8.ToArray();
    private readonly byte[] _salt = new byte[64];
    private readonly byte[] _key = new byte[64];

    [Benchmark(Description = "scrypt N=2^15 r=8 p=1")]
    public void OneLane() => Scrypt.DeriveKey(_password, _salt, new ScryptParameters(32768, 8, 1), _key, maxThreads: 1, pairLanes: false);

    // A pair of lanes on one thread against one lane alone, both keeping every second V block: their ratio is the
    // cost of pairing that Scrypt.PlanLanes assumes.
    [Benchmark(Description = "scrypt N=2^15 r=8 p=1, V stride 2")]
    public void OneLaneStride2() => Scrypt.DeriveKey(_password, _salt, new ScryptParameters(32768, 8, 1), _key, maxThreads: 1, stride: 2, pairLanes: false);

    [Benchmark(Description = "scrypt N=2^15 r=8 p=2 as one pair, V stride 2")]
    public void PairStride2() => Scrypt.DeriveKey(_password, _salt, new ScryptParameters(32768, 8, 2), _key, maxThreads: 1, stride: 2, pairLanes: true);

    [Benchmark(Description = "scrypt N=2^15 r=8 p=11, lanes in sequence")]
    public void ResticKeySequential() => Scrypt.DeriveKey(_password, _salt, new ScryptParameters(32768, 8, 11), _key, maxThreads: 1, pairLanes: false);

    [Benchmark(Description = "scrypt N=2^15 r=8 p=7, lanes in parallel")]
    public void OurKeyParallel() => Scrypt.DeriveKey(_password, _salt, new ScryptParameters(32768, 8, 7), _key);

    [Benchmark(Description = "scrypt N=2^15 r=8 p=11, lanes in parallel")]
    public void ResticKeyParallel() => Scrypt.DeriveKey(_password, _salt, new ScryptParameters(32768, 8, 11), _key);
}
