namespace KubeBackup.Restic.Crypto;

/// <summary>scrypt parameters as stored in a restic key file.</summary>
/// <param name="N">CPU/memory cost, a power of two greater than 1.</param>
/// <param name="R">Block size.</param>
/// <param name="P">Parallelism.</param>
public readonly record struct ScryptParameters(int N, int R, int P)
{
    /// <summary>Throws <see cref="ArgumentException"/> unless the parameters are ones restic accepts
    /// (N a power of two &gt; 1, r ≥ 1, p ≥ 1, r·p &lt; 2^30, N ≤ int.MaxValue/128/r).</summary>
    public void Validate() => throw new NotImplementedException();
}

/// <summary>scrypt (RFC 7914) key derivation.</summary>
public static class Scrypt
{
    /// <summary>Derives <paramref name="output"/>.Length bytes from a password and salt.</summary>
    public static void DeriveKey(ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, ScryptParameters parameters, Span<byte> output) => throw new NotImplementedException();

    /// <summary>Chooses parameters the way restic does on <c>init</c> and <c>key add</c>: r = 8, N the largest power of two
    /// whose memory (128·r·N) stays under <paramref name="maxMemoryBytes"/>, and p raised until one derivation takes
    /// about <paramref name="targetTime"/>.</summary>
    public static ScryptParameters Calibrate(TimeSpan targetTime, long maxMemoryBytes) => throw new NotImplementedException();
}
