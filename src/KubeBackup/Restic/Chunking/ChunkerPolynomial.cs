using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;

namespace KubeBackup.Restic.Chunking;

/// <summary>A polynomial over GF(2) of degree at most 63, stored in a <c>ulong</c> (bit i is the coefficient of x^i).
/// A repository's chunker polynomial is irreducible and of degree 53.</summary>
public readonly record struct ChunkerPolynomial(ulong Value)
{
    // restic generates degree-53 polynomials: with 8 more bits for the table index the digest arithmetic stays in 64 bits.
    internal const int RandomDegree = 53;

    // restic gives up after this many candidates; with roughly 1 in 27 candidates irreducible, reaching it means the
    // random source is broken rather than unlucky.
    private const int MaxRandomAttempts = 1_000_000;

    /// <summary>The degree (index of the highest set bit), or -1 for the zero polynomial.</summary>
    public int Degree => Deg(Value);

    /// <summary>Whether the polynomial is irreducible (Ben-Or's test), as restic requires of a repository's polynomial.</summary>
    public bool IsIrreducible => Irreducible(Value);

    /// <summary>A random irreducible polynomial of degree 53, generated as restic does on <c>init</c>.</summary>
    public static ChunkerPolynomial CreateRandom()
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        for (var attempt = 0; attempt < MaxRandomAttempts; attempt++)
        {
            RandomNumberGenerator.Fill(bytes);
            var f = BinaryPrimitives.ReadUInt64LittleEndian(bytes);

            // Keep bits 0..53, then force degree 53 and a constant term (without x^0 the polynomial is divisible by x).
            f &= (1UL << (RandomDegree + 1)) - 1;
            f |= (1UL << RandomDegree) | 1;
            if (Irreducible(f))
            {
                return new ChunkerPolynomial(f);
            }
        }

        throw new InvalidOperationException("No irreducible polynomial was found; the system's random number generator is suspect.");
    }

    /// <summary>Parses restic's config form: lower-case hex without a prefix.</summary>
    /// <remarks>Accepts what Go's <c>strconv.ParseUint(s, 16, 64)</c> accepts (restic's parser): one or more hex
    /// digits in either case, no sign, prefix, underscores or white space, and a value that fits in 64 bits.</remarks>
    /// <exception cref="FormatException">The text is not such a number.</exception>
    public static ChunkerPolynomial Parse(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        if (hex.Length == 0)
        {
            throw new FormatException("A chunker polynomial cannot be empty.");
        }

        ulong value = 0;
        foreach (var c in hex)
        {
            int digit = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'a' and <= 'f' => c - 'a' + 10,
                >= 'A' and <= 'F' => c - 'A' + 10,
                _ => throw new FormatException($"'{hex}' is not a hexadecimal chunker polynomial."),
            };

            // Leading zeros are fine (Go allows them); only a set bit shifted out is an overflow.
            if ((value >> 60) != 0)
            {
                throw new FormatException($"The chunker polynomial '{hex}' does not fit in 64 bits.");
            }

            value = (value << 4) | (uint)digit;
        }

        return new ChunkerPolynomial(value);
    }

    /// <summary>Lower-case hex without a prefix, as stored in a repository's config.</summary>
    public override string ToString() => Value.ToString("x", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The polynomial written out with powers of x, highest first (e.g. <c>x^3+x+1</c>), for diagnostics.</summary>
    internal string Expand()
    {
        if (Value == 0)
        {
            return "0";
        }

        var parts = new List<string>();
        for (var i = Degree; i >= 0; i--)
        {
            if ((Value & (1UL << i)) == 0)
            {
                continue;
            }

            parts.Add(i switch
            {
                0 => "1",
                1 => "x",
                _ => "x^" + i.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
        }

        return string.Join('+', parts);
    }

    // ---- GF(2)[x] arithmetic on raw ulongs. Kept internal: the chunker and tests need it, callers do not. ----

    internal static int Deg(ulong x) => 63 - BitOperations.LeadingZeroCount(x);

    internal static ulong Add(ulong x, ulong y) => x ^ y;

    /// <summary>Carry-less product; throws when the product does not fit in 64 bits (as restic's Mul panics).</summary>
    internal static ulong Mul(ulong x, ulong y)
    {
        if (x == 0 || y == 0)
        {
            return 0;
        }

        if (Deg(x) + Deg(y) > 63)
        {
            throw new OverflowException("The product of the polynomials does not fit in 64 bits.");
        }

        ulong result = 0;
        for (; y != 0; y &= y - 1)
        {
            result ^= x << BitOperations.TrailingZeroCount(y);
        }

        return result;
    }

    /// <summary>Quotient and remainder of polynomial division.</summary>
    internal static (ulong Quotient, ulong Remainder) DivMod(ulong x, ulong d)
    {
        if (d == 0)
        {
            throw new DivideByZeroException("Polynomial division by zero.");
        }

        var dd = Deg(d);
        ulong q = 0;
        for (var dx = Deg(x); dx >= dd; dx = Deg(x))
        {
            var shift = dx - dd;
            x ^= d << shift;
            q |= 1UL << shift;
        }

        return (q, x);
    }

    internal static ulong Div(ulong x, ulong d) => DivMod(x, d).Quotient;

    internal static ulong Mod(ulong x, ulong d)
    {
        if (d == 0)
        {
            throw new DivideByZeroException("Polynomial division by zero.");
        }

        var dd = Deg(d);
        for (var dx = Deg(x); dx >= dd; dx = Deg(x))
        {
            x ^= d << (dx - dd);
        }

        return x;
    }

    /// <summary>(x · f) mod g, without ever forming the full product (which may need more than 64 bits).</summary>
    internal static ulong MulMod(ulong x, ulong f, ulong g)
    {
        // Shift-and-add: a runs through x·X^i mod g; each step doubles it and reduces, so nothing exceeds degree 63.
        var a = Mod(x, g);
        ulong result = 0;
        for (; f != 0; f >>= 1)
        {
            if ((f & 1) != 0)
            {
                result ^= a;
            }

            a = Mod(a << 1, g);
        }

        return result;
    }

    /// <summary>Greatest common divisor (Euclid). GCD(x, 0) = x.</summary>
    internal static ulong Gcd(ulong x, ulong y)
    {
        while (y != 0)
        {
            if (Deg(x) < Deg(y))
            {
                (x, y) = (y, x);
                continue;
            }

            (x, y) = (y, Mod(x, y));
        }

        return x;
    }

    /// <summary>Ben-Or's irreducibility test: f is irreducible iff gcd(f, X^(2^i) − X mod f) = 1 for every
    /// i ≤ deg(f)/2 (otherwise f has a factor of degree i).</summary>
    internal static bool Irreducible(ulong f)
    {
        var degree = Deg(f);
        if (degree < 1)
        {
            // 0 and 1 are not irreducible (restic's loop would not run and call them irreducible; no repository
            // polynomial can be either, so the mathematically right answer costs nothing).
            return false;
        }

        // X^(2^i) mod f, squared once per round instead of being recomputed from X for every i as restic does.
        var x = Mod(2, f);
        var power = x;
        for (var i = 1; i <= degree / 2; i++)
        {
            power = MulMod(power, power, f);
            if (Gcd(f, power ^ x) != 1)
            {
                return false;
            }
        }

        return true;
    }
}
