using System.Diagnostics;
using System.Net;
using ARSoft.Tools.Net.Dns;
using Greyd.Spf.Dns;
using Greyd.Spf.Evaluation;
using Greyd.Tests.Shared;

namespace Greyd.Spf.Tests;

/// <summary>
/// check_host() over the real resolver and a DNS server on loopback: test zones with include chains, ip4/ip6/a/mx
/// terms, redirects, ~all and -all, too many lookups, loops, timeouts and NXDOMAIN, all over the wire.
/// </summary>
public sealed class SpfOverDnsTests : IDisposable
{
    private readonly TestDnsServer _server = TestDnsServer.Start();
    private readonly SpfDnsResolver _resolver;
    private readonly SpfEvaluator _evaluator;

    public SpfOverDnsTests()
    {
        // Generous: the server runs in this process, which other test classes keep busy.
        _resolver = new SpfDnsResolver(new SpfDnsOptions { Servers = [_server.EndPoint], QueryTimeout = TimeSpan.FromSeconds(2), Attempts = 2 }, TimeProvider.System);
        _evaluator = new SpfEvaluator(_resolver);
        _server.AddZone("zone.test", negativeTtl: 60);

        // An include chain three deep, as the big providers publish theirs.
        _server.AddTxt("sender.zone.test", 300, "v=spf1 include:_spf.zone.test -all");
        _server.AddTxt("_spf.zone.test", 300, "v=spf1 include:_nb1.zone.test include:_nb2.zone.test ~all");
        _server.AddTxt("_nb1.zone.test", 300, "v=spf1 ip4:198.51.100.0/24 ip6:2001:db8:1::/48 -all");
        _server.AddTxt("_nb2.zone.test", 300, "v=spf1 a:relay.zone.test mx:mail.zone.test/28 -all");
        _server.AddA("relay.zone.test", 300, IPAddress.Parse("192.0.2.10"));
        _server.AddAaaa("relay.zone.test", 300, IPAddress.Parse("2001:db8:2::10"));
        _server.AddMx("mail.zone.test", 300, 10, "mx1.zone.test");
        _server.AddA("mx1.zone.test", 300, IPAddress.Parse("203.0.113.33"));

        _server.AddTxt("redirect.zone.test", 300, "v=spf1 ip4:192.0.2.200 redirect=sender.zone.test");
        _server.AddTxt("soft.zone.test", 300, "v=spf1 ip4:192.0.2.0/24 ~all");
        _server.AddTxt("loop.zone.test", 300, "v=spf1 include:loop2.zone.test -all");
        _server.AddTxt("loop2.zone.test", 300, "v=spf1 include:loop.zone.test -all");
        _server.AddTxt("many.zone.test", 300, "v=spf1 " + string.Join(' ', Enumerable.Range(1, 11).Select(i => $"a:h{i}.zone.test")) + " -all");
        for (int i = 1; i <= 11; i++)
        {
            _server.AddA($"h{i}.zone.test", 300, IPAddress.Parse($"10.0.0.{i}"));
        }

        _server.AddTxt("void.zone.test", 300, "v=spf1 a:gone1.zone.test a:gone2.zone.test a:gone3.zone.test +all");
        _server.AddTxt("slow.zone.test", 300, "v=spf1 include:dropped.zone.test -all");
        _server.SetDropped("dropped.zone.test");
        _server.AddTxt("broken.zone.test", 300, "v=spf1 include:servfail.zone.test -all");
        _server.SetError("servfail.zone.test");
        _server.AddTxt("split.zone.test", 300, "v=spf1 ip4:192.0.2.0/24", " ip4:198.51.100.0/24 -all");
    }

    public void Dispose()
    {
        _resolver.Dispose();
        _server.Dispose();
    }

    private Task<SpfCheck> Check(string client, string domain) =>
        _evaluator.CheckHostAsync(IPAddress.Parse(client), domain, "user@" + domain, "helo.zone.test", CancellationToken.None).AsTask();

    [Theory]
    [InlineData("198.51.100.7", SpfResult.Pass, "ip4:198.51.100.0/24 in _nb1.zone.test")]
    [InlineData("2001:db8:1::25", SpfResult.Pass, "ip6:2001:db8:1::/48 in _nb1.zone.test")]
    [InlineData("192.0.2.10", SpfResult.Pass, "a:relay.zone.test in _nb2.zone.test")]
    [InlineData("2001:db8:2::10", SpfResult.Pass, "a:relay.zone.test in _nb2.zone.test")]
    [InlineData("203.0.113.40", SpfResult.Pass, "mx:mail.zone.test/28 in _nb2.zone.test")]
    [InlineData("203.0.113.60", SpfResult.Fail, "-all in sender.zone.test")]
    public async Task An_include_chain_over_the_wire_gives_the_terms_result(string client, SpfResult result, string reason)
    {
        var check = await Check(client, "sender.zone.test");

        Assert.Equal(result, check.Result);
        Assert.Equal(reason, check.Reason);
    }

    [Fact]
    public async Task A_redirect_is_taken_only_when_nothing_matched()
    {
        Assert.Equal("ip4:192.0.2.200 in redirect.zone.test", (await Check("192.0.2.200", "redirect.zone.test")).Reason);
        Assert.Equal(SpfResult.Pass, (await Check("198.51.100.1", "redirect.zone.test")).Result);
        Assert.Equal(SpfResult.Fail, (await Check("192.0.2.99", "redirect.zone.test")).Result);
    }

    [Fact]
    public async Task Softfail_and_split_strings_come_through_the_wire()
    {
        Assert.Equal(SpfResult.SoftFail, (await Check("203.0.113.1", "soft.zone.test")).Result);
        Assert.Equal(SpfResult.Pass, (await Check("198.51.100.1", "split.zone.test")).Result);
    }

    [Fact]
    public async Task Loops_too_many_lookups_and_void_lookups_are_permerrors()
    {
        var loop = await Check("192.0.2.1", "loop.zone.test");
        Assert.Equal(SpfResult.PermError, loop.Result);
        Assert.Equal(SpfEvaluator.MaxLookups, loop.Lookups);

        var many = await Check("10.0.0.11", "many.zone.test");
        Assert.Equal(SpfResult.PermError, many.Result);
        Assert.Equal(0, _server.QueryCount(RecordType.A, "h11.zone.test"));

        Assert.Equal(SpfResult.PermError, (await Check("192.0.2.1", "void.zone.test")).Result);
    }

    [Fact]
    public async Task Nxdomain_is_none_and_a_server_failure_is_a_temperror()
    {
        Assert.Equal(SpfResult.None, (await Check("192.0.2.1", "nothing.zone.test")).Result);
        Assert.Equal(SpfResult.TempError, (await Check("192.0.2.1", "broken.zone.test")).Result);
    }

    [Fact]
    public async Task A_server_that_never_answers_is_a_temperror_after_the_query_timeout()
    {
        using var quick = new SpfDnsResolver(new SpfDnsOptions { Servers = [_server.EndPoint], QueryTimeout = TimeSpan.FromMilliseconds(300), Attempts = 1 }, TimeProvider.System);
        var watch = Stopwatch.StartNew();
        var check = await new SpfEvaluator(quick).CheckHostAsync(IPAddress.Parse("192.0.2.1"), "slow.zone.test", "a@slow.zone.test", "h", CancellationToken.None);
        watch.Stop();

        Assert.Equal(SpfResult.TempError, check.Result);
        Assert.Equal("DNS error looking up TXT of dropped.zone.test", check.Reason);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task A_second_check_is_answered_from_the_cache_without_a_query()
    {
        await Check("198.51.100.7", "sender.zone.test");
        int sent = _server.TotalQueries;

        var again = _evaluator.CheckHostAsync(IPAddress.Parse("2001:db8:1::9"), "sender.zone.test", "x@sender.zone.test", "h", CancellationToken.None);

        Assert.True(again.IsCompletedSuccessfully, "a warm check must complete synchronously");
        Assert.Equal(SpfResult.Pass, (await again).Result);
        Assert.Equal(sent, _server.TotalQueries);
    }
}
