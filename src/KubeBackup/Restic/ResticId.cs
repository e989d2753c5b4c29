using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace KubeBackup.Restic;

/// <summary>
/// A 32-byte restic ID: the SHA-256 of a blob's plaintext or of a stored file, written as 64 lower-case hex characters.
/// Held as four machine words so that equality and hashing in the index are cheap.
/// </summary>
public readonly struct ResticId : IEquatable<ResticId>, IComparable<ResticId>, ISpanFormattable
{
    /// <summary>The length of an ID in bytes.</summary>
    public const int Size = 32;

    /// <summary>The length of an ID in hex characters.</summary>
    public const int HexLength = 64;

    // Big-endian words so that ordering by (w0, w1, w2, w3) equals byte-wise ordering of the ID.
    private readonly ulong _w0, _w1, _w2, _w3;

    private ResticId(ulong w0, ulong w1, ulong w2, ulong w3)
    {
        _w0 = w0; _w1 = w1; _w2 = w2; _w3 = w3;
    }

    /// <summary>The all-zero ID, which restic treats as "no ID".</summary>
    public static ResticId Zero => default;

    /// <summary>Whether this is the all-zero ID.</summary>
    public bool IsZero => (_w0 | _w1 | _w2 | _w3) == 0;

    /// <summary>Creates an ID from its 32 bytes.</summary>
    public static ResticId FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"An ID has {Size} bytes, not {bytes.Length}.", nameof(bytes));
        }

        return new ResticId(
            BinaryPrimitives.ReadUInt64BigEndian(bytes),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]));
    }

    /// <summary>The SHA-256 of <paramref name="data"/> as an ID (hardware-accelerated where the CPU offers it).</summary>
    public static ResticId Hash(ReadOnlySpan<byte> data)
    {
        Span<byte> digest = stackalloc byte[Size];
        SHA256.HashData(data, digest);
        return FromBytes(digest);
    }

    /// <summary>A random ID, for repository IDs.</summary>
    public static ResticId Random()
    {
        Span<byte> bytes = stackalloc byte[Size];
        RandomNumberGenerator.Fill(bytes);
        return FromBytes(bytes);
    }

    /// <summary>Writes the 32 bytes of the ID into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _w0);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _w1);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _w2);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _w3);
    }

    /// <summary>The 32 bytes of the ID.</summary>
    public byte[] ToByteArray()
    {
        var bytes = new byte[Size];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>Parses 64 hex characters (either case).</summary>
    /// <exception cref="FormatException">The text is not a 64-character hex string.</exception>
    public static ResticId Parse(ReadOnlySpan<char> hex)
    {
        if (!TryParse(hex, out var id))
        {
            throw new FormatException("An ID is 64 hex characters.");
        }

        return id;
    }

    /// <summary>Tries to parse 64 hex characters (either case).</summary>
    public static bool TryParse([NotNullWhen(true)] string? hex, out ResticId id) => TryParse(hex.AsSpan(), out id);

    /// <summary>Tries to parse 64 hex characters (either case).</summary>
    public static bool TryParse(ReadOnlySpan<char> hex, out ResticId id)
    {
        id = default;
        if (hex.Length != HexLength)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[Size];
        if (Convert.FromHexString(hex, bytes, out _, out int written) != System.Buffers.OperationStatus.Done || written != Size)
        {
            return false;
        }

        id = FromBytes(bytes);
        return true;
    }

    /// <summary>Tries to parse 64 hex characters given as UTF-8 bytes.</summary>
    public static bool TryParseUtf8(ReadOnlySpan<byte> hex, out ResticId id)
    {
        id = default;
        if (hex.Length != HexLength)
        {
            return false;
        }

        // The runtime's decoder is vectorized; indexes and trees hold these by the hundred thousand.
        Span<byte> bytes = stackalloc byte[Size];
        if (Convert.FromHexString(hex, bytes, out _, out int written) != System.Buffers.OperationStatus.Done || written != Size)
        {
            return false;
        }

        id = FromBytes(bytes);
        return true;
    }

    /// <summary>Whether <paramref name="name"/> looks like an ID (64 lower-case hex characters). Backends skip other names.</summary>
    public static bool IsIdName(ReadOnlySpan<char> name)
    {
        if (name.Length != HexLength)
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Writes the 64 lower-case hex characters as UTF-8 into <paramref name="destination"/>.</summary>
    public void FormatUtf8(Span<byte> destination)
    {
        Span<byte> bytes = stackalloc byte[Size];
        CopyTo(bytes);
        for (int i = 0; i < Size; i++)
        {
            destination[2 * i] = (byte)"0123456789abcdef"[bytes[i] >> 4];
            destination[2 * i + 1] = (byte)"0123456789abcdef"[bytes[i] & 0xF];
        }
    }

    /// <summary>The 64 lower-case hex characters.</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Size];
        CopyTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>The first 8 hex characters, as restic shows IDs to people.</summary>
    public string ToShortString() => ToString()[..8];

    /// <inheritdoc />
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <inheritdoc />
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        if (destination.Length < HexLength)
        {
            charsWritten = 0;
            return false;
        }

        Span<byte> bytes = stackalloc byte[Size];
        CopyTo(bytes);
        Convert.TryToHexStringLower(bytes, destination, out charsWritten);
        return true;
    }

    /// <summary>Whether the hex form of this ID starts with <paramref name="prefix"/> (case-insensitive).</summary>
    public bool HasPrefix(ReadOnlySpan<char> prefix)
    {
        Span<char> hex = stackalloc char[HexLength];
        TryFormat(hex, out _, default, null);
        return prefix.Length <= HexLength && hex.StartsWith(prefix, StringComparison.OrdinalIgnoreCase);
    }

    /// <inheritdoc />
    public bool Equals(ResticId other) => _w0 == other._w0 && _w1 == other._w1 && _w2 == other._w2 && _w3 == other._w3;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is ResticId other && Equals(other);

    /// <inheritdoc />
    // The words are uniformly distributed hash output, so any one of them is a good hash code.
    public override int GetHashCode() => (int)(_w1 ^ (_w1 >> 32));

    /// <inheritdoc />
    public int CompareTo(ResticId other)
    {
        int c = _w0.CompareTo(other._w0);
        if (c != 0) return c;
        c = _w1.CompareTo(other._w1);
        if (c != 0) return c;
        c = _w2.CompareTo(other._w2);
        return c != 0 ? c : _w3.CompareTo(other._w3);
    }

    /// <summary>Equality.</summary>
    public static bool operator ==(ResticId left, ResticId right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(ResticId left, ResticId right) => !left.Equals(right);

    /// <summary>Byte-wise ordering.</summary>
    public static bool operator <(ResticId left, ResticId right) => left.CompareTo(right) < 0;

    /// <summary>Byte-wise ordering.</summary>
    public static bool operator >(ResticId left, ResticId right) => left.CompareTo(right) > 0;

    /// <summary>Byte-wise ordering.</summary>
    public static bool operator <=(ResticId left, ResticId right) => left.CompareTo(right) <= 0;

    /// <summary>Byte-wise ordering.</summary>
    public static bool operator >=(ResticId left, ResticId right) => left.CompareTo(right) >= 0;
}
