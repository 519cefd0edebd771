using System.Text.Json;
using Greyd.Hosting.Reporting;

namespace Greyd.Hosting.Tests.Reporting;

public class ReportTextTests : LedgerTestBase
{

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(45, "45s")]
    [InlineData(60, "1m")]
    [InlineData(330, "5m30s")]
    [InlineData(3600, "1h")]
    [InlineData(7834, "2h10m")]
    [InlineData(86400, "1d")]
    [InlineData(97200, "1d3h")]
    [InlineData(172800, "2d")]
    public void DelaysReadAsAPersonWouldSayThem(long seconds, string text) => Assert.Equal(text, ReportText.Duration(seconds));

    [Fact]
    public void TheTableIsAlignedAndMarksBucketBounds()
    {
        var ledger = Open();
        long t = D + 3600;
        for (int i = 0; i < 3; i++)
        {
            Greylist(ledger, $"{i}@example.net", t);
            Greylist(ledger, $"{i}@late.example", t);
        }

        Greylist(ledger, "", t);
        Pass(ledger, "0@example.net", t, t + 290, firstRetry: true);
        Pass(ledger, "1@example.net", t, t + 400, firstRetry: true);
        Pass(ledger, "0@late.example", t, t + 7834, firstRetry: true);
        Now = D + Day;

        string text = Text(ledger.Query(new ReportQuery { Top = 2 }));

        Assert.Equal(
            """
            greyd report 2026-11-04 to 2026-11-11 (UTC days of first sighting)
            domain        greylisted  retried  passed  pass%  never-retried  waiting    p50    p90    max
            example.net            3        2       2    67%              0        1    ≤5m  6m40s  6m40s
            late.example           3        1       1    33%              0        2  2h10m  2h10m  2h10m
            total                  7        3       3    43%              0        4    ≤7m  2h10m  2h10m
            top 2 of 3 domains by greylisted
            waiting: not retried yet, within the 2d retry window

            """.Replace("\r", "", StringComparison.Ordinal),
            text);
    }

    [Fact]
    public void AnEmptyPeriodSaysSo()
    {
        Assert.Equal(
            "greyd report 2026-11-10 to 2026-11-10 (UTC days of first sighting), domain example.net\nnothing greylisted\n",
            Text(Open().Query(new ReportQuery { Since = "today", Domain = "example.net" })));
    }

    [Fact]
    public void ControlCharactersFromTheSocketNeverReachTheTerminal()
    {
        using var json = JsonDocument.Parse("""{"since":"\u001b[2J","rows":[{"domain":"a\nb\u0007","greylisted":1}],"total":{"greylisted":1}}""");

        string text = ReportText.Render(json.RootElement);

        Assert.StartsWith("greyd report ?[2J to  (UTC days of first sighting)\n", text);
        Assert.Contains("\na?b?  ", text);
        Assert.DoesNotContain('\u001b', text);
        Assert.DoesNotContain('\u0007', text);
    }
}
