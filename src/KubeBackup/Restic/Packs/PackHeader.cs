using System.Buffers.Binary;
using KubeBackup.Restic.Crypto;
using KubeBackup.Restic.Model;

namespace KubeBackup.Restic.Packs;

/// <summary>
/// The trailer of a pack: the sealed list of its blobs followed by the 4-byte little-endian length of that sealed list.
/// Entries are 37 bytes (type, length, ID) or 41 bytes for compressed blobs (type, length, uncompressed length, ID).
/// </summary>
internal static class PackHeader
{
    /// <summary>Size of an entry for an uncompressed blob.</summary>
    public const int PlainEntrySize = 1 + 4 + ResticId.Size;

    /// <summary>Size of an entry for a compressed blob.</summary>
    public const int CompressedEntrySize = 1 + 4 + 4 + ResticId.Size;

    /// <summary>The largest sealed header restic accepts.</summary>
    public const int MaxHeaderSize = 16 * 1024 * 1024 + 4;

    /// <summary>A pack smaller than this cannot be valid: one entry, the crypto overhead and the length field.</summary>
    public const int MinPackSize = PlainEntrySize + CryptoKey.Overhead + 4;

    /// <summary>How many bytes from the end of a pack to read first: enough for the headers of most small packs, as restic does.</summary>
    public const int InitialTailRead = 15 * CompressedEntrySize + CryptoKey.Overhead + 4;

    /// <summary>The plaintext size of one entry.</summary>
    public static int EntrySize(bool compressed) => compressed ? CompressedEntrySize : PlainEntrySize;

    /// <summary>The exact size of a pack with these blobs: the blobs, the sealed header and its length field.
    /// <c>restic check</c> requires the file to have exactly this size.</summary>
    public static long PackSize(IEnumerable<PackBlob> blobs)
    {
        long size = CryptoKey.Overhead + 4;
        foreach (var b in blobs)
        {
            size += b.Length + EntrySize(b.IsCompressed);
        }

        return size;
    }

    /// <summary>Writes the plaintext entries of a header.</summary>
    public static void WriteEntries(IReadOnlyList<PackBlob> blobs, Span<byte> destination)
    {
        int pos = 0;
        foreach (var b in blobs)
        {
            byte type = (byte)((b.Type == BlobType.Tree ? 1 : 0) | (b.IsCompressed ? 2 : 0));
            destination[pos++] = type;
            BinaryPrimitives.WriteUInt32LittleEndian(destination[pos..], b.Length);
            pos += 4;
            if (b.IsCompressed)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(destination[pos..], b.UncompressedLength);
                pos += 4;
            }

            b.Id.CopyTo(destination[pos..]);
            pos += ResticId.Size;
        }
    }

    /// <summary>The plaintext length of the entries of these blobs.</summary>
    public static int EntriesLength(IReadOnlyList<PackBlob> blobs)
    {
        int n = 0;
        foreach (var b in blobs)
        {
            n += EntrySize(b.IsCompressed);
        }

        return n;
    }

    /// <summary>Parses decrypted header entries, computing each blob's offset from the lengths before it.</summary>
    /// <exception cref="FormatException">An entry has an unknown type or is truncated.</exception>
    public static List<PackBlob> ParseEntries(ReadOnlySpan<byte> entries)
    {
        var blobs = new List<PackBlob>(entries.Length / PlainEntrySize);
        uint offset = 0;
        int pos = 0;
        while (pos < entries.Length)
        {
            byte type = entries[pos];
            if (type > 3)
            {
                throw new FormatException($"pack header entry {blobs.Count} has invalid type {type}");
            }

            bool compressed = (type & 2) != 0;
            int size = EntrySize(compressed);
            if (entries.Length - pos < size)
            {
                throw new FormatException("pack header is truncated");
            }

            uint length = BinaryPrimitives.ReadUInt32LittleEndian(entries[(pos + 1)..]);
            uint ulen = compressed ? BinaryPrimitives.ReadUInt32LittleEndian(entries[(pos + 5)..]) : 0;
            var id = ResticId.FromBytes(entries.Slice(pos + size - ResticId.Size, ResticId.Size));
            if (compressed && ulen == 0)
            {
                throw new FormatException($"pack header entry {blobs.Count} is compressed with uncompressed length 0");
            }

            blobs.Add(new PackBlob(id, (type & 1) != 0 ? BlobType.Tree : BlobType.Data, offset, length, ulen));
            offset = checked(offset + length);
            pos += size;
        }

        return blobs;
    }

    /// <summary>Reads and verifies the header of a pack in a backend.</summary>
    /// <exception cref="IntegrityException">The header is missing, too large, fails its MAC, or is malformed.</exception>
    public static async Task<List<PackBlob>> ReadAsync(Storage.IBackend backend, ResticId packId, long packSize, CryptoKey key, CancellationToken cancellationToken)
    {
        var handle = new Storage.FileHandle(Storage.FileType.Pack, packId.ToString());
        if (packSize < MinPackSize)
        {
            throw new IntegrityException($"pack is too short ({packSize} bytes) to hold a header", handle.RelativePath);
        }

        int tail = (int)Math.Min(packSize, InitialTailRead);
        var buffer = new byte[tail];
        await backend.ReadAsync(handle, packSize - tail, buffer, cancellationToken).ConfigureAwait(false);
        uint headerLength = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(tail - 4));
        if (headerLength < CryptoKey.Overhead || headerLength > MaxHeaderSize || headerLength > packSize - 4)
        {
            throw new IntegrityException($"pack header length {headerLength} is invalid for a pack of {packSize} bytes", handle.RelativePath);
        }

        byte[] sealedHeader;
        if (headerLength + 4 <= tail)
        {
            sealedHeader = buffer.AsSpan(tail - 4 - (int)headerLength, (int)headerLength).ToArray();
        }
        else
        {
            sealedHeader = new byte[headerLength];
            await backend.ReadAsync(handle, packSize - 4 - headerLength, sealedHeader, cancellationToken).ConfigureAwait(false);
        }

        var plain = new byte[headerLength - CryptoKey.Overhead];
        if (!key.TryOpen(sealedHeader, plain))
        {
            throw new IntegrityException("pack header failed authentication (MAC mismatch)", handle.RelativePath);
        }

        try
        {
            return ParseEntries(plain);
        }
        catch (FormatException ex)
        {
            throw new IntegrityException(ex.Message, handle.RelativePath, ex);
        }
    }
}
