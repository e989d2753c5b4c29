using System.Globalization;
using System.Text;
using KubeBackup.Restic.Model;

namespace KubeBackup.Retention;

/// <summary>
/// A calendar duration as restic's <c>--keep-within*</c> flags take it: years, months, days and hours, written like
/// <c>1y5m7d2h</c>. It is a calendar quantity, not a fixed span: subtracting a month from Mar 31 lands on "Feb 31",
/// which Go (and therefore restic, and this type) normalises to Mar 3 in a common year.
/// </summary>
/// <param name="Years">Years (<c>y</c>).</param>
/// <param name="Months">Months (<c>m</c>).</param>
/// <param name="Days">Days (<c>d</c>).</param>
/// <param name="Hours">Hours (<c>h</c>).</param>
public readonly record struct RetentionDuration(int Years, int Months, int Days, int Hours)
{
    /// <summary>Whether every part is zero (such a duration switches its rule off).</summary>
    public bool IsZero => Years == 0 && Months == 0 && Days == 0 && Hours == 0;

    /// <summary>Whether any part is negative (restic 0.16+ refuses such durations; 0.14 accepted them).</summary>
    public bool IsNegative => Years < 0 || Months < 0 || Days < 0 || Hours < 0;

    /// <summary>The time this duration before <paramref name="time"/>: Go's <c>time.AddDate(−y, −m, −d)</c> on the
    /// wall clock in the time's own offset, then minus the hours as a fixed span, exactly as restic computes the
    /// threshold of its <c>--keep-within*</c> rules.</summary>
    public GoTime SubtractFrom(GoTime time) =>
        GoCalendar.AddHours(GoCalendar.AddDate(time, -(long)Years, -(long)Months, -(long)Days), -(long)Hours);

    /// <summary>Parses restic's notation: a sequence of <c>[-]number unit</c> with units <c>y</c>, <c>m</c>, <c>d</c>,
    /// <c>h</c> (for example <c>1y5m7d2h</c> or <c>36h</c>). Surrounding white space is ignored; an empty string is the
    /// zero duration; a unit given twice keeps the last value, as restic does.</summary>
    /// <exception cref="FormatException">Not such a duration (with restic's wording of the problem).</exception>
    public static RetentionDuration Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var value, out string? error) ? value : throw new FormatException(error);
    }

    /// <summary>Parses as <see cref="Parse"/> does, without throwing.</summary>
    public static bool TryParse(string? text, out RetentionDuration value) => TryParse(text, out value, out _);

    private static bool TryParse(string? text, out RetentionDuration value, out string? error)
    {
        value = default;
        error = null;
        if (text is null)
        {
            error = "no duration given";
            return false;
        }

        // Go's strings.TrimSpace trims Unicode white space, like string.Trim().
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        int years = 0, months = 0, days = 0, hours = 0;
        while (!s.IsEmpty)
        {
            bool negative = s[0] == '-';
            if (negative)
            {
                s = s[1..];
            }

            int digits = 0;
            while (digits < s.Length && char.IsAsciiDigit(s[digits]))
            {
                digits++;
            }

            if (digits == 0)
            {
                error = "no number found";
                return false;
            }

            // restic's Atoi panics on overflow; an error is the friendlier equivalent.
            if (!int.TryParse(s[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out int number))
            {
                error = $"number {s[..digits].ToString()} is out of range";
                return false;
            }

            if (negative)
            {
                number = -number;
            }

            s = s[digits..];
            if (s.IsEmpty)
            {
                error = $"no unit found after number {number}";
                return false;
            }

            switch (s[0])
            {
                case 'y': years = number; break;
                case 'm': months = number; break;
                case 'd': days = number; break;
                case 'h': hours = number; break;
                default:
                    error = $"invalid unit '{s[0]}' found after number {number}";
                    return false;
            }

            s = s[1..];
        }

        value = new RetentionDuration(years, months, days, hours);
        return true;
    }

    /// <summary>restic's notation with zero parts left out (<c>1y2m3d3h</c>, <c>14d</c>); the zero duration is empty.
    /// This is the text restic puts into keep reasons such as <c>within 1y2m3d3h</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        if (Years != 0) sb.Append(CultureInfo.InvariantCulture, $"{Years}y");
        if (Months != 0) sb.Append(CultureInfo.InvariantCulture, $"{Months}m");
        if (Days != 0) sb.Append(CultureInfo.InvariantCulture, $"{Days}d");
        if (Hours != 0) sb.Append(CultureInfo.InvariantCulture, $"{Hours}h");
        return sb.ToString();
    }
}
