namespace KubeBackup.Restic.Json;

/// <summary>Go's <c>strconv.Quote</c> and <c>strconv.Unquote</c> over raw bytes. restic stores node names Go-quoted
/// (without the outer quotes) inside the JSON string, so names that are not valid UTF-8 survive.</summary>
public static class GoStrconv
{
    /// <summary>Go's <c>strconv.Quote</c> of raw bytes, without the surrounding quotes.</summary>
    public static string QuoteInner(ReadOnlySpan<byte> raw) => throw new NotImplementedException();

    /// <summary>Go's <c>strconv.Unquote</c> of <c>"</c> + <paramref name="inner"/> + <c>"</c>, giving raw bytes.</summary>
    /// <exception cref="FormatException">The text is not a valid Go quoted string body.</exception>
    public static byte[] UnquoteInner(ReadOnlySpan<char> inner) => throw new NotImplementedException();
}
