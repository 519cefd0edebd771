using System.Text;

namespace Greyd.Hosting.Reporting;

/// <summary>What <c>greyd report</c> asks: a period of UTC days of first sighting, a domain, how many rows.</summary>
public sealed record ReportQuery
{
    public const string DefaultSince = "7d";

    public const int DefaultTop = 20;

    /// <summary>Distinct domains one report adds up before the rest go to "(other)", which bounds its memory.</summary>
    public const int MaxDomains = 1_000_000;

    /// <summary>The first day: see <see cref="ReportPeriod"/>.</summary>
    public string Since { get; init; } = DefaultSince;

    /// <summary>The last day (included), or null for today.</summary>
    public string? Until { get; init; }

    /// <summary>Only this sender domain and its subdomains, or null for all.</summary>
    public string? Domain { get; init; }

    /// <summary>Rows shown, most greylisted first; 0 shows all.</summary>
    public int Top { get; init; } = DefaultTop;

    /// <summary>Runs over <paramref name="ledger"/> at <paramref name="now"/> (Unix seconds), under the ledger's file lock.</summary>
    internal ReportResult Run(ReportLedger ledger, long now)
    {
        var at = DateTimeOffset.FromUnixTimeSeconds(now);
        var since = ReportPeriod.ParseDay(Since, at, "since");
        var until = Until is null ? DateOnly.FromDateTime(at.UtcDateTime) : ReportPeriod.ParseDay(Until, at, "until");
        if (since > until)
        {
            throw new FormatException($"since: {since:yyyy-MM-dd} is after until {until:yyyy-MM-dd}");
        }

        if (Top < 0)
        {
            throw new FormatException("top: expected 0 (all) or more");
        }

        string? filter = Domain is null ? null : SenderDomain.KeyOf(Domain);
        var tallies = new Dictionary<string, ReportTally>(StringComparer.Ordinal);
        var total = new ReportTally();
        var capped = new List<DateOnly>();
        bool reportCapped = false;
        int first = LedgerFile.NumberOf(since);
        int last = LedgerFile.NumberOf(until);
        for (int number = first; number <= last; number++)
        {
            if (ledger.ReadDay(number) is not { } day)
            {
                continue;
            }

            if (day.Capped)
            {
                capped.Add(LedgerFile.DateOf(number));
            }

            bool closed = ledger.IsClosed(number, now);
            foreach (var (key, counts) in day.Domains)
            {
                string domain = Encoding.ASCII.GetString(key);
                if (filter is not null && domain != filter && !domain.EndsWith("." + filter, StringComparison.Ordinal))
                {
                    continue;
                }

                if (!tallies.TryGetValue(domain, out var tally))
                {
                    if (tallies.Count >= MaxDomains)
                    {
                        reportCapped = true;
                        domain = SenderDomain.Other;
                    }

                    tally = tallies.TryGetValue(domain, out var other) ? other : tallies[domain] = new ReportTally();
                }

                tally.Add(counts, closed);
                total.Add(counts, closed);
            }
        }

        var order = tallies.OrderByDescending(t => t.Value.Greylisted).ThenBy(t => t.Key, StringComparer.Ordinal);
        var rows = (Top > 0 ? order.Take(Top) : order).Select(t => t.Value.ToRow(t.Key)).ToList();
        return new ReportResult(since, until, filter, ledger.RetryWindow, rows, tallies.Count, total.ToRow("total"), ledger.DomainCap, capped, reportCapped);
    }
}
