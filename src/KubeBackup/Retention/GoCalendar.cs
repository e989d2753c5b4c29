using KubeBackup.Restic.Model;
using static KubeBackup.Restic.Model.CivilDate;

namespace KubeBackup.Retention;

/// <summary>
/// The calendar arithmetic restic's retention rules rely on, done the way Go's <c>time</c> package does it: on the
/// wall clock in the time's own UTC offset, over the proleptic Gregorian calendar with astronomical years (year 0
/// exists), and with Go's normalisation of out-of-range months and days.
/// </summary>
/// <remarks>
/// .NET's <see cref="DateTime.AddMonths"/> clamps (Mar 31 − 1 month = Feb 28) where Go's <c>AddDate</c> normalises
/// ("Feb 31" = Mar 3 in a common year), and <see cref="DateTime"/> stops at year 1, while the "latest" time restic
/// subtracts from can be Go's zero time (year 1) when every snapshot lies in the future. Hence this small calendar.
/// </remarks>
internal static class GoCalendar
{
    private const long SecondsPerDay = 86_400;

    /// <summary>The wall-clock fields of a time in its own offset.</summary>
    internal readonly record struct WallClock(long Year, int Month, int Day, int Hour, int Minute, int Second, long DaysSinceEpoch);

    internal static WallClock Wall(GoTime time)
    {
        long wall = time.UnixSeconds + time.OffsetSeconds;
        long days = FloorDiv(wall, SecondsPerDay);
        int secondOfDay = (int)(wall - days * SecondsPerDay);
        CivilFromDays(days, out long year, out int month, out int day);
        return new WallClock(year, month, day, secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60, days);
    }

    /// <summary>Go's <c>t.AddDate(years, months, days)</c> for a time with a fixed offset: the wall-clock date moves,
    /// overflowing months and days roll into the next unit, and the clock and offset stay.</summary>
    internal static GoTime AddDate(GoTime time, long years, long months, long days)
    {
        var w = Wall(time);

        // Go's Date normalises the month into 1..12 first, carrying whole years, then lets the day overflow freely.
        long month0 = w.Month - 1 + months;
        long year = w.Year + years + FloorDiv(month0, 12);
        int month = (int)(month0 - FloorDiv(month0, 12) * 12) + 1;
        long dayNumber = DaysFromCivil(year, month, 1) + (w.Day - 1) + days;

        long wallSeconds = dayNumber * SecondsPerDay + w.Hour * 3600 + w.Minute * 60 + w.Second;
        return new GoTime(wallSeconds - time.OffsetSeconds, time.Nanoseconds, time.OffsetSeconds);
    }

    /// <summary>Go's <c>t.Add(time.Hour * time.Duration(hours))</c>, including the silent int64 wrap-around of the
    /// nanosecond product for absurd hour counts (Go does not check it either).</summary>
    internal static GoTime AddHours(GoTime time, long hours)
    {
        long nanos = unchecked(3_600_000_000_000L * hours);
        long seconds = nanos / 1_000_000_000L;
        int rest = (int)(nanos % 1_000_000_000L);
        return new GoTime(time.UnixSeconds + seconds, time.Nanoseconds + rest, time.OffsetSeconds);
    }

    /// <summary>Go's <c>t.ISOWeek()</c> on the wall-clock date: the ISO 8601 year and week (weeks start on Monday;
    /// week 1 is the one holding the year's first Thursday).</summary>
    internal static (long Year, int Week) IsoWeek(WallClock w)
    {
        // 1970-01-01 was a Thursday; ISO weekdays run Monday = 1 … Sunday = 7.
        int isoWeekday = (int)(FloorMod(w.DaysSinceEpoch + 3, 7) + 1);
        long thursday = w.DaysSinceEpoch + (4 - isoWeekday);
        CivilFromDays(thursday, out long isoYear, out _, out _);
        long firstOfYear = DaysFromCivil(isoYear, 1, 1);
        return (isoYear, (int)((thursday - firstOfYear) / 7) + 1);
    }
}
