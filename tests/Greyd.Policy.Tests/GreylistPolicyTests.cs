using Greyd.Protocol;
using Greyd.Storage;

namespace Greyd.Policy.Tests;

public class GreylistPolicyTests
{
    private const long T0 = TestRequests.T0;

    private readonly record struct Reply(PolicyOutcome Outcome, long Missing, long Waited, long Counted)
    {
        public static Reply New(long missing = 300) => new(PolicyOutcome.GreylistNew, missing, 0, 0);

        public static Reply Early(long missing, long waited) => new(PolicyOutcome.GreylistEarlyRetry, missing, waited, 0);

        public static Reply FirstPass(long waited, long counted) => new(PolicyOutcome.FirstPass, 0, waited, counted);

        public static Reply Awl => new(PolicyOutcome.ClientAwl, 0, 0, 0);
    }

    /// <summary>
    /// Runs requests through the pure policy functions and an <see cref="InMemoryGreylistStore"/> in postgrey's
    /// order (AWL check, triplet, AWL count, decision). Whitelists and header de-duplication belong to the host.
    /// </summary>
    private sealed class Harness(GreylistOptions options)
    {
        public InMemoryGreylistStore Store { get; } = new(options);

        public async Task<Reply> Send(long t, string clientAddress = "192.0.2.10", string sender = "alice@example.net", string recipient = "bob@example.org")
        {
            var request = TestRequests.Create(clientAddress, sender, recipient);
            Assert.Null(GreylistPolicy.CheckRequest(request, out var client, out bool addressOk));
            Assert.True(addressOk);
            long now = T0 + t;
            byte[] clientKey = TestRequests.ClientKey(client, options);
            if (options.AutoWhitelistClients > 0 && await Store.CheckClientAsync(clientKey, now))
            {
                return Reply.Awl;
            }

            byte[] tripletKey = TestRequests.TripletKey(request, options);
            var observation = await Store.ObserveTripletAsync(tripletKey, now);
            Assert.Equal(now, observation.Stored.LastSeen);
            var decision = GreylistPolicy.Decide(observation, now, options);
            long counted = 0;
            if (options.AutoWhitelistClients > 0 && decision.CountsForAutoWhitelist)
            {
                counted = await Store.CountClientAsync(clientKey, now);
            }

            return new Reply(decision.Outcome, decision.Missing, decision.Waited, counted);
        }
    }

    [Fact]
    public async Task StoreScenarioS01WalksTheCoreLifeCycle()
    {
        var h = new Harness(new GreylistOptions { Hostname = "test.host" });

        Assert.Equal(Reply.New(), await h.Send(0)); // V01
        Assert.Equal(Reply.Early(240, 60), await h.Send(60)); // V02
        Assert.Equal(Reply.Early(1, 299), await h.Send(299)); // V03
        Assert.Equal(Reply.FirstPass(300, 1), await h.Send(300)); // V04: AWL 192.0.2.10 = 1
        Assert.Equal(PolicyOutcome.Pass, (await h.Send(301)).Outcome); // V05
        Assert.Equal(PolicyOutcome.Pass, (await h.Send(400, clientAddress: "192.0.2.99")).Outcome); // V06: same /24
        Assert.Equal(Reply.New(), await h.Send(400, clientAddress: "198.51.100.10")); // V07
        Assert.Equal(Reply.New(), await h.Send(400, recipient: "carol@example.org")); // V08
        Assert.Equal(PolicyOutcome.Pass, (await h.Send(400, sender: "Alice+news@EXAMPLE.net")).Outcome); // V09
        Assert.Equal(PolicyOutcome.Pass, (await h.Send(400, recipient: "BOB@Example.ORG")).Outcome); // V10
        Assert.Equal(Reply.New(), await h.Send(400, recipient: "bob+x@example.org")); // V11
        Assert.Equal(4, h.Store.TripletCount);

        // V12 in greyd: 40 days later the entry is past max-age and counts as absent.
        Assert.Equal(Reply.New(), await h.Send(3456000));
    }

    [Fact]
    public async Task StoreScenarioKeepsAPassedTripletWithinMaxAge()
    {
        var h = new Harness(new GreylistOptions());
        await h.Send(0);
        await h.Send(300);
        Assert.Equal(new Reply(PolicyOutcome.Pass, 0, 34 * 86400, 0), await h.Send(34 * 86400));
    }

    [Fact]
    public async Task StoreScenarioSenderNormalisationSharesTriplets()
    {
        // Section 8.3: V13, V14, V16.
        var h = new Harness(new GreylistOptions());
        Assert.Equal(Reply.New(), await h.Send(0, sender: "bounce-123-456@lists.example"));
        Assert.Equal(PolicyOutcome.FirstPass, (await h.Send(300, sender: "bounce-789-1@lists.example")).Outcome);

        Assert.Equal(Reply.New(), await h.Send(0, sender: "prvs=1234567890=carl@example.net"));
        Assert.Equal(PolicyOutcome.FirstPass, (await h.Send(300, sender: "carl@example.net")).Outcome);

        Assert.Equal(Reply.New(), await h.Send(0, sender: ""));
        Assert.Equal(PolicyOutcome.FirstPass, (await h.Send(300, sender: "")).Outcome);
        Assert.Equal(3, h.Store.TripletCount);
    }

    [Fact]
    public async Task StoreScenarioRetryWindowResetsANeverPassedTriplet()
    {
        // V18 and V19.
        var s03 = new Harness(new GreylistOptions());
        Assert.Equal(Reply.New(), await s03.Send(0));
        Assert.Equal(Reply.New(), await s03.Send(172801));
        Assert.Equal(Reply.Early(1, 299), await s03.Send(173100));
        Assert.Equal(Reply.FirstPass(300, 1), await s03.Send(173101));

        var s04 = new Harness(new GreylistOptions());
        Assert.Equal(Reply.New(), await s04.Send(0));
        Assert.Equal(Reply.FirstPass(172800, 1), await s04.Send(172800));
    }

    [Fact]
    public async Task StoreScenarioCorrectsAFirstSeenInTheFuture()
    {
        // V89.
        var h = new Harness(new GreylistOptions());
        Assert.Equal(Reply.New(), await h.Send(1000));
        Assert.Equal(Reply.New(), await h.Send(0));
        Assert.Equal(Reply.FirstPass(300, 1), await h.Send(300));
    }

    [Fact]
    public async Task StoreScenarioGivesEveryFirstPassOfOneMessageAFirstPassDecision()
    {
        // Section 8.6 (S12/S13): the header de-duplication by instance is the host's; at this level each recipient's
        // triplet has its first pass, and the AWL counts it only once within the hour.
        var h = new Harness(new GreylistOptions { Hostname = "test.host" });
        Assert.Equal(Reply.New(), await h.Send(0));
        Assert.Equal(Reply.New(), await h.Send(0, recipient: "carol@example.org"));
        Assert.Equal(Reply.FirstPass(300, 1), await h.Send(300));
        Assert.Equal(Reply.FirstPass(300, 0), await h.Send(300, recipient: "carol@example.org"));
        Assert.Equal(PolicyOutcome.Pass, (await h.Send(300, recipient: "carol@example.org")).Outcome);
    }

    [Fact]
    public async Task StoreScenarioS18CountsTheAutoWhitelistOncePerHour()
    {
        var h = new Harness(new GreylistOptions { AutoWhitelistClients = 2 });

        Assert.Equal(Reply.New(), await h.Send(0)); // V70a
        Assert.Equal(Reply.FirstPass(300, 1), await h.Send(300)); // V70b: AWL 1,T0+300
        Assert.Equal(Reply.New(), await h.Send(400, recipient: "r2@example.org")); // V70c
        Assert.Equal(Reply.FirstPass(300, 0), await h.Send(700, recipient: "r2@example.org")); // V70d: not counted
        Assert.Equal(Reply.New(), await h.Send(4000, recipient: "r3@example.org")); // V70e

        // V70: count becomes exactly N, which is when "whitelisted: ..." is logged.
        var v70 = await h.Send(4300, recipient: "r3@example.org");
        Assert.Equal(Reply.FirstPass(300, 2), v70);

        // V71: AWL before the triplet stage; no triplet is stored for r4.
        int triplets = h.Store.TripletCount;
        Assert.Equal(Reply.Awl, await h.Send(4301, recipient: "r4@example.org"));
        Assert.Equal(triplets, h.Store.TripletCount);

        Assert.Equal(Reply.Awl, await h.Send(7901, recipient: "r5@example.org")); // V72
        Assert.Equal(triplets, h.Store.TripletCount);

        // V73: the AWL is per IP, not per network.
        Assert.Equal(Reply.New(), await h.Send(7901, clientAddress: "192.0.2.11", recipient: "r6@example.org"));
    }

    [Fact]
    public async Task StoreScenarioS21WhitelistsAfterOnePassWithThresholdOne()
    {
        var h = new Harness(new GreylistOptions { AutoWhitelistClients = 1 });
        Assert.Equal(Reply.New(), await h.Send(0));
        Assert.Equal(Reply.FirstPass(300, 1), await h.Send(300));
        Assert.Equal(Reply.Awl, await h.Send(301, recipient: "new@example.org")); // V76
    }

    [Fact]
    public async Task StoreScenarioWithoutAutoWhitelistNeverWhitelists()
    {
        // V75.
        var h = new Harness(new GreylistOptions { AutoWhitelistClients = 0 });
        for (long hour = 0; hour < 10; hour++)
        {
            long t = hour * 3600;
            string recipient = $"r{hour}@example.org";
            Assert.Equal(Reply.New(), await h.Send(t, recipient: recipient));
            Assert.Equal(Reply.FirstPass(300, 0), await h.Send(t + 300, recipient: recipient));
        }
    }

    [Fact]
    public async Task StoreScenarioLookupByHostKeysTripletsByTheHost()
    {
        // S22: V78-V80.
        var h = new Harness(new GreylistOptions { LookupByHost = true, AutoWhitelistClients = 0 });
        Assert.Equal(Reply.New(), await h.Send(0));
        Assert.Equal(Reply.New(), await h.Send(300, clientAddress: "192.0.2.11"));
        Assert.Equal(Reply.New(), await h.Send(0, clientAddress: "2001:DB8::1"));
        Assert.Equal(PolicyOutcome.FirstPass, (await h.Send(300, clientAddress: "2001:db8:0::1")).Outcome);
        Assert.Equal(3, h.Store.TripletCount);
    }

    [Fact]
    public async Task StoreScenarioIPv6ClientsShareTheirSlash64()
    {
        // S23: V81-V83; the AWL counts the exact address 2001:DB8:0:0:0:0:FFFF:1.
        var h = new Harness(new GreylistOptions { AutoWhitelistClients = 1 });
        Assert.Equal(Reply.New(), await h.Send(0, clientAddress: "2001:DB8:0:0:abcd::1"));
        Assert.Equal(Reply.FirstPass(300, 1), await h.Send(300, clientAddress: "2001:db8::ffff:1"));
        Assert.Equal(Reply.New(), await h.Send(300, clientAddress: "2001:db8:0:1::1", recipient: "x@example.org"));

        Assert.Equal(Reply.Awl, await h.Send(301, clientAddress: "2001:DB8:0:0:0:0:FFFF:1", recipient: "y@example.org"));
        Assert.Equal(Reply.New(), await h.Send(301, clientAddress: "2001:DB8:0:0:abcd::1", recipient: "y@example.org"));
    }

    [Fact]
    public async Task StoreScenarioWiderCidrOptionsShareMoreTriplets()
    {
        // S24: V84-V86.
        var h = new Harness(new GreylistOptions { IPv4Cidr = 16, IPv6Cidr = 48 });
        Assert.Equal(Reply.New(), await h.Send(0, clientAddress: "10.1.2.3"));
        Assert.Equal(PolicyOutcome.FirstPass, (await h.Send(300, clientAddress: "10.1.200.3")).Outcome);
        Assert.Equal(Reply.New(), await h.Send(0, clientAddress: "2001:db8:ab:cd::1"));
        Assert.Equal(PolicyOutcome.FirstPass, (await h.Send(300, clientAddress: "2001:db8:ab:ff::9")).Outcome);
    }

    [Fact]
    public async Task StoreScenarioPrivacyStillGreylistsAndCounts()
    {
        // S25: V87-V88.
        var h = new Harness(new GreylistOptions { Privacy = true, AutoWhitelistClients = 1 });
        Assert.Equal(Reply.New(), await h.Send(0));
        Assert.Equal(Reply.FirstPass(300, 1), await h.Send(300));
        Assert.Equal(Reply.Awl, await h.Send(301, recipient: "other@example.org"));
    }

    [Theory]
    [InlineData(PolicyAttribute.Sender)]
    [InlineData(PolicyAttribute.ClientName)]
    [InlineData(PolicyAttribute.Recipient)]
    [InlineData(PolicyAttribute.ClientAddress)]
    public void CheckRequestReportsAMissingAttribute(PolicyAttribute missing)
    {
        // V36, V42, V43.
        var request = TestRequests.Create();
        request.Remove(missing);
        Assert.Equal(missing, GreylistPolicy.CheckRequest(request, out _, out bool addressOk));
        Assert.False(addressOk);
    }

    [Fact]
    public void CheckRequestReportsTheFirstMissingAttributeInPostgreysOrder()
    {
        var request = TestRequests.Create(clientAddress: null, clientName: null, recipient: null, sender: null);
        Assert.Equal(PolicyAttribute.ClientAddress, GreylistPolicy.CheckRequest(request, out _, out _));
        request.Set(PolicyAttribute.ClientAddress, "192.0.2.10"u8);
        Assert.Equal(PolicyAttribute.ClientName, GreylistPolicy.CheckRequest(request, out _, out _));
        request.Set(PolicyAttribute.ClientName, ""u8);
        Assert.Equal(PolicyAttribute.Recipient, GreylistPolicy.CheckRequest(request, out _, out _));
        request.Set(PolicyAttribute.Recipient, ""u8);
        Assert.Equal(PolicyAttribute.Sender, GreylistPolicy.CheckRequest(request, out _, out _));
        request.Set(PolicyAttribute.Sender, ""u8);
        Assert.Null(GreylistPolicy.CheckRequest(request, out _, out bool addressOk));
        Assert.True(addressOk);
    }

    [Theory]
    [InlineData("")]
    [InlineData("unknown")]
    [InlineData("1.2.3.256")]
    [InlineData("fe80::1%eth0")]
    public void CheckRequestReportsAnUnusableClientAddressInsteadOfCrashing(string clientAddress)
    {
        // M06, M07: postgrey died here; greyd answers DUNNO.
        var request = TestRequests.Create(clientAddress: clientAddress);
        Assert.Null(GreylistPolicy.CheckRequest(request, out _, out bool addressOk));
        Assert.False(addressOk);
    }

    [Fact]
    public void CheckRequestParsesTheClientAddressWhenEverythingIsPresent()
    {
        var request = TestRequests.Create(clientAddress: "2001:db8::ffff:1", sender: "", recipient: "", clientName: "");
        Assert.Null(GreylistPolicy.CheckRequest(request, out var client, out bool addressOk));
        Assert.True(addressOk);
        Assert.Equal("2001:DB8:0:0:0:0:FFFF:1", client.ToString());
    }

    [Theory]
    [InlineData(true, "1700000300", T0 + 300)]
    [InlineData(false, "1700000300", 42)]
    [InlineData(true, null, 42)]
    [InlineData(true, "", 42)]
    [InlineData(true, "17000x", 42)]
    [InlineData(true, "1700000300 ", 42)]
    public void RequestTimeUsesPolicyTestTimeOnlyWhenAllowedAndNumeric(bool allowed, string? testTime, long expected)
    {
        var request = TestRequests.Create();
        if (testTime is not null)
        {
            request.Set(PolicyAttribute.PolicyTestTime, System.Text.Encoding.ASCII.GetBytes(testTime));
        }

        Assert.Equal(expected, GreylistPolicy.RequestTime(request, 42, new GreylistOptions { AllowPolicyTestTime = allowed }));
    }

    [Fact]
    public void DecideReportsMissingAndWaitedSeconds()
    {
        var options = new GreylistOptions();
        var fresh = new TripletObservation(new TripletRecord(T0, T0), false, false);
        Assert.Equal(new PolicyDecision(PolicyOutcome.GreylistNew, 300, 0), GreylistPolicy.Decide(fresh, T0, options));

        var early = new TripletObservation(new TripletRecord(T0, T0 + 60), false, false);
        Assert.Equal(new PolicyDecision(PolicyOutcome.GreylistEarlyRetry, 240, 60), GreylistPolicy.Decide(early, T0 + 60, options));

        var first = new TripletObservation(new TripletRecord(T0, T0 + 500), false, false);
        Assert.Equal(new PolicyDecision(PolicyOutcome.FirstPass, 0, 500), GreylistPolicy.Decide(first, T0 + 500, options));

        var passed = new TripletObservation(new TripletRecord(T0, T0 + 500), true, false);
        var decision = GreylistPolicy.Decide(passed, T0 + 500, options);
        Assert.Equal(PolicyOutcome.Pass, decision.Outcome);
        Assert.False(decision.CountsForAutoWhitelist);
    }

    [Fact]
    public void DefaultOptionsArePostgreysDefaults()
    {
        var options = new GreylistOptions();
        Assert.Equal(300, options.Delay);
        Assert.Equal(35 * 86400L, options.MaxAge);
        Assert.Equal(2 * 86400L, options.RetryWindow);
        Assert.Equal(5, options.AutoWhitelistClients);
        Assert.Equal(24, options.IPv4Cidr);
        Assert.Equal(64, options.IPv6Cidr);
        Assert.Equal("DEFER_IF_PERMIT", options.GreylistAction);
        Assert.False(options.LookupByHost);
        Assert.False(options.Privacy);
        Assert.False(options.AllowPolicyTestTime);
    }
}
