using System.Text;
using KubeBackup.Restic.Model;

namespace KubeBackup.Tests.Restic.Json;

public class GoTimeTests
{
    [Theory]
    [InlineData("2026-11-27T06:05:01.064431096Z")]
    [InlineData("2006-01-02T15:04:05.999999999+07:00")]
    [InlineData("2006-01-02T15:04:05.5-03:30")]
    [InlineData("2006-01-02T15:04:05+14:00")]
    [InlineData("1969-12-31T23:59:59.000000001Z")]
    [InlineData("0001-01-01T00:00:00Z")]
    [InlineData("0000-02-29T12:00:00.1-00:01")]
    [InlineData("9999-12-31T23:59:59.999999999-12:00")]
    public void Canonical_text_round_trips(string text)
    {
        var time = GoTime.Parse(Encoding.ASCII.GetBytes(text));
        Assert.Equal(text, time.ToString());
    }

    [Fact]
    public void Parse_gives_instant_nanoseconds_and_offset()
    {
        var t = GoTime.Parse("2006-01-02T15:04:05.999999999+07:00"u8);
        Assert.Equal(new DateTimeOffset(2006, 1, 2, 8, 4, 5, TimeSpan.Zero).ToUnixTimeSeconds(), t.UnixSeconds);
        Assert.Equal(999_999_999, t.Nanoseconds);
        Assert.Equal(7 * 3600, t.OffsetSeconds);
    }

    [Theory]
    [InlineData(0, "2020-05-06T07:08:09Z")]
    [InlineData(500_000_000, "2020-05-06T07:08:09.5Z")]
    [InlineData(120_000_000, "2020-05-06T07:08:09.12Z")]
    [InlineData(1, "2020-05-06T07:08:09.000000001Z")]
    [InlineData(100, "2020-05-06T07:08:09.0000001Z")]
    public void Fraction_is_trimmed_of_trailing_zeros_and_omitted_when_zero(int nanos, string expected)
    {
        long seconds = new DateTimeOffset(2020, 5, 6, 7, 8, 9, TimeSpan.Zero).ToUnixTimeSeconds();
        Assert.Equal(expected, new GoTime(seconds, nanos, 0).ToString());
    }

    [Theory]
    // Go reads a fraction of any length after the seconds, with '.' or ',', and drops digits past the ninth.
    [InlineData("2020-05-06T07:08:09.1Z", "2020-05-06T07:08:09.1Z")]
    [InlineData("2020-05-06T07:08:09.100000000Z", "2020-05-06T07:08:09.1Z")]
    [InlineData("2020-05-06T07:08:09.1234567891234Z", "2020-05-06T07:08:09.123456789Z")]
    [InlineData("2020-05-06T07:08:09,25Z", "2020-05-06T07:08:09.25Z")]
    // The layout's hour "15" accepts one digit in Go.
    [InlineData("2020-05-06T7:08:09Z", "2020-05-06T07:08:09Z")]
    // RFC 3339 allows lower-case t and z.
    [InlineData("2020-05-06t07:08:09z", "2020-05-06T07:08:09Z")]
    // An explicit zero offset prints as Z.
    [InlineData("2020-05-06T07:08:09+00:00", "2020-05-06T07:08:09Z")]
    [InlineData("2020-05-06T07:08:09-00:00", "2020-05-06T07:08:09Z")]
    public void Parse_is_lenient_like_go(string input, string canonical)
    {
        Assert.Equal(canonical, GoTime.Parse(Encoding.ASCII.GetBytes(input)).ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("2020-05-06")]
    [InlineData("2020-05-06T07:08:09")]
    [InlineData("2020-05-06 07:08:09Z")]
    [InlineData("2020-13-06T07:08:09Z")]
    [InlineData("2020-00-06T07:08:09Z")]
    [InlineData("2021-02-29T07:08:09Z")]
    [InlineData("2020-04-31T07:08:09Z")]
    [InlineData("2020-05-06T24:08:09Z")]
    [InlineData("2020-05-06T07:60:09Z")]
    [InlineData("2020-05-06T07:08:60Z")]
    [InlineData("2020-05-06T07:08:09.Z")]
    [InlineData("2020-05-06T07:08:09+07")]
    [InlineData("2020-05-06T07:08:09+0700")]
    [InlineData("2020-05-06T07:08:09+07:60")]
    [InlineData("2020-05-06T07:08:09Zjunk")]
    [InlineData("20200-05-06T07:08:09Z")]
    [InlineData("2020-5-06T07:08:09Z")]
    [InlineData("2020-05-06T07:8:09Z")]
    [InlineData("\"2020-05-06T07:08:09Z\"")]
    public void Parse_rejects_garbage(string input)
    {
        Assert.Throws<FormatException>(() => GoTime.Parse(Encoding.ASCII.GetBytes(input)));
        Assert.False(GoTime.TryParse(Encoding.ASCII.GetBytes(input), out _));
    }

    [Fact]
    public void Leap_day_is_accepted_in_leap_years()
    {
        Assert.Equal("2000-02-29T00:00:00Z", GoTime.Parse("2000-02-29T00:00:00Z"u8).ToString());
        Assert.Equal("2024-02-29T00:00:00Z", GoTime.Parse("2024-02-29T00:00:00Z"u8).ToString());
        Assert.Throws<FormatException>(() => GoTime.Parse("1900-02-29T00:00:00Z"u8));
    }

    [Fact]
    public void Default_is_gos_zero_time()
    {
        GoTime zero = default;
        Assert.Equal("0001-01-01T00:00:00Z", zero.ToString());
        Assert.True(zero.IsZero);
        Assert.Equal(-62_135_596_800, zero.UnixSeconds);
        Assert.False(new GoTime(0, 0, 0).IsZero);
        Assert.Equal("1970-01-01T00:00:00Z", new GoTime(0, 0, 0).ToString());
    }

    [Fact]
    public void Times_before_the_epoch_floor_correctly()
    {
        Assert.Equal("1969-12-31T23:59:59.5Z", new GoTime(-1, 500_000_000, 0).ToString());

        // Nanoseconds outside one second carry into the seconds, as Go's time.Unix does.
        Assert.Equal(new GoTime(-1, 500_000_000, 0), new GoTime(0, -500_000_000, 0));
        Assert.Equal(new GoTime(2, 1, 0), new GoTime(0, 2_000_000_001, 0));
        Assert.Equal("1969-12-31T20:29:59.5-03:30", new GoTime(-1, 500_000_000, -(3 * 3600 + 1800)).ToString());
    }

    // restic's TestFixTime cases: years outside 0…9999 move into range before encoding; everything else stays.
    [Theory]
    [InlineData(0, 1, 2, "0000-01-02T03:04:05.000000006Z")]
    [InlineData(-2, 1, 2, "0000-01-02T03:04:05.000000006Z")]
    [InlineData(12345, 1, 2, "9999-01-02T03:04:05.000000006Z")]
    [InlineData(9999, 1, 2, "9999-01-02T03:04:05.000000006Z")]
    // Go's AddDate normalises: Feb 29 of leap year 10000 becomes Mar 1 of 9999; year 0 is a leap year, so Feb 29 stays.
    [InlineData(10000, 2, 29, "9999-03-01T03:04:05.000000006Z")]
    [InlineData(-4, 2, 29, "0000-02-29T03:04:05.000000006Z")]
    [InlineData(-1000000, 12, 31, "0000-12-31T03:04:05.000000006Z")]
    [InlineData(292277026, 6, 15, "9999-06-15T03:04:05.000000006Z")]
    public void Year_is_clamped_like_restics_fixTime(long year, int month, int day, string expected)
    {
        long unix = UnixDays(year, month, day) * 86400 + 3 * 3600 + 4 * 60 + 5;
        Assert.Equal(expected, new GoTime(unix, 6, 0).ToString());
    }

    [Fact]
    public void Clamp_uses_the_wall_clock_in_the_recorded_offset()
    {
        // 10000-01-01T01:00 at +02:00 is still 9999 in UTC but year 10000 on its own wall clock.
        long unix = UnixDays(10000, 1, 1) * 86400 + 3600 - 7200;
        Assert.Equal("9999-01-01T01:00:00+02:00", new GoTime(unix, 0, 7200).ToString());
    }

    [Theory]
    // Go prints whole minutes, truncating toward zero, and takes the sign from the minutes.
    [InlineData(-30, "1970-01-01T00:00:00+00:00")]
    [InlineData(30, "1970-01-01T00:00:00+00:00")]
    [InlineData(-90, "1970-01-01T00:00:00-00:01")]
    [InlineData(3600 + 1800 + 59, "1970-01-01T00:00:00+01:30")]
    public void Offsets_with_seconds_print_as_go_prints_them(int offset, string expectedSuffixForm)
    {
        // Go shows the wall clock including the seconds of the offset.
        var t = new GoTime(-offset, 0, offset);
        Assert.Equal(expectedSuffixForm, t.ToString());
    }

    [Fact]
    public void Equality_needs_same_instant_and_offset_but_ordering_is_by_instant()
    {
        var utc = GoTime.Parse("2020-05-06T07:08:09Z"u8);
        var plus2 = GoTime.Parse("2020-05-06T09:08:09+02:00"u8);
        Assert.NotEqual(utc, plus2);
        Assert.True(utc != plus2);
        Assert.Equal(0, utc.CompareTo(plus2));
        Assert.True(utc.SameInstant(plus2));
        Assert.Equal(utc, GoTime.Parse("2020-05-06T07:08:09.000Z"u8));
        Assert.Equal(utc.GetHashCode(), GoTime.Parse("2020-05-06T07:08:09.000Z"u8).GetHashCode());
        Assert.True(GoTime.Parse("2020-05-06T07:08:09.000000001Z"u8) > plus2);
        Assert.True(utc < GoTime.Parse("2020-05-06T07:08:09.000000001Z"u8));
    }

    [Fact]
    public void Converts_to_and_from_DateTimeOffset()
    {
        var dto = new DateTimeOffset(2021, 3, 4, 5, 6, 7, TimeSpan.FromMinutes(-210)).AddTicks(1234567);
        var t = GoTime.FromDateTimeOffset(dto);
        Assert.Equal(123_456_700, t.Nanoseconds);
        Assert.Equal(-210 * 60, t.OffsetSeconds);
        Assert.Equal(dto.ToUnixTimeSeconds(), t.UnixSeconds);
        Assert.Equal("2021-03-04T05:06:07.1234567-03:30", t.ToString());
        Assert.Equal(dto, t.ToDateTimeOffset());
        Assert.Equal(dto.Offset, t.ToDateTimeOffset().Offset);

        // Digits below 100 ns are lost on the way to DateTimeOffset.
        var fine = GoTime.Parse("2021-03-04T05:06:07.123456789+01:00"u8);
        Assert.Equal(new DateTimeOffset(2021, 3, 4, 5, 6, 7, TimeSpan.FromHours(1)).AddTicks(1234567), fine.ToDateTimeOffset());

        // Before the epoch.
        var old = new DateTimeOffset(1901, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(5);
        Assert.Equal(old, GoTime.FromDateTimeOffset(old).ToDateTimeOffset());
        Assert.Equal("1901-01-01T00:00:00.0000005Z", GoTime.FromDateTimeOffset(old).ToString());
    }

    [Fact]
    public void Now_uses_the_local_offset()
    {
        var before = DateTimeOffset.UtcNow;
        var now = GoTime.Now();
        var after = DateTimeOffset.UtcNow;
        Assert.InRange(now.ToDateTimeOffset().UtcTicks, before.UtcTicks, after.UtcTicks);
        Assert.Equal((int)TimeZoneInfo.Local.GetUtcOffset(now.ToDateTimeOffset()).TotalSeconds, now.OffsetSeconds);
    }

    [Fact]
    public void FormatUtf8_writes_at_most_35_bytes()
    {
        var longest = GoTime.Parse("9999-12-31T23:59:59.123456789+23:59"u8);
        Span<byte> buffer = stackalloc byte[35];
        int n = longest.FormatUtf8(buffer);
        Assert.Equal(35, n);
        Assert.Equal("9999-12-31T23:59:59.123456789+23:59", Encoding.ASCII.GetString(buffer[..n]));
        Assert.Throws<ArgumentException>(() => longest.FormatUtf8(new byte[34]));
    }

    [Fact]
    public void Constructor_rejects_offsets_the_text_form_cannot_carry()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new GoTime(0, 0, 100 * 3600));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GoTime(long.MaxValue, 0, 0));
    }

    // Days from 1970-01-01 to a proleptic Gregorian date (astronomical years), counted the slow obvious way.
    private static long UnixDays(long year, int month, int day)
    {
        static bool Leap(long y) => y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
        long days = 0;
        if (year >= 1970)
        {
            // Whole 400-year cycles first to keep the loop short.
            long cycles = (year - 1970) / 400;
            days += cycles * 146097;
            for (long y = 1970 + cycles * 400; y < year; y++)
            {
                days += Leap(y) ? 366 : 365;
            }
        }
        else
        {
            long cycles = (1970 - year) / 400;
            days -= cycles * 146097;
            for (long y = 1970 - cycles * 400 - 1; y >= year; y--)
            {
                days -= Leap(y) ? 366 : 365;
            }
        }

        int[] lengths = [31, Leap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        for (int m = 1; m < month; m++)
        {
            days += lengths[m - 1];
        }

        return days + day - 1;
    }
}
