using System.Text.Json;
using Greyd.Hosting.Reporting;

namespace Greyd.Hosting.Admin.Commands;

/// <summary>
/// "report": greylisted, retried, passed and delays per sender domain over whole UTC days. Request fields, all
/// optional: "since" and "until" (2026-11-28, today, 24h, 7d), "domain" (with its subdomains), "top" (0 for all).
/// The answer is <see cref="ReportJson"/>'s; <see cref="ReportText"/> prints it.
/// </summary>
public sealed class ReportCommand(ReportLedger ledger) : IAdminCommand
{
    public string Name => "report";

    public ValueTask ExecuteAsync(JsonElement request, Utf8JsonWriter response, CancellationToken cancellationToken)
    {
        var query = new ReportQuery
        {
            Since = Text(request, "since") ?? ReportQuery.DefaultSince,
            Until = Text(request, "until"),
            Domain = Text(request, "domain"),
            Top = Top(request),
        };
        ReportResult result;
        try
        {
            result = ledger.Query(query);
        }
        catch (FormatException e)
        {
            throw new AdminException(e.Message, e);
        }

        ReportJson.Write(result, response);
        return ValueTask.CompletedTask;
    }

    private static string? Text(JsonElement request, string name)
    {
        if (!request.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw new AdminException($"{name}: expected a string");
    }

    private static int Top(JsonElement request)
    {
        if (!request.TryGetProperty("top", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return ReportQuery.DefaultTop;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int top) && top >= 0
            ? top
            : throw new AdminException("top: expected a whole number, 0 for all");
    }
}
