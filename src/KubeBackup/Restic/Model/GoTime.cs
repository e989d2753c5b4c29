namespace KubeBackup.Restic.Model;

/// <summary>
/// A point in time with nanosecond precision and the UTC offset it was recorded in, as Go's <c>time.Time</c> marshals
/// it (RFC 3339 with up to 9 fractional digits). <see cref="DateTimeOffset"/> has 100 ns ticks and would lose digits that
/// restic keeps, so the engine carries this instead.
/// </summary>
public readonly struct GoTime : IEquatable<GoTime>, IComparable<GoTime>
{
    /// <summary>Creates a time from seconds and nanoseconds since the Unix epoch (UTC) and an offset in seconds.</summary>
    public GoTime(long unixSeconds, int nanoseconds, int offsetSeconds) => throw new NotImplementedException();

    /// <summary>Seconds since 1970-01-01T00:00:00Z.</summary>
    public long UnixSeconds => throw new NotImplementedException();

    /// <summary>Nanoseconds within the second, 0 to 999,999,999.</summary>
    public int Nanoseconds => throw new NotImplementedException();

    /// <summary>The UTC offset the time was recorded in, in seconds east of UTC.</summary>
    public int OffsetSeconds => throw new NotImplementedException();

    /// <summary>The current time in the local offset.</summary>
    public static GoTime Now() => throw new NotImplementedException();

    /// <summary>Converts (losing digits below 100 ns).</summary>
    public DateTimeOffset ToDateTimeOffset() => throw new NotImplementedException();

    /// <summary>Converts, keeping the offset.</summary>
    public static GoTime FromDateTimeOffset(DateTimeOffset value) => throw new NotImplementedException();

    /// <summary>Parses RFC 3339 (as Go's <c>time.Time.UnmarshalJSON</c> accepts it; without the quotes).</summary>
    public static GoTime Parse(ReadOnlySpan<byte> utf8) => throw new NotImplementedException();

    /// <summary>Formats as Go's RFC3339Nano: trailing fractional zeros trimmed, <c>Z</c> for offset zero, else <c>±hh:mm</c>.
    /// The year is clamped to 0…9999 first, as restic does before encoding.</summary>
    public override string ToString() => throw new NotImplementedException();

    /// <summary>Writes the RFC3339Nano form as UTF-8, returning the byte count (at most 35).</summary>
    public int FormatUtf8(Span<byte> destination) => throw new NotImplementedException();

    /// <summary>Same instant and same offset.</summary>
    public bool Equals(GoTime other) => throw new NotImplementedException();

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is GoTime other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => throw new NotImplementedException();

    /// <summary>Orders by instant (the offset does not matter).</summary>
    public int CompareTo(GoTime other) => throw new NotImplementedException();

    /// <summary>Equality.</summary>
    public static bool operator ==(GoTime left, GoTime right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(GoTime left, GoTime right) => !left.Equals(right);
}
