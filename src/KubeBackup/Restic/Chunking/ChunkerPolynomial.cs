namespace KubeBackup.Restic.Chunking;

/// <summary>A polynomial over GF(2) of degree at most 63, stored in a <c>ulong</c> (bit i is the coefficient of x^i).
/// A repository's chunker polynomial is irreducible and of degree 53.</summary>
public readonly record struct ChunkerPolynomial(ulong Value)
{
    /// <summary>The degree (index of the highest set bit), or -1 for the zero polynomial.</summary>
    public int Degree => throw new NotImplementedException();

    /// <summary>Whether the polynomial is irreducible (Ben-Or's test), as restic requires of a repository's polynomial.</summary>
    public bool IsIrreducible => throw new NotImplementedException();

    /// <summary>A random irreducible polynomial of degree 53, generated as restic does on <c>init</c>.</summary>
    public static ChunkerPolynomial CreateRandom() => throw new NotImplementedException();

    /// <summary>Parses restic's config form: lower-case hex without a prefix.</summary>
    public static ChunkerPolynomial Parse(string hex) => throw new NotImplementedException();

    /// <summary>Lower-case hex without a prefix, as stored in a repository's config.</summary>
    public override string ToString() => throw new NotImplementedException();
}
