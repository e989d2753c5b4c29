using BenchmarkDotNet.Attributes;
using KubeBackup.Restic.Crypto;

namespace KubeBackup.Benchmarks;

/// <summary>restic's authenticated encryption (AES-256-CTR then Poly1305-AES over the ciphertext) on a 1 MiB blob,
/// end to end through CryptoKey and each half on its own.</summary>
[MemoryDiagnoser]
public class CryptoBenchmarks
{
    private const int Size = 1 * TestData.MiB;

    private readonly byte[] _iv = new byte[16];
    private readonly byte[] _macS = new byte[16];
    private readonly byte[] _tag = new byte[16];
    private byte[] _plaintext = [];
    private byte[] _sealed = [];
    private byte[] _output = [];
    private CryptoKey _key = null!;
    private Aes256Ctr _hardware = null!;
    private Aes256Ctr _portable = null!;

    [GlobalSetup]
    public void Setup()
    {
        _plaintext = TestData.Random(Size, "crypto");
        _key = CryptoKey.CreateRandom();
        _sealed = _key.Seal(_plaintext);
        _output = new byte[Size + CryptoKey.Overhead];
        _iv[0] = 1;
        _macS[0] = 2;
        _hardware = new Aes256Ctr(_key.EncryptionKey);
        _portable = new Aes256Ctr(_key.EncryptionKey, allowHardware: false);
    }

    [Benchmark(Description = "CryptoKey.Seal 1 MiB")]
    [Throughput(Bytes = Size)]
    public void Seal() => _key.Seal(_plaintext, _output);

    [Benchmark(Description = "CryptoKey.TryOpen 1 MiB")]
    [Throughput(Bytes = Size)]
    public bool TryOpen() => _key.TryOpen(_sealed, _output.AsSpan(0, Size));

    [Benchmark(Description = "Aes256Ctr (AES-NI) 1 MiB")]
    [Throughput(Bytes = Size)]
    public void AesCtrHardware() => _hardware.Transform(_iv, _plaintext, _output.AsSpan(0, Size));

    // The path taken on CPUs without AES-NI: the BCL's AES in ECB mode over batches of counter blocks.
    [Benchmark(Description = "Aes256Ctr (portable) 1 MiB")]
    [Throughput(Bytes = Size)]
    public void AesCtrPortable() => _portable.Transform(_iv, _plaintext, _output.AsSpan(0, Size));

    // OpenSSL's vectorised Poly1305 where libcrypto.so.3 loads (the path a backup takes), then our managed code.
    [Benchmark(Description = "Poly1305 1 MiB")]
    [Throughput(Bytes = Size)]
    public void Poly1305Tag() => Poly1305.ComputeTag(_key.MacR, _macS, _plaintext, _tag);

    [Benchmark(Description = "Poly1305 (managed) 1 MiB")]
    [Throughput(Bytes = Size)]
    public void Poly1305TagManaged() => Poly1305.ComputeTagManaged(_key.MacR, _macS, _plaintext, _tag);
}
