using Greyd.IntegrationTests.Harness;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;
using static Greyd.IntegrationTests.Harness.SharedStoreKit;

namespace Greyd.IntegrationTests;

/// <summary>
/// Two greyd processes (MX1 and MX2, each with its own --dbdir and socket) share one greylist on Redis or Garnet
/// (--store): what one greylists or auto-whitelists holds on the other, concurrent first sightings keep the earliest,
/// and the keys in the server carry the prefix, the --privacy digests and TTLs from the retry window and max-age.
/// </summary>
public sealed class SharedStoreTests
{
    private const string Rcpt = "bob@example.org";

    // These tests are about what is shared, not about latency (SharedStoreFaultTests is): generous timeouts keep a
    // busy CI machine (and a cold Garnet's first script) from sending greyd to its local store.
    private const string Timeout = "--store-timeout=1000";
    private const string ConnectTimeout = "--store-connect-timeout=10000";

    [Theory]
    [InlineData(SharedStoreKind.Redis)]
    [InlineData(SharedStoreKind.Garnet)]
    public void A_triplet_greylisted_on_one_MX_passes_on_the_other_and_stays_passed_on_both(SharedStoreKind kind)
    {
        using var server = SharedStoreServer.Start(kind);
        using var mx1 = GreydInstance.Start(Options(server, Timeout, ConnectTimeout));
        using var mx2 = GreydInstance.Start(Options(server, Timeout, ConnectTimeout));
        ExpectConnected(mx1, server);
        ExpectConnected(mx2, server);

        Step("MX1: new", Wait(300), mx1.AskOnce(D(0)));
        AssertField(server, TripletKey(Rcpt), "first", Seconds(0), mx1);
        AssertField(server, TripletKey(Rcpt), "last", Seconds(0), mx1);

        Step("MX2 never saw it, yet it is an early retry there", Wait(200), mx2.AskOnce(D(100)));
        StepXG("MX2: passes after the delay counted from MX1's sighting", 300, mx2.AskOnce(D(300)));
        Step("MX1: the pass on MX2 makes it a known good triplet", Dunno, mx1.AskOnce(D(400)));
        Step("MX1: an unseen triplet is still new", Wait(300), mx1.AskOnce(To("carol@example.org", 400)));

        AssertField(server, TripletKey(Rcpt), "first", Seconds(0), mx1);
        AssertField(server, TripletKey(Rcpt), "last", Seconds(400), mx1);

        Assert.Equal(0, mx1.Process.Stop());
        Assert.Equal(0, mx2.Process.Stop());
        mx1.Process.AssertNoCrashTrace();
        mx2.Process.AssertNoCrashTrace();
    }

    [Theory]
    [InlineData(SharedStoreKind.Redis)]
    [InlineData(SharedStoreKind.Garnet)]
    public void A_client_auto_whitelisted_on_one_MX_is_whitelisted_on_the_other(SharedStoreKind kind)
    {
        using var server = SharedStoreServer.Start(kind);
        using var mx1 = GreydInstance.Start(Options(server, Timeout, ConnectTimeout, "--auto-whitelist-clients=1"));
        using var mx2 = GreydInstance.Start(Options(server, Timeout, ConnectTimeout, "--auto-whitelist-clients=1"));
        ExpectConnected(mx1, server);
        ExpectConnected(mx2, server);

        Step("MX1: new", Wait(300), mx1.AskOnce(D(0)));
        StepXG("MX1: passes, which whitelists the client", 300, mx1.AskOnce(D(300)));
        AssertField(server, ClientKey(), "count", "1", mx1);
        AssertField(server, ClientKey(), "last", Seconds(300), mx1);

        int mark = mx2.Process.StderrLineCount;
        Step("MX2: another recipient passes at once", Dunno, mx2.AskOnce(To("new@example.org", 301)));
        mx2.ExpectLogLine(
            "MX2 AWL",
            "<5>action=pass, reason=client AWL, client_name=mail.example.net, client_address=192.0.2.10, sender=alice@example.net, recipient=new@example.org",
            mark);
        Step("MX2: AWL is per IP", Wait(300), mx2.AskOnce(To("new@example.org", 301).With("client_address", "192.0.2.11")));
    }

    [Theory]
    [InlineData(SharedStoreKind.Redis)]
    [InlineData(SharedStoreKind.Garnet)]
    public void Concurrent_first_sightings_on_both_MXs_keep_the_earliest_first_seen(SharedStoreKind kind)
    {
        const int Triplets = 40;
        using var server = SharedStoreServer.Start(kind);
        using var mx1 = GreydInstance.Start(Options(server, Timeout, ConnectTimeout));
        using var mx2 = GreydInstance.Start(Options(server, Timeout, ConnectTimeout));
        ExpectConnected(mx1, server);
        ExpectConnected(mx2, server);

        // Even recipients reach MX1 one second before MX2, odd ones the other way round; both MXs send all at once.
        var recipients = Enumerable.Range(0, Triplets).Select(i => $"race{i}@example.org").ToList();
        long TimeOn(int mx, int i) => (i % 2 == 0) == (mx == 1) ? 0 : 1;
        using var start = new Barrier(2);
        List<string> Burst(GreydInstance greyd, int mx)
        {
            using var client = greyd.NewClient();
            byte[] batch = [.. recipients.SelectMany((r, i) => To(r, TimeOn(mx, i)).ToBytes())];
            start.SignalAndWait();
            client.Send(batch);
            return [.. recipients.Select(_ => client.ReadReply())];
        }

        var first = Task.Factory.StartNew(() => Burst(mx1, 1), TaskCreationOptions.LongRunning);
        var second = Task.Factory.StartNew(() => Burst(mx2, 2), TaskCreationOptions.LongRunning);
        var replies = new[] { first.Result, second.Result };
        for (int i = 0; i < Triplets; i++)
        {
            for (int mx = 1; mx <= 2; mx++)
            {
                string reply = replies[mx - 1][i];
                string id = $"MX{mx}: {recipients[i]} at {TimeOn(mx, i)}";
                if (TimeOn(mx, i) == 0)
                {
                    Step(id + " (the earlier sighting)", Wait(300), reply);
                }
                else
                {
                    Assert.True(reply == Wait(300) || reply == Wait(299), $"{id} (the later sighting): expected wait 300 or 299, got '{reply}'");
                }
            }
        }

        foreach (string rcpt in recipients)
        {
            AssertField(server, TripletKey(rcpt), "first", Seconds(0), mx1);
        }

        var check1 = mx1.Connect();
        var check2 = mx2.Connect();
        foreach (string rcpt in recipients)
        {
            Step($"MX1: {rcpt} counts from the earliest sighting", Wait(200), check1.Ask(To(rcpt, 100)));
            Step($"MX2: {rcpt} counts from the earliest sighting", Wait(199), check2.Ask(To(rcpt, 101)));
        }
    }

    [Theory]
    [InlineData(SharedStoreKind.Redis)]
    [InlineData(SharedStoreKind.Garnet)]
    public void Keys_carry_the_prefix_and_expire_after_the_retry_window_until_passed_then_after_the_max_age(SharedStoreKind kind)
    {
        const string Prefix = "mx-pool.7:";
        const long RetryWindow = 6 * 3600;
        const long MaxAge = 10 * 86400;
        using var server = SharedStoreServer.Start(kind);
        using var greyd = GreydInstance.Start(Options(server, Timeout, ConnectTimeout, "--store-prefix=" + Prefix, "--retry-window=6h", "--max-age=10", "--auto-whitelist-clients=1"));
        ExpectConnected(greyd, server);
        using var kv = server.Client();
        var client = greyd.Connect();

        Step("new", Wait(300), client.Ask(D(0)));
        Assert.Equal(new[] { TripletKey(Rcpt, Prefix) }, GreylistKeys(kv, Prefix));
        AssertTtl(kv, TripletKey(Rcpt, Prefix), RetryWindow, "a triplet that has not passed lives for the retry window");

        Step("an early retry", Wait(200), client.Ask(D(100)));
        AssertTtl(kv, TripletKey(Rcpt, Prefix), RetryWindow, "an early retry keeps a triplet for the retry window from then, as postgrey's cleanup does");

        StepXG("passes", 300, client.Ask(D(300)));
        Assert.Equal(new[] { ClientKey(Prefix), TripletKey(Rcpt, Prefix) }, GreylistKeys(kv, Prefix));
        AssertTtl(kv, TripletKey(Rcpt, Prefix), MaxAge, "a passed triplet lives for max-age from its last sighting");
        AssertTtl(kv, ClientKey(Prefix), MaxAge, "an AWL client lives for max-age");

        Step("an AWL pass a day later", Dunno, client.Ask(To("later@example.org", 86400)));
        AssertTtl(kv, ClientKey(Prefix), MaxAge, "an AWL client seen again lives for max-age from then");
        Assert.All(kv.Keys(), k => Assert.StartsWith(Prefix, k, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(SharedStoreKind.Redis)]
    [InlineData(SharedStoreKind.Garnet)]
    public void With_privacy_the_keys_are_the_SHA1_digests_and_no_address_reaches_the_server(SharedStoreKind kind)
    {
        using var server = SharedStoreServer.Start(kind);
        using var mx1 = GreydInstance.Start(Options(server, Timeout, ConnectTimeout, "--privacy", "--auto-whitelist-clients=1"));
        using var mx2 = GreydInstance.Start(Options(server, Timeout, ConnectTimeout, "--privacy", "--auto-whitelist-clients=1"));
        ExpectConnected(mx1, server);
        ExpectConnected(mx2, server);

        Step("MX1: new", Wait(300), mx1.AskOnce(D(0)));
        StepXG("MX2: passes", 300, mx2.AskOnce(D(300)));
        Step("MX1: the client is whitelisted", Dunno, mx1.AskOnce(To("new@example.org", 301)));

        using var kv = server.Client();
        string triplet = "greyd:t:" + Sha1Hex(TripletText + Rcpt);
        string client = "greyd:c:" + Sha1Hex(ClientText);
        Assert.Equal(new[] { client, triplet }.Order(StringComparer.Ordinal), GreylistKeys(kv));
        AssertField(server, triplet, "first", Seconds(0), mx1);
        AssertField(server, client, "count", "1", mx2);
    }

    [Fact]
    public void Over_TLS_with_the_CA_from_store_ca_two_MXs_share_and_an_untrusted_certificate_is_refused()
    {
        using var certificates = new TestCertificates();
        using var server = SharedStoreServer.Start(SharedStoreKind.Redis, tls: certificates);
        using var mx1 = GreydInstance.Start(Options(server, Timeout, ConnectTimeout, "--store-ca=" + certificates.CaFile));
        using var mx2 = GreydInstance.Start(Options(server, Timeout, ConnectTimeout, "--store-ca=" + certificates.CaFile));
        ExpectConnected(mx1, server);
        ExpectConnected(mx2, server);
        Assert.StartsWith("rediss://", server.Url, StringComparison.Ordinal);

        Step("MX1: new", Wait(300), mx1.AskOnce(D(0)));
        Step("MX2: an early retry through the TLS store", Wait(200), mx2.AskOnce(D(100)));
        AssertField(server, TripletKey(Rcpt), "first", Seconds(0), mx1);

        // Without --store-ca the test CA is not trusted: greyd must not connect, and greylists on its own.
        using var untrusting = GreydInstance.Start(Options(server, Timeout, ConnectTimeout));
        string error = untrusting.ExpectLog("untrusted", l => IsOutageLine(server, l), "the outage line for an untrusted certificate");
        Assert.True(
            error.Contains("TLS", StringComparison.Ordinal) || error.Contains("certificate", StringComparison.OrdinalIgnoreCase),
            $"the error should say the server's certificate was refused: {error}");
        Step("untrusting: the triplet is new to its local store", Wait(300), untrusting.AskOnce(D(120)));
        Assert.Equal("down", StatusField(Status(untrusting), "shared-state"));
        AssertField(server, TripletKey(Rcpt), "first", Seconds(0), mx1);
        AssertField(server, TripletKey(Rcpt), "last", Seconds(100), mx1);
    }

    private static void AssertTtl(RespClient kv, string key, long expected, string what)
    {
        long ttl = kv.Ttl(key);
        // A second over for rounding up to whole seconds, a few under for the time between greyd's write and this read.
        Assert.True(ttl <= expected + 1 && ttl >= expected - 5, $"{what}: TTL of {key} is {ttl} s, expected {expected} s (+1/-5).");
    }
}
