using System.Buffers;
using System.Diagnostics;
using System.Text;
using Greyd.Hosting.Logging;
using Greyd.Hosting.Observers;
using Greyd.Hosting.SenderPools;
using Greyd.Hosting.Server;
using Greyd.Hosting.Whitelists;
using Greyd.Policy;
using Greyd.Policy.Whitelists;
using Greyd.Protocol;
using Greyd.Spf.Evaluation;
using Greyd.Storage;
using Greyd.Tests.Shared;

namespace Greyd.Hosting.Tests.SenderPools;

/// <summary>The request path with --spf-pools: which key a request gets, and what a pool sender's retry finds.</summary>
public class PolicyServiceSenderPoolTests
{
    private const string Greylisted = "action=DEFER_IF_PERMIT Greylisted by greyd, try again later\n\n";

    // A random start date, so a test that reads the real clock by mistake fails every time.
    private static readonly long s_t0 = 1_700_000_000 + Random.Shared.Next(0, 100_000_000);

    private readonly TestClock _clock = new();
    private readonly MemoryStream _logOutput = new();
    private readonly PolicyScratch _scratch = new();
    private readonly Counts _counts = new();
    private readonly GreylistOptions _options = new() { Hostname = "test.host" };
    private readonly InMemoryGreylistStore _store;

    // A pool like a big provider's: the sender's record includes its outbound ranges in two unrelated networks.
    private readonly FakeSpfDns _dns = new FakeSpfDns()
        .AddTxt("pool.example", "v=spf1 include:_spf.pool.example -all")
        .AddTxt("_spf.pool.example", "v=spf1 ip4:198.51.100.0/24 ip4:203.0.113.0/25 ip6:2001:db8:40::/48 ~all")
        .AddTxt("soft.example", "v=spf1 ip4:198.51.100.0/24 ?all")
        .AddTxt("anyone.example", "v=spf1 include:_spf.anyone.example")
        .AddTxt("_spf.anyone.example", "v=spf1 ip4:192.0.2.0/23 ip4:0.0.0.0/1 ip4:128.0.0.0/1 -all");

    public PolicyServiceSenderPoolTests() => _store = new InMemoryGreylistStore(_options);

    private sealed class TestClock : TimeProvider
    {
        public long Now { get; set; } = s_t0;

        public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeSeconds(Now);
    }

    private sealed class Counts : IDecisionObserver
    {
        public Dictionary<string, int> Checks { get; } = [];

        public void OnDecision(in DecisionEvent decision)
        {
        }

        public void OnRequestDone(long elapsedTicks, bool fault)
        {
        }

        public void OnPoolCheck(in PoolCheck check) => Checks[check.Label] = Checks.GetValueOrDefault(check.Label) + 1;
    }

    private PolicyService Service(TimeSpan? budget = null, GreylistOptions? options = null) => new(
        options ?? _options, _store, new WhitelistHolder(WhitelistSet.Empty), new GreydLog(_logOutput, LogPriority.Info), _clock, _counts,
        new SenderPoolChecker(new SpfEvaluator(_dns), budget ?? TimeSpan.FromSeconds(2), new GreydLog(_logOutput, LogPriority.Info)));

    private static PolicyRequest Request(string client, string sender = "news@pool.example", string recipient = "bob@example.org")
    {
        var request = new PolicyRequest();
        request.Set(PolicyAttribute.Request, "smtpd_access_policy"u8);
        request.Set(PolicyAttribute.ClientName, "unknown"u8);
        request.Set(PolicyAttribute.ClientAddress, Encoding.ASCII.GetBytes(client));
        request.Set(PolicyAttribute.Sender, Encoding.UTF8.GetBytes(sender));
        request.Set(PolicyAttribute.Recipient, Encoding.UTF8.GetBytes(recipient));
        request.Set(PolicyAttribute.HeloName, "out.pool.example"u8);
        return request;
    }

    private async Task<string> AskAsync(PolicyService service, PolicyRequest request)
    {
        var output = new ArrayBufferWriter<byte>();
        Assert.True(await service.HandleAsync(request, _scratch, output));
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    private string Log => Encoding.UTF8.GetString(_logOutput.ToArray());

    [Fact]
    public async Task APoolSendersRetryFromAnotherAuthorisedAddressPasses()
    {
        var service = Service();

        Assert.Equal(Greylisted, await AskAsync(service, Request("198.51.100.7")));
        _clock.Now += 400;
        string retry = await AskAsync(service, Request("203.0.113.90"));

        Assert.StartsWith("action=PREPEND X-Greylist: delayed 400 seconds", retry);
        Assert.Contains("action=greylist, reason=new, spf=pass, pool=pool.example, client_name=unknown, client_address=198.51.100.7,", Log);
        Assert.Contains("action=pass, reason=triplet found, delay=400, spf=pass, pool=pool.example, client_name=unknown, client_address=203.0.113.90,", Log);
    }

    [Fact]
    public async Task SpfPassNeverSkipsTheDelayOfTheFirstAttempt()
    {
        var service = Service();

        Assert.Equal(Greylisted, await AskAsync(service, Request("198.51.100.7")));
        _clock.Now += 299;
        Assert.Equal(Greylisted, await AskAsync(service, Request("203.0.113.5")));
        Assert.Contains("reason=early-retry (1s missing), spf=pass, pool=pool.example", Log);
    }

    [Fact]
    public async Task ARetryFromAnAddressTheRecordDoesNotAuthoriseIsANewTriplet()
    {
        var service = Service();
        await AskAsync(service, Request("198.51.100.7"));
        _clock.Now += 400;

        Assert.Equal(Greylisted, await AskAsync(service, Request("192.0.2.44")));

        Assert.Contains("action=greylist, reason=new, spf=fail, client_name=unknown, client_address=192.0.2.44,", Log);
        var stored = await _store.PeekTripletAsync(Key(Request("192.0.2.44")), _clock.Now);
        Assert.Equal(_clock.Now, stored?.FirstSeen);
    }

    [Fact]
    public async Task OnlyAPassPools_OtherResultsKeyByClientNetwork()
    {
        var service = Service();
        await AskAsync(service, Request("198.51.100.7", sender: "a@soft.example"));
        _clock.Now += 400;

        // ?all gives neutral for an address outside the record: the retry from another network starts over.
        Assert.Equal(Greylisted, await AskAsync(service, Request("192.0.2.8", sender: "a@soft.example")));
        Assert.Contains("spf=neutral, client_name=unknown, client_address=192.0.2.8", Log);
        Assert.Equal(1, _counts.Checks["neutral"]);
        Assert.Equal(1, _counts.Checks["pass"]);
    }

    [Fact]
    public async Task ARecordThatPassesAnyAddressNamesNoPool()
    {
        // A spammer's domain with a record that authorises the whole Internet must not let a botnet's retries pool.
        var service = Service();
        await AskAsync(service, Request("203.0.113.7", sender: "x@anyone.example"));
        _clock.Now += 400;

        Assert.Equal(Greylisted, await AskAsync(service, Request("198.51.100.9", sender: "x@anyone.example")));
        Assert.Contains("action=greylist, reason=new, spf=pass, client_name=unknown, client_address=198.51.100.9", Log);
        Assert.DoesNotContain("pool=anyone.example", Log);

        // The record's own network still pools: only the pass by the broad term is refused.
        await AskAsync(service, Request("192.0.2.7", sender: "y@anyone.example"));
        _clock.Now += 400;
        Assert.StartsWith("action=PREPEND ", await AskAsync(service, Request("192.0.3.99", sender: "y@anyone.example")));
        Assert.Contains("spf=pass, pool=anyone.example, client_name=unknown, client_address=192.0.3.99", Log);
    }

    [Fact]
    public async Task ThePoolKeyNamesTheSenderDomainAndTheNetworkKeyIsUntouched()
    {
        var service = Service();
        await AskAsync(service, Request("198.51.100.7", sender: "News@Pool.Example"));

        var pool = Encoding.ASCII.GetBytes("spf:pool.example/news@pool.example/bob@example.org");
        Assert.NotNull(await _store.PeekTripletAsync(pool, _clock.Now));
        Assert.Null(await _store.PeekTripletAsync(Key(Request("198.51.100.7")), _clock.Now));
    }

    [Fact]
    public async Task ATripletAlreadyWaitingUnderTheClientNetworkDecides()
    {
        // The first attempt came before --spf-pools was turned on (or while DNS failed): it waits under the network key.
        var plain = new PolicyService(_options, _store, new WhitelistHolder(WhitelistSet.Empty), new GreydLog(_logOutput, LogPriority.Info), _clock);
        await AskAsync(plain, Request("198.51.100.7"));
        _clock.Now += 400;

        string retry = await AskAsync(Service(), Request("198.51.100.7"));

        Assert.StartsWith("action=PREPEND X-Greylist: delayed 400 seconds", retry);
        Assert.Contains("action=pass, reason=triplet found, delay=400, spf=pass, client_name=unknown, client_address=198.51.100.7", Log);
    }

    [Fact]
    public async Task ADnsTimeoutFallsBackToTheNetworkKeyWithinTheBudget()
    {
        _dns.Hang("pool.example");
        var service = Service(budget: TimeSpan.FromMilliseconds(200));

        var watch = Stopwatch.StartNew();
        string answer = await AskAsync(service, Request("198.51.100.7"));
        watch.Stop();

        Assert.Equal(Greylisted, answer);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(190), TimeSpan.FromSeconds(1.5));
        Assert.Contains("action=greylist, reason=new, spf=timeout, client_name=unknown, client_address=198.51.100.7,", Log);
        Assert.NotNull(await _store.PeekTripletAsync(Key(Request("198.51.100.7")), _clock.Now));
        Assert.Equal(1, _counts.Checks["timeout"]);
    }

    [Fact]
    public async Task RepeatedTimeoutsPauseTheChecksSoAnOutageDoesNotSlowEveryRequest()
    {
        _dns.Hang("pool.example");
        var service = Service(budget: TimeSpan.FromMilliseconds(50));
        for (int i = 0; i < SenderPoolChecker.PauseAfterTimeouts; i++)
        {
            await AskAsync(service, Request("198.51.100.7", recipient: $"r{i}@example.org"));
        }

        var watch = Stopwatch.StartNew();
        await AskAsync(service, Request("198.51.100.7", recipient: "late@example.org"));
        watch.Stop();

        Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(45), $"a paused check still waited {watch.Elapsed.TotalMilliseconds} ms");
        Assert.Equal(1, _counts.Checks["skipped"]);
        Assert.Contains("checks pause for 30s", Log);
        Assert.Contains("spf=skipped, client_name=unknown", Log);
    }

    [Fact]
    public async Task TheNullSenderMakesNoDnsQuery()
    {
        await AskAsync(Service(), Request("192.0.2.1", sender: ""));

        Assert.Equal(0, _dns.TotalQueries);
        Assert.DoesNotContain("spf=", Log);
        Assert.Empty(_counts.Checks);
    }

    [Fact]
    public async Task AnAutoWhitelistedClientNeverWaitsOnDns()
    {
        // The AWL passes this client whatever the sender, so while DNS hangs its mail passes at once.
        _dns.Hang("pool.example");
        var options = new GreylistOptions { Hostname = "test.host", AutoWhitelistClients = 1 };
        var awlStore = new InMemoryGreylistStore(options);
        await awlStore.ObserveRequestAsync(Encoding.ASCII.GetBytes("192.0.2.9"), "k"u8.ToArray(), _clock.Now - 4000);
        await awlStore.ObserveRequestAsync(Encoding.ASCII.GetBytes("192.0.2.9"), "k"u8.ToArray(), _clock.Now - 3000);
        var awl = new PolicyService(options, awlStore, new WhitelistHolder(WhitelistSet.Empty), new GreydLog(_logOutput, LogPriority.Info), _clock, _counts,
            new SenderPoolChecker(new SpfEvaluator(_dns), TimeSpan.FromSeconds(5), new GreydLog(_logOutput, LogPriority.Info)));

        var watch = Stopwatch.StartNew();
        Assert.Equal("action=DUNNO\n\n", await AskAsync(awl, Request("192.0.2.9")));
        watch.Stop();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"the AWL'd client waited {watch.Elapsed.TotalMilliseconds} ms");
        Assert.Contains("action=pass, reason=client AWL, client_name=unknown, client_address=192.0.2.9", Log);
        Assert.Empty(_counts.Checks);

        // A client not on the AWL waits for the same answer (up to the budget), as it needs it for its key.
        _dns.AddTxt("quick.example", "v=spf1 ip4:192.0.2.0/24 -all");
        Assert.StartsWith("action=DEFER_IF_PERMIT", await AskAsync(awl, Request("192.0.2.50", sender: "a@quick.example")));
        Assert.Equal(1, _counts.Checks["pass"]);
    }

    [Theory]
    [InlineData("a@b@pool.example", "pool.example")]
    [InlineData("x@Pool.Example.", "pool.example")]
    [InlineData("", null)]
    [InlineData("no-at-sign", null)]
    [InlineData("a@", null)]
    [InlineData("a@bad domain", null)]
    [InlineData("a@evil\r\nforged=1", null)]
    [InlineData("a@d\u00e9j\u00e0.example", null)]
    public void TheSenderDomainIsAPlainDnsNameOrNothing(string sender, string? domain) =>
        Assert.Equal(domain, SenderPoolChecker.SenderDomain(Encoding.UTF8.GetBytes(sender)));

    private byte[] Key(PolicyRequest request)
    {
        Assert.True(ClientAddress.TryParse(request.Get(PolicyAttribute.ClientAddress), out var client));
        var key = new byte[TripletKeyBuilder.MaxKeyLength];
        return key[..TripletKeyBuilder.WriteTripletKey(request, client, _options, key)];
    }
}
