using System.Text.Json;

namespace Greyd.Hosting.Reporting;

/// <summary>
/// A report as JSON, the answer of the admin command "report": dates as YYYY-MM-DD, delays in seconds, and
/// <c>delay_p50_bound</c> true where the percentile is a bucket's upper bound. <see cref="ReportText"/> reads it.
/// </summary>
public static class ReportJson
{
    /// <summary>Writes the report's properties into the open object <paramref name="json"/>.</summary>
    public static void Write(ReportResult report, Utf8JsonWriter json)
    {
        json.WriteString("since", Date(report.Since));
        json.WriteString("until", Date(report.Until));
        if (report.Domain is null)
        {
            json.WriteNull("domain");
        }
        else
        {
            json.WriteString("domain", report.Domain);
        }

        json.WriteNumber("retry_window", report.RetryWindow);
        json.WriteNumber("domains", report.Domains);
        json.WriteStartArray("rows");
        foreach (var row in report.Rows)
        {
            json.WriteStartObject();
            json.WriteString("domain", row.Domain);
            WriteCounts(row, json);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartObject("total");
        WriteCounts(report.Total, json);
        json.WriteEndObject();
        json.WriteNumber("domain_cap", report.DomainCap);
        json.WriteStartArray("capped_days");
        foreach (var day in report.CappedDays)
        {
            json.WriteStringValue(Date(day));
        }

        json.WriteEndArray();
        json.WriteBoolean("report_capped", report.ReportCapped);
    }

    private static void WriteCounts(ReportRow row, Utf8JsonWriter json)
    {
        json.WriteNumber("greylisted", row.Greylisted);
        json.WriteNumber("retried", row.Retried);
        json.WriteNumber("passed", row.Passed);
        json.WriteNumber("never_retried", row.NeverRetried);
        json.WriteNumber("waiting", row.Waiting);
        if (row.PassRatio is { } ratio)
        {
            json.WriteNumber("pass_ratio", Math.Round(ratio, 4));
        }
        else
        {
            json.WriteNull("pass_ratio");
        }

        if (row.Delay is { } delay)
        {
            json.WriteNumber("delay_p50", delay.P50);
            json.WriteBoolean("delay_p50_bound", delay.P50IsBound);
            json.WriteNumber("delay_p90", delay.P90);
            json.WriteBoolean("delay_p90_bound", delay.P90IsBound);
            json.WriteNumber("delay_max", delay.Max);
            json.WriteNumber("delay_mean", delay.Mean);
        }
        else
        {
            foreach (string name in (ReadOnlySpan<string>)["delay_p50", "delay_p50_bound", "delay_p90", "delay_p90_bound", "delay_max", "delay_mean"])
            {
                json.WriteNull(name);
            }
        }
    }

    private static string Date(DateOnly date) => date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
}
