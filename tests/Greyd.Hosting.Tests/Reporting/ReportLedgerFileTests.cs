using System.Text.RegularExpressions;
using Greyd.Hosting.Reporting;

namespace Greyd.Hosting.Tests.Reporting;

public class ReportLedgerFileTests : LedgerTestBase
{

    private string DayFile(string name) => Path.Combine(Dir, name);

    private static void TwoDays(ReportLedger ledger)
    {
        long t = D + 3600;
        Greylist(ledger, "a@example.net", t);
        Greylist(ledger, "b@example.net", t);
        Greylist(ledger, "c@example.net", t);
        Greylist(ledger, "", t);
        Pass(ledger, "a@example.net", t, t + 300, firstRetry: true);
        Pass(ledger, "b@example.net", t, t + 400, firstRetry: true);
        EarlyRetry(ledger, "c@example.net", t, t + 10);
        Greylist(ledger, "z@yesterday.example", t - Day);
    }

    [Fact]
    public void AFlushedLedgerReadsBackTheSameAfterARestart()
    {
        var ledger = Open();
        TwoDays(ledger);
        string before = Json(ledger.Query(new ReportQuery()));

        ledger.Flush();
        var reopened = Open();

        Assert.Equal(before, Json(reopened.Query(new ReportQuery())));
        Assert.Matches(
            new Regex(@"^greyd-report 1\nday 2026-11-10\ncapped 0\n<> 1 0 0 0 0\nexample\.net 3 3 2 700 400 300:1 420:1\ncrc [0-9a-f]{8}\n\z"),
            File.ReadAllText(DayFile("2026-11-10")));
        Assert.Equal(["2026-11-09", "2026-11-10"], Directory.GetFiles(Dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void CountsAfterARestartAddToTheLoadedDay()
    {
        var ledger = Open();
        Greylist(ledger, "a@example.net", D + 60);
        ledger.Flush();

        var reopened = Open();
        Pass(reopened, "a@example.net", D + 60, D + 360, firstRetry: true);
        reopened.Flush();

        Assert.Equal(new ReportRow("example.net", 1, 1, 1, 0, 0, new ReportDelay(300, false, 300, false, 300, 300)),
            Assert.Single(Open().Query(new ReportQuery()).Rows));
    }

    [Fact]
    public void AClosedDayLeavesMemoryStaysReportableAndALateCountIsAddedToItsFile()
    {
        var ledger = Open();
        Greylist(ledger, "a@example.net", D + 60);
        Greylist(ledger, "b@example.net", D + 60);
        Now = D + (4 * Day);
        ledger.Flush();

        // Only a clock gone wrong counts into such a day; its file must gain the count, not lose the rest.
        Pass(ledger, "a@example.net", D + 60, D + 400, firstRetry: true);
        Assert.Equal(2, Row(ledger.Query(new ReportQuery()), "example.net").Greylisted);
        ledger.Flush();

        var row = Row(Open().Query(new ReportQuery()), "example.net");
        Assert.Equal((2L, 1L, 1L, 1L), (row.Greylisted, row.Retried, row.Passed, row.NeverRetried));
    }

    public static TheoryData<string, string> Damage => new()
    {
        { "garbage", "truncated" },
        { "digit", "checksum mismatch" },
        { "truncated", "truncated" },
        { "binary", "not ASCII text" },
    };

    [Theory]
    [MemberData(nameof(Damage))]
    public void ADamagedDayIsMovedAsideWithAWarningAndGreydGoesOn(string kind, string reason)
    {
        var ledger = Open();
        Greylist(ledger, "a@example.net", D + 60);
        ledger.Flush();
        string path = DayFile("2026-11-10");
        string text = File.ReadAllText(path);
        File.WriteAllText(path, kind switch
        {
            "garbage" => "hello\nworld",
            "digit" => text.Replace("example.net 1 ", "example.net 7 ", StringComparison.Ordinal),
            "truncated" => text[..(text.Length / 2)],
            _ => text.Replace("a", "\u00e9", StringComparison.Ordinal),
        });

        var reopened = Open();
        Greylist(reopened, "b@example.org", D + 70);
        reopened.Flush();

        string aside = path + ".damaged-20261110T120000Z";
        Assert.Contains($"<4>report: {path} is damaged ({reason}), moved to {aside}; its counts are lost\n", LogText);
        Assert.True(File.Exists(aside));
        Assert.Equal(["example.org"], Open().Query(new ReportQuery()).Rows.Select(r => r.Domain));
    }

    [Fact]
    public void ADamagedOldDayIsFoundByTheQueryAndMovedAside()
    {
        Directory.CreateDirectory(Dir);
        File.WriteAllText(DayFile("2026-10-01"), "greyd-report 1\nday 2026-10-01\n");

        var report = Open().Query(new ReportQuery { Since = "2026-09-30" });

        Assert.Empty(report.Rows);
        Assert.True(File.Exists(DayFile("2026-10-01.damaged-20261110T120000Z")));
    }

    [Fact]
    public void DaysPastTheRetentionAndLeftoverTempFilesAreDeletedAtTheStart()
    {
        Directory.CreateDirectory(Dir);
        foreach (string name in new[] { "2025-10-05", "2025-10-06", "2025-10-05.damaged-20251006T000000Z", "2026-11-10.tmp", "notes" })
        {
            File.WriteAllText(DayFile(name), "x");
        }

        Open();

        // 2026-11-10 less 400 days is 2025-10-06, the oldest day kept.
        Assert.Equal(["2025-10-06", "notes"], Directory.GetFiles(Dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void WithoutADirectoryTheLedgerKeepsAWeekInMemory()
    {
        var ledger = Open(memoryOnly: true);
        Greylist(ledger, "a@example.net", D + 60);
        Greylist(ledger, "a@example.net", D - (9 * Day));
        ledger.Flush();

        Assert.Null(ledger.Directory);
        Assert.False(Directory.Exists(Dir));
        Assert.Equal(1, ledger.Query(new ReportQuery { Since = "2026-11-10" }).Total.Greylisted);
        Assert.Equal(0, ledger.Query(new ReportQuery { Since = "2026-10-01", Until = "2026-11-09" }).Total.Greylisted);
    }

    [Fact]
    public void AnUnusableDirectoryKeepsTheLedgerInMemoryWithAWarning()
    {
        File.WriteAllText(Dir, "a file where the directory should be");

        var ledger = Open();
        Greylist(ledger, "a@example.net", D + 60);
        ledger.Flush();

        Assert.Null(ledger.Directory);
        Assert.Contains($"<4>report: cannot use {Dir}, keeping the report in memory only: ", LogText);
        Assert.Equal(1, ledger.Query(new ReportQuery()).Total.Greylisted);
    }
}
