using System.Globalization;
using KubeBackup.Restic.Model;
using KubeBackup.Retention;

namespace KubeBackup.Tests.Retention;

/// <summary>restic's duration notation, and the Go calendar arithmetic (AddDate normalisation, ISO weeks) behind it.</summary>
public class RetentionDurationTests
{
    [Theory]
    [InlineData("1y5m7d2h", 1, 5, 7, 2)]
    [InlineData("  36h ", 0, 0, 0, 36)]
    [InlineData("2m", 0, 2, 0, 0)]
    [InlineData("1y1d1m", 1, 1, 1, 0)]
    [InlineData("3d2d", 0, 0, 2, 0)] // a unit given twice: the last one counts, as in restic
    [InlineData("-1d", 0, 0, -1, 0)]
    [InlineData("1y-2m", 1, -2, 0, 0)]
    [InlineData("", 0, 0, 0, 0)]
    [InlineData("0d", 0, 0, 0, 0)]
    public void Parses_like_restic(string text, int years, int months, int days, int hours)
    {
        Assert.Equal(new RetentionDuration(years, months, days, hours), RetentionDuration.Parse(text));
    }

    [Theory]
    [InlineData("5", "no unit found after number 5")]
    [InlineData("d", "no number found")]
    [InlineData("-", "no number found")]
    [InlineData("1w", "invalid unit 'w' found after number 1")]
    [InlineData("1d 2h", "no number found")]
    [InlineData("1D", "invalid unit 'D' found after number 1")]
    [InlineData("99999999999d", "number 99999999999 is out of range")]
    public void Rejects_what_restic_rejects_with_its_words(string text, string message)
    {
        var ex = Assert.Throws<FormatException>(() => RetentionDuration.Parse(text));
        Assert.Equal(message, ex.Message);
        Assert.False(RetentionDuration.TryParse(text, out _));
    }

    [Theory]
    [InlineData("1y5m7d2h", "1y5m7d2h")]
    [InlineData("1y1d1m", "1y1m1d")]
    [InlineData("13d23h", "13d23h")]
    [InlineData("0y3d", "3d")]
    [InlineData("", "")]
    [InlineData("-2h", "-2h")]
    public void Prints_as_restic_does_in_reasons(string text, string printed)
    {
        Assert.Equal(printed, RetentionDuration.Parse(text).ToString());
    }

    [Theory]
    // Go normalises "Feb 31" instead of clamping: Mar 31 − 1 month is Mar 3 in a common year, Mar 2 in a leap year.
    [InlineData("2023-03-31T12:00:00Z", "1m", "2023-03-03T12:00:00Z")]
    [InlineData("2024-03-31T12:00:00Z", "1m", "2024-03-02T12:00:00Z")]
    [InlineData("2023-05-31T00:00:00Z", "1m", "2023-05-01T00:00:00Z")]
    [InlineData("2024-02-29T08:00:00Z", "1y", "2023-03-01T08:00:00Z")]
    [InlineData("2025-01-31T10:00:00Z", "2m", "2024-12-01T10:00:00Z")]
    [InlineData("2025-03-01T01:00:00Z", "1d", "2025-02-28T01:00:00Z")]
    [InlineData("2025-03-01T01:00:00Z", "2h", "2025-02-28T23:00:00Z")]
    [InlineData("2016-01-18T12:02:03Z", "1y2m3d3h", "2014-11-15T09:02:03Z")]
    // Months first, then days: 1m14d from Mar 31 is "Feb 31" − 14 days = Feb 17.
    [InlineData("2023-03-31T00:00:00Z", "1m14d", "2023-02-17T00:00:00Z")]
    // The arithmetic runs on the wall clock in the time's own offset, which keeps its offset and nanoseconds.
    [InlineData("2023-03-31T00:30:00.000000001+05:30", "1m", "2023-03-03T00:30:00.000000001+05:30")]
    [InlineData("2025-03-01T01:00:00+02:00", "1m", "2025-02-01T01:00:00+02:00")]
    [InlineData("2025-02-28T13:30:00-09:30", "1m", "2025-01-28T13:30:00-09:30")]
    // Go's zero time (the "latest" when every snapshot is in the future) goes below year 1 without trouble.
    [InlineData("0001-01-01T00:00:00Z", "1y1m", "-0001-12-01T00:00:00Z")]
    public void Subtracts_with_Go_AddDate_normalisation(string from, string duration, string expected)
    {
        var result = RetentionDuration.Parse(duration).SubtractFrom(Parse(from));
        Assert.Equal(expected, Format(result));
    }

    [Fact]
    public void AddDate_agrees_with_an_independent_normalising_formulation_over_many_dates()
    {
        // Go's rule restated with .NET pieces: move year and month (carrying), then add (day − 1 + days) days to the
        // first of that month. Any clamping of the day would disagree at every month end.
        var rng = new Random(42);
        for (int i = 0; i < 20_000; i++)
        {
            var start = new DateTime(1990, 1, 1).AddDays(rng.Next(0, 60 * 366)).AddSeconds(rng.Next(0, 86_400));
            int offset = rng.Next(-12 * 60, 14 * 60 + 1);
            int years = rng.Next(0, 12), months = rng.Next(0, 40), days = rng.Next(0, 70), hours = rng.Next(0, 100);
            var time = new GoTime((long)(start - DateTime.UnixEpoch).TotalSeconds - offset * 60L, rng.Next(0, 1_000_000_000), offset * 60);

            int monthIndex = start.Year * 12 + (start.Month - 1) - years * 12 - months;
            var firstOfMonth = new DateTime(monthIndex / 12, monthIndex % 12 + 1, 1);
            var wall = firstOfMonth.AddDays(start.Day - 1 - days).Add(start.TimeOfDay).AddHours(-hours);
            long expectedUnix = (long)(wall - DateTime.UnixEpoch).TotalSeconds - offset * 60L;

            var actual = new RetentionDuration(years, months, days, hours).SubtractFrom(time);
            Assert.Equal(expectedUnix, actual.UnixSeconds);
            Assert.Equal(time.Nanoseconds, actual.Nanoseconds);
            Assert.Equal(time.OffsetSeconds, actual.OffsetSeconds);
        }
    }

    [Fact]
    public void Iso_weeks_agree_with_ISOWeek_on_the_wall_clock_date()
    {
        for (var day = new DateTime(1995, 12, 20); day < new DateTime(2045, 1, 15); day = day.AddDays(1))
        {
            var w = KubeBackup.Retention.GoCalendar.Wall(new GoTime((long)(day - DateTime.UnixEpoch).TotalSeconds + 3600, 0, 0));
            var (year, week) = KubeBackup.Retention.GoCalendar.IsoWeek(w);
            Assert.Equal(ISOWeek.GetYear(day), year);
            Assert.Equal(ISOWeek.GetWeekOfYear(day), week);
        }
    }

    [Theory]
    [InlineData("2020-12-31T12:00:00Z", 2020, 53)]
    [InlineData("2021-01-03T23:59:59Z", 2020, 53)]
    [InlineData("2021-01-04T00:00:00Z", 2021, 1)]
    [InlineData("2008-12-29T10:00:00Z", 2009, 1)]
    // Sunday night in UTC is Monday morning at +05:30: a different ISO week.
    [InlineData("2021-01-04T04:00:00+05:30", 2021, 1)]
    [InlineData("2021-01-03T22:30:00Z", 2020, 53)]
    public void Iso_week_uses_the_times_own_offset(string time, int year, int week)
    {
        var (y, w) = KubeBackup.Retention.GoCalendar.IsoWeek(KubeBackup.Retention.GoCalendar.Wall(Parse(time)));
        Assert.Equal((long)year, y);
        Assert.Equal(week, w);
    }

    private static GoTime Parse(string text) => GoTime.Parse(text);

    // GoTime.ToString clamps years to 0…9999 as restic's encoder does; for the one test that goes below year 1, print
    // the wall clock directly.
    private static string Format(GoTime t)
    {
        var w = KubeBackup.Retention.GoCalendar.Wall(t);
        if (w.Year >= 1)
        {
            return t.ToString();
        }

        return string.Create(CultureInfo.InvariantCulture, $"{w.Year:0000}-{w.Month:00}-{w.Day:00}T{w.Hour:00}:{w.Minute:00}:{w.Second:00}Z");
    }
}
