namespace KubeBackup.Restic.Model;

/// <summary>
/// Day numbers of the proleptic Gregorian calendar with astronomical years (year 0 exists), as Go's <c>time</c>
/// package counts them: the one piece of calendar arithmetic that <see cref="GoTime"/> (parsing and formatting) and
/// the retention rules (Go's <c>AddDate</c> and <c>ISOWeek</c>) share. Years start in March internally (Howard
/// Hinnant's algorithms), so February's length never matters and a day past its month's end rolls into the next
/// month, as Go's normalising <c>Date</c> does.
/// </summary>
internal static class CivilDate
{
    /// <summary>Days since 1970-01-01 of a date; <paramref name="day"/> may lie outside its month.</summary>
    public static long DaysFromCivil(long year, int month, long day)
    {
        long y = month <= 2 ? year - 1 : year;
        long era = FloorDiv(y, 400);
        long yearOfEra = y - era * 400;
        int shiftedMonth = month > 2 ? month - 3 : month + 9;
        long dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1;
        long dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;

        // 0000-03-01 is day -719,468 relative to 1970-01-01.
        return era * 146_097 + dayOfEra - 719_468;
    }

    /// <summary>The date of a day number (days since 1970-01-01).</summary>
    public static void CivilFromDays(long days, out long year, out int month, out int day)
    {
        long z = days + 719_468;
        long era = FloorDiv(z, 146_097);
        long dayOfEra = z - era * 146_097;
        long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
        long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        int shiftedMonth = (int)((5 * dayOfYear + 2) / 153);
        day = (int)(dayOfYear - (153 * shiftedMonth + 2) / 5 + 1);
        month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
    }

    /// <summary>Division rounding towards negative infinity (dates before the epoch).</summary>
    public static long FloorDiv(long a, long b)
    {
        long q = a / b;
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
    }

    /// <summary>The remainder of <see cref="FloorDiv"/>, never negative for a positive divisor.</summary>
    public static long FloorMod(long a, long b) => a - FloorDiv(a, b) * b;
}
