using System.Text;
using Greyd.Hosting.Reporting;
using Greyd.Policy;

namespace Greyd.Hosting.Tests.Reporting;

public class ReportLedgerTests : LedgerTestBase
{

    // Day D at 10:00: three example.net triplets and one bounce greylisted; one retries early then passes at 5 min,
    // one passes on its first retry at 6m40s, the others never come back.
    private void KnownSequence(ReportLedger ledger)
    {
        long t = D + (10 * 3600);
        Greylist(ledger, "alice@example.net", t);
        Greylist(ledger, "bob@Example.NET", t);
        Greylist(ledger, "carol@example.net", t);
        Greylist(ledger, "", t);
        EarlyRetry(ledger, "alice@example.net", t, t + 60);
        Pass(ledger, "alice@example.net", t, t + 300, firstRetry: false);
        Pass(ledger, "bob@example.net", t, t + 400, firstRetry: true);
    }

    [Fact]
    public void AKnownSequenceGivesExactRowsOnceTheRetryWindowIsOver()
    {
        var ledger = Open();
        KnownSequence(ledger);
        Now = D + (3 * Day);

        var report = ledger.Query(new ReportQuery { Since = "2026-11-10" });

        Assert.Equal(2, report.Domains);
        Assert.Equal(new ReportRow("example.net", 3, 2, 2, 1, 0, new ReportDelay(300, true, 400, false, 400, 350)), report.Rows[0]);
        Assert.Equal(new ReportRow("<>", 1, 0, 0, 1, 0, null), report.Rows[1]);
        Assert.Equal(new ReportRow("total", 4, 2, 2, 2, 0, new ReportDelay(300, true, 400, false, 400, 350)), report.Total);
        Assert.Equal(2.0 / 3, report.Rows[0].PassRatio);
    }

    [Fact]
    public void UnretriedTripletsAreWaitingUntilTheirDaysRetryWindowIsOver()
    {
        var ledger = Open();
        KnownSequence(ledger);

        // A triplet first seen at 23:59 on D may retry until 23:59 on D+2: the day closes at D+3 00:00.
        Now = D + (3 * Day) - 1;
        var open = Row(ledger.Query(new ReportQuery { Since = "2026-11-10" }), "example.net");
        Now = D + (3 * Day);
        var closed = Row(ledger.Query(new ReportQuery { Since = "2026-11-10" }), "example.net");

        Assert.Equal((0L, 1L), (open.NeverRetried, open.Waiting));
        Assert.Equal((1L, 0L), (closed.NeverRetried, closed.Waiting));
    }

    [Fact]
    public void TheRetryWindowComesFromTheGreylistingOptions()
    {
        var ledger = Open(new GreylistOptions { RetryWindow = 3600 });
        KnownSequence(ledger);
        Now = D + Day + 3600;

        Assert.Equal(1, Row(ledger.Query(new ReportQuery()), "example.net").NeverRetried);
        Assert.Equal(3600, ledger.RetryWindow);
    }

    [Fact]
    public void APassAfterMidnightCountsOnTheDayOfTheFirstSighting()
    {
        var ledger = Open();
        long first = D + Day - 120;
        Greylist(ledger, "a@late.example", first);
        Pass(ledger, "a@late.example", first, first + 420, firstRetry: true);
        Now = D + (5 * Day);

        var onD = ledger.Query(new ReportQuery { Since = "2026-11-10", Until = "2026-11-10" });
        var after = ledger.Query(new ReportQuery { Since = "2026-11-11" });

        Assert.Equal(new ReportRow("late.example", 1, 1, 1, 0, 0, new ReportDelay(420, false, 420, false, 420, 420)), Assert.Single(onD.Rows));
        Assert.Empty(after.Rows);
        Assert.Equal(0, after.Total.Greylisted);
    }

    [Fact]
    public void DecisionsThatAreNeitherNewRetriedNorFirstPassAreNotCounted()
    {
        var ledger = Open();
        long t = D + 3600;
        foreach (var outcome in new[] { PolicyOutcome.Pass, PolicyOutcome.GreylistEarlyRetry, PolicyOutcome.ClientAwl, PolicyOutcome.ClientWhitelist, PolicyOutcome.Unusable })
        {
            Feed(ledger, outcome, "a@x.example"u8, t, t + 10, firstRetry: false);
        }

        Feed(ledger, PolicyOutcome.GreylistNew, "a@x.example"u8, 0, t, firstRetry: false);

        Assert.Empty(ledger.Query(new ReportQuery()).Rows);
    }

    [Fact]
    public void ThePeriodIsWholeUtcDaysFromDatesOrTimesBackFromNow()
    {
        var ledger = Open();
        Greylist(ledger, "a@ten.example", D - (10 * Day));
        Greylist(ledger, "a@seven.example", D - (7 * Day) + 60);
        Greylist(ledger, "a@three.example", D - (3 * Day));
        Greylist(ledger, "a@today.example", D + 60);

        string[] Domains(ReportQuery query) => [.. ledger.Query(query).Rows.Select(r => r.Domain).Order(StringComparer.Ordinal)];

        // Now is D 12:00: 7d back lands on D-7 12:00, and that whole day is in.
        Assert.Equal(["seven.example", "three.example", "today.example"], Domains(new ReportQuery()));
        Assert.Equal(["three.example", "today.example"], Domains(new ReportQuery { Since = "84h" }));
        Assert.Equal(["today.example"], Domains(new ReportQuery { Since = "today" }));
        Assert.Equal(["seven.example", "ten.example", "three.example"], Domains(new ReportQuery { Since = "2w", Until = "1d" }));
        Assert.Equal(["ten.example"], Domains(new ReportQuery { Since = "2026-10-31", Until = "2026-10-31" }));
        var report = ledger.Query(new ReportQuery { Since = "1w", Until = "2026-11-08" });
        Assert.Equal((new DateOnly(2026, 11, 3), new DateOnly(2026, 11, 8)), (report.Since, report.Until));
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("7")]
    [InlineData("7y")]
    [InlineData("-7d")]
    [InlineData("2026-13-01")]
    public void ABadPeriodIsRefusedWithAMessage(string since)
    {
        var ledger = Open();

        var e = Assert.Throws<FormatException>(() => ledger.Query(new ReportQuery { Since = since }));

        Assert.Equal($"since: expected a date (YYYY-MM-DD), today, or a time back from now (24h, 7d, 2w), not '{since}'", e.Message);
    }

    [Fact]
    public void SinceAfterUntilIsRefused()
    {
        var e = Assert.Throws<FormatException>(() => Open().Query(new ReportQuery { Since = "today", Until = "1d" }));

        Assert.Equal("since: 2026-11-10 is after until 2026-11-09", e.Message);
    }

    [Fact]
    public void TheDomainFilterTakesSubdomainsAndAnyCaseAndTopTakesTheMostGreylisted()
    {
        var ledger = Open();
        long t = D + 60;
        foreach (string sender in new[] { "a@example.com", "b@mail.example.com", "c@mail.example.com", "d@notexample.com", "e@other.org", "f@other.org", "g@other.org" })
        {
            Greylist(ledger, sender, t++);
        }

        var filtered = ledger.Query(new ReportQuery { Domain = "Example.COM" });
        var top = ledger.Query(new ReportQuery { Top = 2 });

        Assert.Equal(["mail.example.com", "example.com"], filtered.Rows.Select(r => r.Domain));
        Assert.Equal(3, filtered.Total.Greylisted);
        Assert.Equal("example.com", filtered.Domain);
        Assert.Equal(["other.org", "mail.example.com"], top.Rows.Select(r => r.Domain));
        Assert.Equal(4, top.Domains);
        Assert.Equal(7, top.Total.Greylisted);
    }

    [Fact]
    public void WithPrivacyEverySenderCountsInOneBucket()
    {
        var ledger = Open(new GreylistOptions { Privacy = true });
        Greylist(ledger, "alice@secret.example", D + 60);
        Greylist(ledger, "", D + 60);
        ledger.Flush();

        var row = Assert.Single(ledger.Query(new ReportQuery()).Rows);

        Assert.Equal(("(private)", 2L), (row.Domain, row.Greylisted));
        Assert.DoesNotContain("secret", File.ReadAllText(Path.Combine(Dir, "2026-11-10")));
    }

    [Fact]
    public void PastTheDomainCapADayCountsTheRestAsOtherAndTheReportSaysSo()
    {
        var ledger = Open(cap: 3);
        for (int i = 0; i < 5; i++)
        {
            Greylist(ledger, $"x@d{i}.example", D + 60);
            Greylist(ledger, $"x@d{i}.example", D + 61);
        }

        Greylist(ledger, "x@d0.example", D - Day);
        var report = ledger.Query(new ReportQuery());

        Assert.Equal(["(other)", "d0.example", "d1.example", "d2.example"], report.Rows.Select(r => r.Domain));
        Assert.Equal(4, Row(report, "(other)").Greylisted);
        Assert.Equal(3, Row(report, "d0.example").Greylisted);
        Assert.Equal([new DateOnly(2026, 11, 10)], report.CappedDays);
        Assert.Contains("(other): domains past the first 3 of a day, on 2026-11-10\n", Text(report));
    }

    [Fact]
    public void HostileSenderBytesAreEscapedInTheFileTheJsonAndTheText()
    {
        var ledger = Open();
        byte[][] senders =
        [
            "x@Evil\n.COM\u001b[31m"u8.ToArray(),
            "x@a b|\"}<>\\.example"u8.ToArray(),
            "x@(other)"u8.ToArray(),
            [(byte)'x', (byte)'@', 0xff, 0x00, 0xc3, 0xa9, (byte)'%'],
            "no-at-sign"u8.ToArray(),
            [(byte)'x', (byte)'@', .. Enumerable.Repeat((byte)'a', 300)],
        ];
        foreach (byte[] sender in senders)
        {
            Feed(ledger, PolicyOutcome.GreylistNew, sender, D + 60, D + 60, firstRetry: false);
        }

        ledger.Flush();
        var report = Open().Query(new ReportQuery());
        string json = Json(report);
        string text = Text(report);

        Assert.Equal(
            ["%28other%29", "%FF%00%C3%A9%25", "(invalid)", "(none)", "a%20b%7C%22%7D%3C%3E%5C.example", "evil%0A.com%1B[31m"],
            report.Rows.Select(r => r.Domain).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("damaged", LogText);
        Assert.All(json + text, c => Assert.True(c is '\n' or '≤' or (>= ' ' and <= '~'), $"character {(int)c}"));
        Assert.Contains("evil%0A.com%1B[31m", text);
    }

    [Fact]
    public void CountingAKnownDomainAllocatesNothing()
    {
        var ledger = Open();
        byte[] sender = "b@Example.NET"u8.ToArray();
        void Count()
        {
            for (int i = 0; i < 1000; i++)
            {
                Feed(ledger, PolicyOutcome.GreylistNew, sender, D + 60, D + 60, firstRetry: false);
                Feed(ledger, PolicyOutcome.FirstPass, sender, D + 60, D + 400, firstRetry: true);
            }
        }

        Count();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Count();

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(2000, Row(ledger.Query(new ReportQuery()), "example.net").Passed);
    }

    [Fact]
    public void ConcurrentRequestsLoseNoCountAndKeepTheCap()
    {
        var ledger = Open(cap: 10);
        byte[][] senders = [.. Enumerable.Range(0, 40).Select(i => Encoding.ASCII.GetBytes($"x@d{i}.example"))];

        Parallel.For(0, 8, worker =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                var sender = senders[(i + worker) % senders.Length];
                Feed(ledger, PolicyOutcome.GreylistNew, sender, D + 60, D + 60, firstRetry: false);
                Feed(ledger, PolicyOutcome.FirstPass, sender, D + 60, D + 60 + (i % 900), firstRetry: true);
            }
        });
        var report = ledger.Query(new ReportQuery { Top = 0 });

        Assert.Equal(11, report.Domains);
        Assert.Contains(report.Rows, r => r.Domain == "(other)");
        Assert.Equal((160_000L, 160_000L, 160_000L), (report.Total.Greylisted, report.Total.Retried, report.Total.Passed));
        Assert.Equal(899, report.Total.Delay?.Max);
    }
}
