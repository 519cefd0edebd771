using Greyd.Tests.Shared;
using static Greyd.Spf.Tests.SpfTestDns;

namespace Greyd.Spf.Tests;

public class IncludeRedirectTests
{
    /// <summary>outlook.com's shape: a top record including one that includes several lists of ranges.</summary>
    internal static FakeSpfDns OutlookLike()
    {
        FakeSpfDns dns = new();
        dns.AddTxt("outlook.com", "v=spf1 include:spf2.outlook.com -all");
        dns.AddTxt("spf2.outlook.com", "v=spf1 include:spf.protection.outlook.com include:spfa.outlook.com include:spfb.outlook.com include:spfc.outlook.com ~all");
        dns.AddTxt("spf.protection.outlook.com", "v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip4:52.100.0.0/14 ip4:104.47.0.0/17 ip6:2a01:111:f400::/48 ip6:2a01:111:f403::/49 include:spfd.protection.outlook.com -all");
        dns.AddTxt("spfd.protection.outlook.com", "v=spf1 ip4:51.4.72.0/24 ip4:51.5.72.0/24 ip4:51.5.80.0/27 ip4:20.47.149.138/32 ip4:51.4.80.0/27 ip6:2a01:4180:4051:0800::/64 ip6:2a01:4180:4050:0800::/64 -all");
        dns.AddTxt("spfa.outlook.com", "v=spf1 ip4:157.55.0.192/26 ip4:157.55.1.128/26 ip4:157.55.2.0/25 ip4:65.54.190.0/24 ip4:65.54.51.64/26 ip4:65.54.61.64/26 ip4:65.55.111.0/24 -all");
        dns.AddTxt("spfb.outlook.com", "v=spf1 ip4:65.55.113.64/26 ip4:65.55.116.0/25 ip4:64.4.22.64/26 ip4:65.55.174.0/25 ip4:65.55.178.128/27 -all");
        dns.AddTxt("spfc.outlook.com", "v=spf1 ip4:157.56.232.0/21 ip4:157.56.240.0/20 ip4:207.46.198.0/25 ip4:207.46.4.128/25 ip6:2a01:111:f400:7c00::/54 ip6:2a01:111:f400:fc00::/54 -all");
        return dns;
    }

    [Fact]
    public async Task PassComesThroughNestedIncludesWithTheMatchingTermAsReason()
    {
        FakeSpfDns dns = OutlookLike();
        SpfCheck check = await CheckAsync(dns, "40.93.5.6", "outlook.com");
        Assert.Equal(SpfResult.Pass, check.Result);
        Assert.Equal("outlook.com", check.Domain);
        Assert.Equal("ip4:40.92.0.0/15 in spf.protection.outlook.com", check.Reason);
        Assert.Equal(2, check.Lookups);
    }

    [Fact]
    public async Task PassFromALaterIncludeAfterIncludesThatFail()
    {
        SpfCheck check = await CheckAsync(OutlookLike(), "207.46.198.10", "outlook.com");
        Assert.Equal(SpfResult.Pass, check.Result);
        Assert.Equal("ip4:207.46.198.0/25 in spfc.outlook.com", check.Reason);
        Assert.Equal(6, check.Lookups);
    }

    [Fact]
    public async Task IncludesThatFailDoNotMatchAndTheOuterAllDecides()
    {
        SpfCheck check = await CheckAsync(OutlookLike(), "192.0.2.1", "outlook.com");
        Assert.Equal(SpfResult.Fail, check.Result);
        Assert.Equal("-all in outlook.com", check.Reason);
        check = await CheckAsync(OutlookLike(), "2001:db8::1", "outlook.com");
        Assert.Equal(SpfResult.Fail, check.Result);
        check = await CheckAsync(OutlookLike(), "2a01:111:f400:7c00::9", "outlook.com");
        Assert.Equal(SpfResult.Pass, check.Result);
    }

    [Theory]
    [InlineData("v=spf1 -all", SpfResult.SoftFail)]
    [InlineData("v=spf1 ~all", SpfResult.SoftFail)]
    [InlineData("v=spf1 ?all", SpfResult.SoftFail)]
    [InlineData("v=spf1", SpfResult.SoftFail)]
    [InlineData("v=spf1 +all", SpfResult.Fail)]
    public async Task IncludeMatchesOnlyOnPass(string included, SpfResult expected)
    {
        FakeSpfDns dns = new FakeSpfDns()
            .AddTxt("example.org", "v=spf1 -include:inc.example.org ~all")
            .AddTxt("inc.example.org", included);
        SpfCheck check = await CheckAsync(dns, "192.0.2.1");
        Assert.Equal(expected, check.Result);
    }

    [Fact]
    public async Task IncludeOfADomainWithoutARecordIsAPermError()
    {
        FakeSpfDns dns = new FakeSpfDns()
            .AddTxt("example.org", "v=spf1 include:norecord.example.org +all")
            .AddTxt("norecord.example.org", "some text");
        SpfCheck check = await CheckAsync(dns, "192.0.2.1");
        Assert.Equal(SpfResult.PermError, check.Result);
        Assert.Equal("no SPF record at include target norecord.example.org", check.Reason);

        dns = new FakeSpfDns().AddTxt("example.org", "v=spf1 include:nx.example.org +all");
        Assert.Equal(SpfResult.PermError, (await CheckAsync(dns, "192.0.2.1")).Result);
    }

    [Fact]
    public async Task IncludeTempErrorAndPermErrorComeThrough()
    {
        FakeSpfDns dns = new FakeSpfDns()
            .AddTxt("example.org", "v=spf1 include:broken.example.net +all")
            .Fail("broken.example.net");
        SpfCheck check = await CheckAsync(dns, "192.0.2.1");
        Assert.Equal(SpfResult.TempError, check.Result);
        Assert.Equal("DNS error looking up TXT of broken.example.net", check.Reason);

        dns = new FakeSpfDns()
            .AddTxt("example.org", "v=spf1 include:bad.example.net +all")
            .AddTxt("bad.example.net", "v=spf1 bogus -all");
        check = await CheckAsync(dns, "192.0.2.1");
        Assert.Equal(SpfResult.PermError, check.Result);
        Assert.StartsWith("syntax error in bad.example.net: ", check.Reason);
    }

    [Fact]
    public async Task IncludeExpandsDomainToTheIncludedDomainAndKeepsTheSender()
    {
        FakeSpfDns dns = new FakeSpfDns()
            .AddTxt("example.org", "v=spf1 include:inc.example.net -all")
            .AddTxt("inc.example.net", "v=spf1 exists:%{d}.%{o}.check.example.com -all")
            .AddAddress("inc.example.net.example.org.check.example.com", "127.0.0.2");
        SpfCheck check = await CheckAsync(dns, "192.0.2.1");
        Assert.Equal(SpfResult.Pass, check.Result);
        Assert.Equal("exists:%{d}.%{o}.check.example.com in inc.example.net", check.Reason);
    }

    [Fact]
    public async Task RedirectIsTakenWhenNothingMatched()
    {
        FakeSpfDns dns = new FakeSpfDns()
            .AddTxt("example.org", "v=spf1 ip4:198.51.100.0/24 redirect=_spf.example.net")
            .AddTxt("_spf.example.net", "v=spf1 ip4:192.0.2.0/24 ~all");
        SpfCheck check = await CheckAsync(dns, "192.0.2.1");
        Assert.Equal(SpfResult.Pass, check.Result);
        Assert.Equal("ip4:192.0.2.0/24 in _spf.example.net", check.Reason);
        Assert.Equal(1, check.Lookups);

        check = await CheckAsync(dns, "203.0.113.1");
        Assert.Equal(SpfResult.SoftFail, check.Result);

        check = await CheckAsync(dns, "198.51.100.1");
        Assert.Equal(SpfResult.Pass, check.Result);
        Assert.Equal(0, check.Lookups);
        Assert.Equal(2, dns.Queries("TXT", "_spf.example.net"));
    }

    [Fact]
    public async Task RedirectIsNeverReachedWhenAllIsPresent()
    {
        FakeSpfDns dns = new FakeSpfDns()
            .AddTxt("example.org", "v=spf1 redirect=_spf.example.net ?all")
            .AddTxt("_spf.example.net", "v=spf1 -all");
        SpfCheck check = await CheckAsync(dns, "192.0.2.1");
        Assert.Equal(SpfResult.Neutral, check.Result);
        Assert.Equal(0, dns.Queries("TXT", "_spf.example.net"));
    }

    [Fact]
    public async Task RedirectToADomainWithoutARecordIsAPermError()
    {
        FakeSpfDns dns = new FakeSpfDns().AddTxt("example.org", "v=spf1 redirect=nx.example.net");
        SpfCheck check = await CheckAsync(dns, "192.0.2.1");
        Assert.Equal(SpfResult.PermError, check.Result);
        Assert.Equal("no SPF record at redirect target nx.example.net", check.Reason);
    }

    [Fact]
    public async Task RedirectExpandsMacrosWithTheRedirectingDomain()
    {
        FakeSpfDns dns = new FakeSpfDns()
            .AddTxt("example.org", "v=spf1 redirect=_spf.%{d}")
            .AddTxt("_spf.example.org", "v=spf1 -all");
        SpfCheck check = await CheckAsync(dns, "192.0.2.1");
        Assert.Equal(SpfResult.Fail, check.Result);
        Assert.Equal("-all in _spf.example.org", check.Reason);
    }

    [Fact]
    public async Task TenLookupsAreAllowedAndElevenAreAPermError()
    {
        FakeSpfDns dns = new();
        for (int i = 1; i <= 11; i++)
        {
            dns.AddAddress($"h{i}.example.org", "198.51.100.1");
        }
        string ten = string.Join(' ', Enumerable.Range(1, 10).Select(i => $"a:h{i}.example.org"));
        dns.AddTxt("example.org", $"v=spf1 {ten} -all");
        SpfCheck check = await CheckAsync(dns, "192.0.2.1");
        Assert.Equal(SpfResult.Fail, check.Result);
        Assert.Equal(10, check.Lookups);

        dns.AddTxt("example.net", $"v=spf1 {ten} a:h11.example.org -all");
        check = await CheckAsync(dns, "192.0.2.1", "example.net");
        Assert.Equal(SpfResult.PermError, check.Result);
        Assert.Equal("too many DNS lookups", check.Reason);
        Assert.Equal(10, check.Lookups);
        Assert.Equal(0, dns.Queries("A", "h11.example.org"));
    }

    [Fact]
    public async Task LookupsCountAcrossIncludesAndRedirects()
    {
        FakeSpfDns dns = new FakeSpfDns()
            .AddTxt("example.org", "v=spf1 include:one.example.org include:two.example.org redirect=three.example.org")
            .AddTxt("one.example.org", "v=spf1 mx a ptr -all")
            .AddTxt("two.example.org", "v=spf1 exists:x.example.org a:y.example.org -all")
            .AddTxt("three.example.org", "v=spf1 a a ?all")
            .AddName("one.example.org").AddName("x.example.org").AddName("y.example.org")
            .AddAddress("one.example.org", "198.51.100.1").AddMx("one.example.org", "one.example.org")
            .AddAddress("x.example.org", "127.0.0.2").AddAddress("y.example.org", "198.51.100.1")
            .AddAddress("three.example.org", "198.51.100.1")
            .AddPtr("192.0.2.1", "host.example.com");
        // include, mx, a, ptr, include, exists (matches: two passes), so 6.
        SpfCheck check = await CheckAsync(dns, "192.0.2.1");
        Assert.Equal(SpfResult.Pass, check.Result);
        Assert.Equal(6, check.Lookups);

        // No exists match now: include(1) mx a ptr (4) include(5) exists a (7) redirect(8) a a (10) ?all.
        dns.AddTxt("example.net", "v=spf1 include:one.example.org include:two.example.net redirect=three.example.org")
            .AddTxt("two.example.net", "v=spf1 exists:nx.example.org a:y.example.org -all");
        check = await CheckAsync(dns, "192.0.2.1", "example.net");
        Assert.Equal(SpfResult.Neutral, check.Result);
        Assert.Equal(10, check.Lookups);
    }

    [Fact]
    public async Task AnIncludeLoopEndsInAPermError()
    {
        FakeSpfDns dns = new FakeSpfDns()
            .AddTxt("example.org", "v=spf1 include:loop.example.net -all")
            .AddTxt("loop.example.net", "v=spf1 include:example.org -all");
        SpfCheck check = await CheckAsync(dns, "192.0.2.1");
        Assert.Equal(SpfResult.PermError, check.Result);
        Assert.Equal("too many DNS lookups", check.Reason);
        Assert.Equal(10, check.Lookups);
    }

    [Fact]
    public async Task ASelfIncludeAndARedirectLoopEndInAPermError()
    {
        FakeSpfDns dns = new FakeSpfDns().AddTxt("example.org", "v=spf1 include:example.org -all");
        Assert.Equal(SpfResult.PermError, (await CheckAsync(dns, "192.0.2.1")).Result);

        dns = new FakeSpfDns()
            .AddTxt("example.org", "v=spf1 redirect=b.example.org")
            .AddTxt("b.example.org", "v=spf1 redirect=example.org");
        SpfCheck check = await CheckAsync(dns, "192.0.2.1");
        Assert.Equal(SpfResult.PermError, check.Result);
        Assert.Equal("too many DNS lookups", check.Reason);
        Assert.Equal(11, dns.Queries("TXT", "example.org") + dns.Queries("TXT", "b.example.org"));
    }

    [Fact]
    public async Task TwoVoidLookupsAreAllowedAndThreeAreAPermError()
    {
        FakeSpfDns dns = new FakeSpfDns()
            .AddName("empty.example.org")
            .AddTxt("example.org", "v=spf1 a:nx1.example.org a:empty.example.org -all")
            .AddTxt("example.net", "v=spf1 a:nx1.example.org a:empty.example.org exists:nx2.example.org -all");
        SpfCheck check = await CheckAsync(dns, "192.0.2.1");
        Assert.Equal(SpfResult.Fail, check.Result);

        check = await CheckAsync(dns, "192.0.2.1", "example.net");
        Assert.Equal(SpfResult.PermError, check.Result);
        Assert.Equal("too many void lookups", check.Reason);
    }

    [Fact]
    public async Task VoidLookupsCountMxAndPtrAndAcrossIncludes()
    {
        FakeSpfDns dns = new FakeSpfDns()
            .AddTxt("example.org", "v=spf1 mx:nx.example.org include:inc.example.org -all")
            .AddTxt("inc.example.org", "v=spf1 ptr a:nx.example.org -all");
        SpfCheck check = await CheckAsync(dns, "192.0.2.1");
        Assert.Equal(SpfResult.PermError, check.Result);
        Assert.Equal("too many void lookups", check.Reason);
    }
}
