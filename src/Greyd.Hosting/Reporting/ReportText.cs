using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Greyd.Hosting.Reporting;

/// <summary>
/// The report as <c>greyd report</c> prints it, from the JSON of <see cref="ReportJson"/>: an aligned table with
/// human delays (5m, 2h10m), "≤" where a delay is a bucket's bound, and a line for what the table leaves out.
/// </summary>
public static class ReportText
{
    private static readonly string[] s_header = ["domain", "greylisted", "retried", "passed", "pass%", "never-retried", "waiting", "p50", "p90", "max"];

    public static string Render(JsonElement report)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"greyd report {Field(report, "since")} to {Field(report, "until")} (UTC days of first sighting)");
        if (Field(report, "domain") is { Length: > 0 } domain)
        {
            text.Append(", domain ").Append(domain);
        }

        text.Append('\n');
        var rows = report.TryGetProperty("rows", out var list) && list.ValueKind == JsonValueKind.Array ? list.EnumerateArray().ToList() : [];
        if (rows.Count == 0)
        {
            return text.Append("nothing greylisted\n").ToString();
        }

        List<string[]> table = [s_header, .. rows.Select(row => Cells(Field(row, "domain"), row))];
        if (report.TryGetProperty("total", out var total))
        {
            table.Add(Cells("total", total));
        }

        int[] widths = [.. s_header.Select((_, column) => table.Max(cells => cells[column].Length))];
        foreach (string[] cells in table)
        {
            var line = new StringBuilder(cells[0].PadRight(widths[0]));
            for (int column = 1; column < cells.Length; column++)
            {
                line.Append("  ").Append(cells[column].PadLeft(widths[column]));
            }

            text.Append(line.ToString().TrimEnd()).Append('\n');
        }

        long domains = Number(report, "domains") ?? 0;
        if (rows.Count < domains)
        {
            text.Append(CultureInfo.InvariantCulture, $"top {rows.Count} of {domains} domains by greylisted\n");
        }

        if (Number(total, "waiting") > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"waiting: not retried yet, within the {Duration(Number(report, "retry_window") ?? 0)} retry window\n");
        }

        if (report.TryGetProperty("capped_days", out var capped) && capped.ValueKind == JsonValueKind.Array && capped.GetArrayLength() > 0)
        {
            string days = string.Join(", ", capped.EnumerateArray().Select(day => Printable(day.ValueKind == JsonValueKind.String ? day.GetString() : null)));
            text.Append(CultureInfo.InvariantCulture, $"(other): domains past the first {Number(report, "domain_cap")} of a day, on {days}\n");
        }

        if (report.TryGetProperty("report_capped", out var reportCapped) && reportCapped.ValueKind == JsonValueKind.True)
        {
            text.Append(CultureInfo.InvariantCulture, $"(other): also domains past the first {ReportQuery.MaxDomains} of the report\n");
        }

        return text.ToString();
    }

    /// <summary>Seconds as a person reads them: 45s, 5m, 5m30s, 2h10m, 1d3h (the smaller units of long delays left out).</summary>
    public static string Duration(long seconds) => seconds switch
    {
        < 60 => $"{seconds}s",
        < 3600 => Join(seconds / 60, "m", seconds % 60, "s"),
        < 86400 => Join(seconds / 3600, "h", seconds % 3600 / 60, "m"),
        _ => Join(seconds / 86400, "d", seconds % 86400 / 3600, "h"),
    };

    private static string Join(long major, string majorUnit, long minor, string minorUnit) =>
        minor == 0 ? $"{major}{majorUnit}" : $"{major}{majorUnit}{minor}{minorUnit}";

    private static string[] Cells(string domain, JsonElement row) =>
    [
        domain,
        Count(row, "greylisted"),
        Count(row, "retried"),
        Count(row, "passed"),
        row.TryGetProperty("pass_ratio", out var ratio) && ratio.ValueKind == JsonValueKind.Number
            ? string.Create(CultureInfo.InvariantCulture, $"{Math.Round(ratio.GetDouble() * 100)}%")
            : "-",
        Count(row, "never_retried"),
        Count(row, "waiting"),
        Delay(row, "delay_p50"),
        Delay(row, "delay_p90"),
        Delay(row, "delay_max"),
    ];

    private static string Delay(JsonElement row, string name)
    {
        long? seconds = Number(row, name);
        if (seconds is null)
        {
            return "-";
        }

        bool bound = row.TryGetProperty(name + "_bound", out var flag) && flag.ValueKind == JsonValueKind.True;
        return (bound ? "≤" : string.Empty) + Duration(seconds.Value);
    }

    private static string Count(JsonElement row, string name) => (Number(row, name) ?? 0).ToString(CultureInfo.InvariantCulture);

    // Null when absent, null or not a whole number: the renderer reads whatever the socket gave it without throwing.
    private static long? Number(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long number) ? number : null;

    private static string Field(JsonElement element, string name) =>
        Printable(element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null);

    // The daemon escapes domains already; a terminal or log must still never get control characters from a socket.
    internal static string Printable(string? text) =>
        text is null ? string.Empty : string.Create(text.Length, text, static (span, source) =>
        {
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = source[i] is < '!' or > '~' ? '?' : source[i];
            }
        });
}
