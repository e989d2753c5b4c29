using System.Buffers;
using KubeBackup.Restic.Model;

namespace KubeBackup.Restic.Json;

/// <summary>
/// Reads and writes restic's JSON documents. Writing follows Go's <c>encoding/json</c> byte for byte (field order,
/// omitempty, escaping, time format, Go-quoted node names), so trees we write hash the same as restic's and deduplicate
/// against them. Reading is as lenient as Go's decoder: unknown fields ignored, field names matched case-insensitively,
/// <c>null</c> slices accepted. Malformed input raises <see cref="FormatException"/> (callers wrap it with the file name).
/// </summary>
public static class ResticJson
{
    /// <summary>Writes a tree blob's exact bytes: <c>{"nodes":[…]}</c> and a newline.</summary>
    public static void WriteTree(IReadOnlyList<Node> nodes, IBufferWriter<byte> output) => throw new NotImplementedException();

    /// <summary>Reads a tree blob.</summary>
    public static Tree ReadTree(ReadOnlySpan<byte> json) => throw new NotImplementedException();

    /// <summary>Writes one node as Go's <c>json.Marshal</c> would.</summary>
    public static void WriteNode(Node node, IBufferWriter<byte> output) => throw new NotImplementedException();

    /// <summary>Writes a snapshot document (Go field order, no trailing newline).</summary>
    public static void WriteSnapshot(Snapshot snapshot, IBufferWriter<byte> output) => throw new NotImplementedException();

    /// <summary>Reads a snapshot document (its <see cref="Snapshot.Id"/> is left for the caller to set).</summary>
    public static Snapshot ReadSnapshot(ReadOnlySpan<byte> json) => throw new NotImplementedException();

    /// <summary>Writes an index document with a trailing newline; <c>uncompressed_length</c> only for compressed blobs.</summary>
    public static void WriteIndex(IndexDocument index, IBufferWriter<byte> output) => throw new NotImplementedException();

    /// <summary>Reads an index document, in the current form or the legacy bare-array form.</summary>
    public static IndexDocument ReadIndex(ReadOnlySpan<byte> json) => throw new NotImplementedException();

    /// <summary>Writes a lock document.</summary>
    public static void WriteLock(LockDocument document, IBufferWriter<byte> output) => throw new NotImplementedException();

    /// <summary>Reads a lock document.</summary>
    public static LockDocument ReadLock(ReadOnlySpan<byte> json) => throw new NotImplementedException();

    /// <summary>Writes the config document (no trailing newline).</summary>
    public static void WriteConfig(RepositoryConfig config, IBufferWriter<byte> output) => throw new NotImplementedException();

    /// <summary>Reads the config document (a trailing newline is allowed).</summary>
    public static RepositoryConfig ReadConfig(ReadOnlySpan<byte> json) => throw new NotImplementedException();

    /// <summary>Writes a key file.</summary>
    public static void WriteKey(KeyDocument key, IBufferWriter<byte> output) => throw new NotImplementedException();

    /// <summary>Reads a key file.</summary>
    public static KeyDocument ReadKey(ReadOnlySpan<byte> json) => throw new NotImplementedException();

    /// <summary>Writes the master key JSON.</summary>
    public static void WriteMasterKey(MasterKeyDocument key, IBufferWriter<byte> output) => throw new NotImplementedException();

    /// <summary>Reads the master key JSON.</summary>
    public static MasterKeyDocument ReadMasterKey(ReadOnlySpan<byte> json) => throw new NotImplementedException();
}
