using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Cronos;

namespace KubeBackup.Scheduling;

/// <summary>
/// A schedule: a cron expression (five fields, or six with seconds), a Cronos macro (<c>@daily</c>, <c>@hourly</c>…),
/// or a randomized macro as restic operators write them: <c>@hourly-random</c>, <c>@daily-random</c>,
/// <c>@weekly-random</c>, <c>@monthly-random</c>, <c>@yearly-random</c>. A randomized macro becomes a fixed cron
/// expression whose minute (hour, weekday, day) comes from a SHA-256 of a key (the target or configuration): the same
/// key always gets the same time, in every process and after restarts, while different keys spread over the hour or
/// day instead of all hitting the repository at midnight.
/// </summary>
public sealed class CronSchedule
{
    private readonly CronExpression _cron;

    private CronSchedule(string expression, string resolved, CronExpression cron, TimeZoneInfo zone)
    {
        Expression = expression;
        Resolved = resolved;
        _cron = cron;
        TimeZone = zone;
    }

    /// <summary>The expression as written.</summary>
    public string Expression { get; }

    /// <summary>The concrete cron expression (a randomized macro resolved for its key).</summary>
    public string Resolved { get; }

    /// <summary>The zone the expression is read in; daylight-saving changes are handled as Cronos does (a time skipped
    /// by a spring-forward runs at the end of the gap; a time repeated in autumn runs once, except for expressions
    /// that run every hour or more often, which run in both hours).</summary>
    public TimeZoneInfo TimeZone { get; }

    /// <summary>Parses a schedule.</summary>
    /// <param name="expression">The expression.</param>
    /// <param name="key">What a randomized macro is randomized by (for example <c>namespace/name</c> of a target).</param>
    /// <param name="timeZoneId">An IANA zone ID; null or empty for UTC.</param>
    /// <exception cref="FormatException">The expression or zone is not valid.</exception>
    public static CronSchedule Parse(string expression, string key, string? timeZoneId = null)
    {
        ArgumentNullException.ThrowIfNull(expression);
        ArgumentNullException.ThrowIfNull(key);
        TimeZoneInfo zone;
        try
        {
            zone = string.IsNullOrEmpty(timeZoneId) ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(timeZoneId);
        }
        catch (TimeZoneNotFoundException)
        {
            throw new FormatException($"The time zone '{timeZoneId}' is not known on this machine (install tzdata).");
        }

        string text = expression.Trim();
        string resolved = ResolveRandom(text, key);
        try
        {
            var format = resolved.StartsWith('@') || resolved.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 5
                ? CronFormat.Standard : CronFormat.IncludeSeconds;
            return new CronSchedule(expression, resolved, CronExpression.Parse(resolved, format), zone);
        }
        catch (CronFormatException ex)
        {
            throw new FormatException($"'{expression}' is not a cron expression: {ex.Message}", ex);
        }
    }

    /// <summary>The first occurrence strictly after <paramref name="after"/>; null if there is none.</summary>
    public DateTimeOffset? GetNextOccurrence(DateTimeOffset after) => _cron.GetNextOccurrence(after, TimeZone, inclusive: false);

    /// <inheritdoc />
    public override string ToString() => Expression == Resolved ? Expression : $"{Expression} ({Resolved})";

    private static string ResolveRandom(string text, string key)
    {
        if (!text.StartsWith('@') || !text.EndsWith("-random", StringComparison.Ordinal))
        {
            return text;
        }

        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        uint Pick(int index, uint range) => BinaryPrimitives.ReadUInt32BigEndian(hash.AsSpan(index * 4, 4)) % range;
        uint minute = Pick(0, 60), hour = Pick(1, 24), weekday = Pick(2, 7), day = Pick(3, 28) + 1, month = Pick(4, 12) + 1;
        return text switch
        {
            "@hourly-random" => string.Create(CultureInfo.InvariantCulture, $"{minute} * * * *"),
            "@daily-random" or "@midnight-random" => string.Create(CultureInfo.InvariantCulture, $"{minute} {hour} * * *"),
            "@weekly-random" => string.Create(CultureInfo.InvariantCulture, $"{minute} {hour} * * {weekday}"),
            "@monthly-random" => string.Create(CultureInfo.InvariantCulture, $"{minute} {hour} {day} * *"),
            "@yearly-random" or "@annually-random" => string.Create(CultureInfo.InvariantCulture, $"{minute} {hour} {day} {month} *"),
            _ => throw new FormatException($"'{text}' is not a known randomized schedule (@hourly-random, @daily-random, @weekly-random, @monthly-random, @yearly-random)."),
        };
    }
}
