using System.Diagnostics;

namespace KubeBackup.Restic.Model;

/// <summary>
/// A point in time with nanosecond precision and the UTC offset it was recorded in, as Go's <c>time.Time</c> marshals
/// it (RFC 3339 with up to 9 fractional digits). <see cref="DateTimeOffset"/> has 100 ns ticks and would lose digits that
/// restic keeps, so the engine carries this instead.
/// </summary>
/// <remarks>
/// <c>default(GoTime)</c> is Go's zero time, 0001-01-01T00:00:00Z (not the Unix epoch), so a node whose times were never
/// set serialises exactly as a Go node with zero times does, and a JSON <c>null</c> or missing time reads as that value.
/// </remarks>
public readonly struct GoTime : IEquatable<GoTime>, IComparable<GoTime>
{
    // Seconds from 0001-01-01T00:00:00Z to 1970-01-01T00:00:00Z. Go's zero time is year 1, and storing the seconds
    // relative to it makes default(GoTime) equal to Go's zero value.
    private const long UnixToYear1 = 62_135_596_800;

    /// <summary>The largest offset (in seconds either side of UTC) that the <c>±hh:mm</c> form can carry: 99:59:59.</summary>
    private const int MaxOffsetSeconds = 99 * 3600 + 59 * 60 + 59;

    private const int NanosPerSecond = 1_000_000_000;

    private const long MaxAbsSeconds = 1L << 60;

    private readonly long _secondsSinceYear1;
    private readonly int _nanoseconds;
    private readonly int _offsetSeconds;

    /// <summary>Creates a time from seconds and nanoseconds since the Unix epoch (UTC) and an offset in seconds.</summary>
    /// <param name="unixSeconds">Seconds since 1970-01-01T00:00:00Z.</param>
    /// <param name="nanoseconds">Nanoseconds to add; values outside 0…999,999,999 carry into the seconds, as Go's
    /// <c>time.Unix</c> does.</param>
    /// <param name="offsetSeconds">Seconds east of UTC, at most 99:59:59 either way.</param>
    /// <exception cref="ArgumentOutOfRangeException">The offset or the instant is out of range.</exception>
    public GoTime(long unixSeconds, int nanoseconds, int offsetSeconds)
    {
        if (offsetSeconds is < -MaxOffsetSeconds or > MaxOffsetSeconds)
        {
            throw new ArgumentOutOfRangeException(nameof(offsetSeconds), offsetSeconds, "The offset must be within ±99:59:59.");
        }

        long carry = Math.DivRem(nanoseconds, NanosPerSecond, out int ns);
        if (ns < 0)
        {
            ns += NanosPerSecond;
            carry--;
        }

        // Far beyond any real date, but it keeps every later sum (offsets, civil-date arithmetic) from overflowing.
        if (unixSeconds is < -MaxAbsSeconds or > MaxAbsSeconds)
        {
            throw new ArgumentOutOfRangeException(nameof(unixSeconds), unixSeconds, "The time is out of range.");
        }

        _secondsSinceYear1 = unixSeconds + carry + UnixToYear1;

        _nanoseconds = ns;
        _offsetSeconds = offsetSeconds;
    }

    // The internal form, already normalised: seconds since 0001-01-01T00:00:00Z. The extra flag only tells this
    // constructor apart from the public one, which takes Unix seconds.
    private GoTime(long secondsSinceYear1, int nanoseconds, int offsetSeconds, bool sinceYear1)
    {
        Debug.Assert(sinceYear1);
        _secondsSinceYear1 = secondsSinceYear1;
        _nanoseconds = nanoseconds;
        _offsetSeconds = offsetSeconds;
    }

    /// <summary>Seconds since 1970-01-01T00:00:00Z.</summary>
    public long UnixSeconds => _secondsSinceYear1 - UnixToYear1;

    /// <summary>Nanoseconds within the second, 0 to 999,999,999.</summary>
    public int Nanoseconds => _nanoseconds;

    /// <summary>The UTC offset the time was recorded in, in seconds east of UTC.</summary>
    public int OffsetSeconds => _offsetSeconds;

    /// <summary>Whether this is Go's zero time, 0001-01-01T00:00:00 UTC (whatever the offset), as Go's <c>IsZero</c>.</summary>
    public bool IsZero => _secondsSinceYear1 == 0 && _nanoseconds == 0;

    /// <summary>The current time in the local offset.</summary>
    public static GoTime Now() => FromDateTimeOffset(DateTimeOffset.Now);

    /// <summary>Converts (losing digits below 100 ns).</summary>
    /// <remarks>A <see cref="DateTimeOffset"/> offset is whole minutes within ±14 hours. Other offsets (legal in Go) are
    /// truncated to whole minutes, as Go prints them, and limited to ±14 hours; the instant is kept either way.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">The time is outside the years 1 to 9999.</exception>
    public DateTimeOffset ToDateTimeOffset()
    {
        int offsetMinutes = Math.Clamp(_offsetSeconds / 60, -14 * 60, 14 * 60);
        if (_secondsSinceYear1 < 0 || _secondsSinceYear1 > DateTime.MaxValue.Ticks / TimeSpan.TicksPerSecond)
        {
            throw new ArgumentOutOfRangeException(nameof(UnixSeconds), "The time is outside the range of DateTimeOffset.");
        }

        long utcTicks = _secondsSinceYear1 * TimeSpan.TicksPerSecond + _nanoseconds / 100;
        var utc = new DateTimeOffset(utcTicks, TimeSpan.Zero);
        return utc.ToOffset(TimeSpan.FromMinutes(offsetMinutes));
    }

    /// <summary>Converts, keeping the offset.</summary>
    public static GoTime FromDateTimeOffset(DateTimeOffset value)
    {
        long utcTicks = value.UtcTicks;
        long seconds = utcTicks / TimeSpan.TicksPerSecond;
        int nanos = (int)(utcTicks % TimeSpan.TicksPerSecond) * 100;
        return new GoTime(seconds, nanos, (int)(value.Offset.Ticks / TimeSpan.TicksPerSecond), sinceYear1: true);
    }

    /// <summary>Parses RFC 3339 (as Go's <c>time.Time.UnmarshalJSON</c> accepts it; without the quotes).</summary>
    /// <remarks>
    /// Accepted like Go 1.19 (restic 0.14): a 1- or 2-digit hour, a fraction of any length after <c>.</c> or <c>,</c>
    /// (digits past the ninth are truncated), <c>Z</c> or <c>±hh:mm</c>. RFC 3339's lower-case <c>t</c> and <c>z</c> are
    /// accepted too. Dates are range-checked (month, day of month, hour, minute, second).
    /// </remarks>
    /// <exception cref="FormatException">The text is not such a time.</exception>
    public static GoTime Parse(ReadOnlySpan<byte> utf8)
    {
        if (!TryParse(utf8, out var value))
        {
            throw new FormatException($"'{System.Text.Encoding.UTF8.GetString(utf8)}' is not an RFC 3339 time.");
        }

        return value;
    }

    /// <summary>Parses RFC 3339 text; see <see cref="Parse(ReadOnlySpan{byte})"/>.</summary>
    /// <exception cref="FormatException">The text is not such a time.</exception>
    public static GoTime Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Parse(System.Text.Encoding.UTF8.GetBytes(text));
    }

    /// <summary>Tries to parse RFC 3339 as <see cref="Parse(ReadOnlySpan{byte})"/> does.</summary>
    public static bool TryParse(ReadOnlySpan<byte> s, out GoTime value)
    {
        value = default;
        int i = 0;
        if (!Digits(s, ref i, 4, out int year) || !Expect(s, ref i, (byte)'-')
            || !Digits(s, ref i, 2, out int month) || !Expect(s, ref i, (byte)'-')
            || !Digits(s, ref i, 2, out int day))
        {
            return false;
        }

        if (i >= s.Length || (s[i] != 'T' && s[i] != 't'))
        {
            return false;
        }

        i++;

        // Go's RFC 3339 layout uses "15" for the hour, which its parser reads as one or two digits.
        if (!Digits(s, ref i, 1, out int hour))
        {
            return false;
        }

        if (i < s.Length && IsDigit(s[i]))
        {
            hour = hour * 10 + (s[i] - '0');
            i++;
        }

        if (!Expect(s, ref i, (byte)':') || !Digits(s, ref i, 2, out int minute)
            || !Expect(s, ref i, (byte)':') || !Digits(s, ref i, 2, out int second))
        {
            return false;
        }

        if (month is < 1 or > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        int nanos = 0;
        if (i + 1 < s.Length && (s[i] == '.' || s[i] == ',') && IsDigit(s[i + 1]))
        {
            i++;
            int digits = 0;
            while (i < s.Length && IsDigit(s[i]))
            {
                // Go keeps nine digits and drops the rest without rounding.
                if (digits < 9)
                {
                    nanos = nanos * 10 + (s[i] - '0');
                    digits++;
                }

                i++;
            }

            for (; digits < 9; digits++)
            {
                nanos *= 10;
            }
        }

        int offset;
        if (i < s.Length && (s[i] == 'Z' || s[i] == 'z'))
        {
            offset = 0;
            i++;
        }
        else
        {
            if (i >= s.Length || (s[i] != '+' && s[i] != '-'))
            {
                return false;
            }

            bool negative = s[i] == '-';
            i++;
            if (!Digits(s, ref i, 2, out int offsetHours) || !Expect(s, ref i, (byte)':')
                || !Digits(s, ref i, 2, out int offsetMinutes) || offsetMinutes > 59)
            {
                return false;
            }

            offset = (offsetHours * 60 + offsetMinutes) * 60;
            if (negative)
            {
                offset = -offset;
            }
        }

        if (i != s.Length)
        {
            return false;
        }

        long wallSeconds = DaysFromCivil(year, month, day) * 86400L + hour * 3600 + minute * 60 + second;
        value = new GoTime(wallSeconds - offset, nanos, offset, sinceYear1: true);
        return true;
    }

    /// <summary>Formats as Go's RFC3339Nano: trailing fractional zeros trimmed, <c>Z</c> for offset zero, else <c>±hh:mm</c>.
    /// The year is clamped to 0…9999 first, as restic does before encoding.</summary>
    public override string ToString()
    {
        Span<byte> buffer = stackalloc byte[MaxFormattedLength];
        int n = FormatUtf8(buffer);
        return System.Text.Encoding.ASCII.GetString(buffer[..n]);
    }

    /// <summary>The most bytes <see cref="FormatUtf8"/> writes.</summary>
    internal const int MaxFormattedLength = 35;

    /// <summary>Writes the RFC3339Nano form as UTF-8, returning the byte count (at most 35).</summary>
    /// <exception cref="ArgumentException">The destination is too small for this time.</exception>
    public int FormatUtf8(Span<byte> destination)
    {
        // Wall-clock seconds since year 1 in the recorded offset. Go prints the wall clock in the time's own zone.
        long wall = _secondsSinceYear1 + _offsetSeconds;
        long days = CivilDate.FloorDiv(wall, 86400);
        int secondOfDay = (int)(wall - days * 86400);
        CivilFromDays(days, out long year, out int month, out int day);

        // restic's fixTime: Go's encoder refuses years outside 0…9999, so restic moves the year into range with
        // AddDate, which keeps month, day and clock but normalises (Feb 29 of year 10000 becomes Mar 1 of 9999).
        if (year < 0 || year > 9999)
        {
            days = DaysFromCivil(year < 0 ? 0 : 9999, month, day);
            CivilFromDays(days, out year, out month, out day);
        }

        int hour = secondOfDay / 3600;
        int minute = secondOfDay / 60 % 60;
        int second = secondOfDay % 60;

        int zoneMinutes = _offsetSeconds / 60;
        int length = 19 + FractionLength(_nanoseconds) + (_offsetSeconds == 0 ? 1 : 6);

        if (destination.Length < length)
        {
            throw new ArgumentException($"The destination needs {length} bytes.", nameof(destination));
        }

        int p = 0;
        Put(destination, ref p, (int)year, 4);
        destination[p++] = (byte)'-';
        Put(destination, ref p, month, 2);
        destination[p++] = (byte)'-';
        Put(destination, ref p, day, 2);
        destination[p++] = (byte)'T';
        Put(destination, ref p, hour, 2);
        destination[p++] = (byte)':';
        Put(destination, ref p, minute, 2);
        destination[p++] = (byte)':';
        Put(destination, ref p, second, 2);

        int fractionDigits = FractionLength(_nanoseconds) - 1;
        if (fractionDigits > 0)
        {
            destination[p++] = (byte)'.';
            int scaled = _nanoseconds;
            for (int k = 9; k > fractionDigits; k--)
            {
                scaled /= 10;
            }

            Put(destination, ref p, scaled, fractionDigits);
        }

        if (_offsetSeconds == 0)
        {
            destination[p++] = (byte)'Z';
        }
        else
        {
            // Go divides the offset into whole minutes truncating toward zero and takes the sign from that, so an
            // offset of -30 s prints as "+00:00" (only historic local-mean-time zones have such offsets).
            if (zoneMinutes < 0)
            {
                destination[p++] = (byte)'-';
                zoneMinutes = -zoneMinutes;
            }
            else
            {
                destination[p++] = (byte)'+';
            }

            Put(destination, ref p, zoneMinutes / 60, 2);
            destination[p++] = (byte)':';
            Put(destination, ref p, zoneMinutes % 60, 2);
        }

        return p;
    }

    /// <summary>Same instant and same offset.</summary>
    public bool Equals(GoTime other) =>
        _secondsSinceYear1 == other._secondsSinceYear1 && _nanoseconds == other._nanoseconds && _offsetSeconds == other._offsetSeconds;

    /// <summary>Whether both name the same instant, whatever their offsets (Go's <c>Time.Equal</c>).</summary>
    public bool SameInstant(GoTime other) => _secondsSinceYear1 == other._secondsSinceYear1 && _nanoseconds == other._nanoseconds;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is GoTime other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_secondsSinceYear1, _nanoseconds, _offsetSeconds);

    /// <summary>Orders by instant (the offset does not matter).</summary>
    public int CompareTo(GoTime other)
    {
        int c = _secondsSinceYear1.CompareTo(other._secondsSinceYear1);
        return c != 0 ? c : _nanoseconds.CompareTo(other._nanoseconds);
    }

    /// <summary>Equality.</summary>
    public static bool operator ==(GoTime left, GoTime right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(GoTime left, GoTime right) => !left.Equals(right);

    /// <summary>Earlier instant.</summary>
    public static bool operator <(GoTime left, GoTime right) => left.CompareTo(right) < 0;

    /// <summary>Later instant.</summary>
    public static bool operator >(GoTime left, GoTime right) => left.CompareTo(right) > 0;

    /// <summary>Earlier or same instant.</summary>
    public static bool operator <=(GoTime left, GoTime right) => left.CompareTo(right) <= 0;

    /// <summary>Later or same instant.</summary>
    public static bool operator >=(GoTime left, GoTime right) => left.CompareTo(right) >= 0;

    // 1 for the dot plus the digits left after trimming trailing zeros; 0 when there is no fraction at all.
    private static int FractionLength(int nanos)
    {
        if (nanos == 0)
        {
            return 0;
        }

        int digits = 9;
        while (nanos % 10 == 0)
        {
            nanos /= 10;
            digits--;
        }

        return digits + 1;
    }

    private static void Put(Span<byte> destination, ref int p, int value, int width)
    {
        for (int k = width - 1; k >= 0; k--)
        {
            destination[p + k] = (byte)('0' + value % 10);
            value /= 10;
        }

        p += width;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static bool Expect(ReadOnlySpan<byte> s, ref int i, byte expected)
    {
        if (i < s.Length && s[i] == expected)
        {
            i++;
            return true;
        }

        return false;
    }

    private static bool Digits(ReadOnlySpan<byte> s, ref int i, int count, out int value)
    {
        value = 0;
        if (i + count > s.Length)
        {
            return false;
        }

        for (int k = 0; k < count; k++)
        {
            byte b = s[i + k];
            if (!IsDigit(b))
            {
                return false;
            }

            value = value * 10 + (b - '0');
        }

        i += count;
        return true;
    }

    private static int DaysInMonth(int year, int month) =>
        month == 2 ? (IsLeap(year) ? 29 : 28) : (month is 4 or 6 or 9 or 11 ? 30 : 31);

    private static bool IsLeap(long year) => year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);

    /// <summary>Days from 0001-01-01 (Go's zero time, where this type counts from) to 1970-01-01.</summary>
    private const long DaysFromYearOneToUnixEpoch = 719_162;

    // Days since 0001-01-01 of a proleptic Gregorian date (astronomical years, so year 0 exists). The day may overflow
    // its month; the result then falls in the next month, which is what Go's normalising Date does.
    private static long DaysFromCivil(long year, int month, int day) => CivilDate.DaysFromCivil(year, month, day) + DaysFromYearOneToUnixEpoch;

    private static void CivilFromDays(long days, out long year, out int month, out int day) =>
        CivilDate.CivilFromDays(days - DaysFromYearOneToUnixEpoch, out year, out month, out day);
}
