using System.Buffers;
using System.Text;
using Greyd.Hosting.Logging;
using Greyd.Hosting.Observers;
using Greyd.Hosting.Reporting;
using Greyd.Hosting.Server;
using Greyd.Hosting.Whitelists;
using Greyd.Policy;
using Greyd.Policy.Whitelists;
using Greyd.Protocol;
using Greyd.Storage;

namespace Greyd.Hosting.Tests.Reporting;

public class ReportEndToEndTests : LedgerTestBase
{
    private readonly PolicyScratch _scratch = new();

    private sealed class Recorder : IDecisionObserver
    {
        public List<(PolicyOutcome Outcome, string Sender, long FirstSeen, long Waited, bool FirstRetry)> Events { get; } = [];

        public void OnDecision(in DecisionEvent decision) =>
            Events.Add((decision.Outcome, Encoding.UTF8.GetString(decision.Sender), decision.FirstSeen, decision.Waited, decision.FirstRetry));

        public void OnRequestDone(long elapsedTicks, bool fault)
        {
        }
    }

    private async Task AskAsync(PolicyService service, string sender, string recipient, string instance)
    {
        var request = new PolicyRequest();
        request.Set(PolicyAttribute.Request, "smtpd_access_policy"u8);
        request.Set(PolicyAttribute.ClientName, "mail.example.net"u8);
        request.Set(PolicyAttribute.ClientAddress, "192.0.2.10"u8);
        request.Set(PolicyAttribute.Sender, Encoding.UTF8.GetBytes(sender));
        request.Set(PolicyAttribute.Recipient, Encoding.UTF8.GetBytes(recipient));
        request.Set(PolicyAttribute.Instance, Encoding.UTF8.GetBytes(instance));
        Assert.True(await service.HandleAsync(request, _scratch, new ArrayBufferWriter<byte>()));
    }

    [Fact]
    public async Task ThePolicyServiceFeedsTheLedgerEveryTripletsFirstSightingRetryAndPass()
    {
        var options = new GreylistOptions();
        var ledger = Open(options);
        var recorder = new Recorder();
        var service = new PolicyService(options, new InMemoryGreylistStore(options), new WhitelistHolder(WhitelistSet.Empty),
            new GreydLog(new MemoryStream(), LogPriority.Info), Clock, DecisionObservers.Combine(ledger, recorder));
        long t = D + (10 * 3600);
        Now = t;
        await AskAsync(service, "alice@Example.NET", "bob@example.org", "m1");
        await AskAsync(service, "", "bob@example.org", "m2");
        await AskAsync(service, "carol@other.org", "bob@example.org", "m3");
        Now = t + 60;
        await AskAsync(service, "alice@Example.NET", "bob@example.org", "m1");
        Now = t + 300;
        await AskAsync(service, "alice@Example.NET", "bob@example.org", "m1");
        Now = t + 301;
        await AskAsync(service, "alice@Example.NET", "bob@example.org", "m4");
        Now = t + 900;
        await AskAsync(service, "carol@other.org", "bob@example.org", "m3");

        Assert.Equal(
            [
                (PolicyOutcome.GreylistNew, "alice@Example.NET", t, 0, false),
                (PolicyOutcome.GreylistNew, "", t, 0, false),
                (PolicyOutcome.GreylistNew, "carol@other.org", t, 0, false),
                (PolicyOutcome.GreylistEarlyRetry, "alice@Example.NET", t, 60, true),
                (PolicyOutcome.FirstPass, "alice@Example.NET", t, 300, false),
                (PolicyOutcome.Pass, "alice@Example.NET", t, 301, false),
                (PolicyOutcome.FirstPass, "carol@other.org", t, 900, true),
            ],
            recorder.Events);

        Now = D + (3 * Day);
        var report = ledger.Query(new ReportQuery { Since = "2026-11-10" });
        Assert.Equal(
            [
                new ReportRow("<>", 1, 0, 0, 1, 0, null),
                new ReportRow("example.net", 1, 1, 1, 0, 0, new ReportDelay(300, false, 300, false, 300, 300)),
                new ReportRow("other.org", 1, 1, 1, 0, 0, new ReportDelay(900, false, 900, false, 900, 900)),
            ],
            report.Rows);
    }
}
