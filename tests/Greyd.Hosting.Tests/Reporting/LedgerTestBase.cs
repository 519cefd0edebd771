using System.Text;
using System.Text.Json;
using Greyd.Hosting.Logging;
using Greyd.Hosting.Observers;
using Greyd.Hosting.Reporting;
using Greyd.Policy;

namespace Greyd.Hosting.Tests.Reporting;

/// <summary>A report ledger's world for each test: a fresh directory, a clock set by hand, a log in memory, and decisions to feed.</summary>
public abstract class LedgerTestBase : IDisposable
{
    /// <summary>2026-11-10 00:00 UTC: day D of the tests.</summary>
    public static readonly long D = new DateTimeOffset(2026, 11, 10, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();

    public const long Day = 86400;

    private readonly MemoryStream _logOutput = new();
    private readonly HandClock _clock = new();

    protected LedgerTestBase()
    {
        Root = Directory.CreateTempSubdirectory("greyd-report-").FullName;
        Log = new GreydLog(_logOutput, LogPriority.Info);
        Now = D + (12 * 3600);
    }

    public string Root { get; }

    public string Dir => Path.Combine(Root, "report");

    public GreydLog Log { get; }

    public TimeProvider Clock => _clock;

    public long Now
    {
        get => _clock.Now;
        set => _clock.Now = value;
    }

    public string LogText
    {
        get
        {
            Log.Flush();
            return Encoding.UTF8.GetString(_logOutput.ToArray());
        }
    }

    public ReportLedger Open(GreylistOptions? options = null, int cap = ReportLedger.DefaultDomainCap, bool memoryOnly = false) =>
        ReportLedger.Open(memoryOnly ? null : Dir, options ?? new GreylistOptions(), Log, Clock, cap);

    public static void Greylist(IDecisionObserver ledger, string sender, long at) =>
        Feed(ledger, PolicyOutcome.GreylistNew, Encoding.UTF8.GetBytes(sender), at, at, firstRetry: false);

    /// <summary>A first retry before the delay is over.</summary>
    public static void EarlyRetry(IDecisionObserver ledger, string sender, long firstSeen, long at) =>
        Feed(ledger, PolicyOutcome.GreylistEarlyRetry, Encoding.UTF8.GetBytes(sender), firstSeen, at, firstRetry: true);

    public static void Pass(IDecisionObserver ledger, string sender, long firstSeen, long at, bool firstRetry) =>
        Feed(ledger, PolicyOutcome.FirstPass, Encoding.UTF8.GetBytes(sender), firstSeen, at, firstRetry);

    public static void Feed(IDecisionObserver ledger, PolicyOutcome outcome, ReadOnlySpan<byte> sender, long firstSeen, long at, bool firstRetry) =>
        ledger.OnDecision(new DecisionEvent(outcome, at, sender, firstSeen, outcome == PolicyOutcome.FirstPass ? at - firstSeen : 0, firstRetry));

    public static ReportRow Row(ReportResult report, string domain) => Assert.Single(report.Rows, r => r.Domain == domain);

    public static string Json(ReportResult report)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            ReportJson.Write(report, json);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static string Text(ReportResult report)
    {
        using var document = JsonDocument.Parse(Json(report));
        return ReportText.Render(document.RootElement);
    }

    public void Dispose()
    {
        Directory.Delete(Root, recursive: true);
        GC.SuppressFinalize(this);
    }

    private sealed class HandClock : TimeProvider
    {
        public long Now { get; set; }

        public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeSeconds(Now);
    }
}
