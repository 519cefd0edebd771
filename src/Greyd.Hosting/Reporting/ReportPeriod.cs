using System.Globalization;

namespace Greyd.Hosting.Reporting;

/// <summary>
/// The ends of a report's period: a UTC date (2026-11-28), "today", or a time back from now (90m, 24h, 7d, 2w),
/// which names the day it lands in. The report counts whole days, so "7d" covers all triplets first seen in the
/// last 7 days and the rest of that first day.
/// </summary>
public static class ReportPeriod
{
    /// <summary>The day <paramref name="text"/> names at <paramref name="now"/>; throws <see cref="FormatException"/> with a message for the user.</summary>
    public static DateOnly ParseDay(string text, DateTimeOffset now, string name)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        if (text == "today")
        {
            return today;
        }

        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return date;
        }

        long unit = text.Length > 1 ? text[^1] switch { 'm' => 60, 'h' => 3600, 'd' => 86400, 'w' => 7 * 86400, _ => 0 } : 0;
        if (unit > 0 && int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int count) && count * unit <= 100L * 365 * 86400)
        {
            return DateOnly.FromDateTime(now.UtcDateTime.AddSeconds(-count * unit));
        }

        throw new FormatException($"{name}: expected a date (YYYY-MM-DD), today, or a time back from now (24h, 7d, 2w), not '{ReportText.Printable(text.Length > 40 ? text[..40] : text)}'");
    }
}
