using System.Net;
using Greyd.Spf.Evaluation;
using Greyd.Tests.Shared;
using static Greyd.Spf.Tests.SpfTestDns;

namespace Greyd.Spf.Tests;

public class RecordTests
{
    [Fact]
    public async Task NxdomainIsNone()
    {
        SpfCheck check = await CheckAsync(new FakeSpfDns(), "192.0.2.1", "nx.example.org");
        Assert.Equal(SpfResult.None, check.Result);
        Assert.Equal("nx.example.org", check.Domain);
    }

    [Fact]
    public async Task NoSpfRecordIsNone()
    {
        FakeSpfDns dns = new FakeSpfDns().AddTxt("example.org", "google-site-verification=abc", "v=spf10 -all", "v=spf1x");
        SpfCheck check = await CheckAsync(dns, "192.0.2.1");
        Assert.Equal(SpfResult.None, check.Result);
        Assert.Equal("no SPF record", check.Reason);
    }

    [Fact]
    public async Task TwoSpfRecordsAreAPermError()
    {
        FakeSpfDns dns = new FakeSpfDns().AddTxt("example.org", "v=spf1 +all", "v=spf1 -all");
        SpfCheck check = await CheckAsync(dns, "192.0.2.1");
        Assert.Equal(SpfResult.PermError, check.Result);
    }

    [Fact]
    public async Task TxtLookupFailureIsATempError()
    {
        FakeSpfDns dns = new FakeSpfDns().Fail("example.org");
        SpfCheck check = await CheckAsync(dns, "192.0.2.1");
        Assert.Equal(SpfResult.TempError, check.Result);
        Assert.Equal("DNS error looking up TXT of example.org", check.Reason);
    }

    [Theory]
    [InlineData("")]
    [InlineData("org")]
    [InlineData("localhost.")]
    [InlineData("a..example.org")]
    [InlineData(".example.org")]
    [InlineData("192.0.2.1")]
    [InlineData("exa mple.org")]
    public async Task AMalformedDomainIsNoneWithoutAQuery(string domain)
    {
        FakeSpfDns dns = new();
        SpfCheck check = await CheckAsync(dns, "192.0.2.1", domain);
        Assert.Equal(SpfResult.None, check.Result);
        Assert.Equal(0, dns.TotalQueries);
        Assert.DoesNotContain(' ', check.Reason.Replace("not a valid domain: ", "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LabelAndNameLengthsAreChecked()
    {
        FakeSpfDns dns = new();
        string label63 = new('a', 63);
        dns.AddTxt(label63 + ".example.org", "v=spf1 +all");
        Assert.Equal(SpfResult.Pass, (await CheckAsync(dns, "192.0.2.1", label63 + ".example.org")).Result);
        Assert.Equal(SpfResult.None, (await CheckAsync(dns, "192.0.2.1", label63 + "a.example.org")).Result);

        string label = new('b', 63);
        string fits = new string('c', 49) + "." + label + "." + label + "." + label + ".example.org";
        Assert.Equal(253, fits.Length);
        dns.AddTxt(fits, "v=spf1 +all");
        Assert.Equal(SpfResult.Pass, (await CheckAsync(dns, "192.0.2.1", fits)).Result);
        Assert.Equal(SpfResult.None, (await CheckAsync(dns, "192.0.2.1", "c" + fits)).Result);
        Assert.Equal(0, dns.Queries("TXT", "c" + fits));
    }

    [Fact]
    public async Task ATrailingDotOnTheDomainIsAccepted()
    {
        FakeSpfDns dns = new FakeSpfDns().AddTxt("example.org", "v=spf1 -all");
        SpfCheck check = await CheckAsync(dns, "192.0.2.1", "example.org.");
        Assert.Equal(SpfResult.Fail, check.Result);
        Assert.Equal("example.org.", check.Domain);
    }

    [Theory]
    [InlineData("V=SPF1 -all")]
    [InlineData("v=Spf1 -ALL")]
    [InlineData("v=spf1 -All ")]
    [InlineData("v=spf1   Ip4:192.0.2.9   -aLL")]
    public async Task VersionAndMechanismNamesIgnoreCase(string record)
    {
        SpfCheck check = await CheckRecordAsync(record, "192.0.2.1");
        Assert.Equal(SpfResult.Fail, check.Result);
    }

    [Fact]
    public async Task TxtCharacterStringsAreJoinedWithoutSeparators()
    {
        FakeSpfDns dns = new FakeSpfDns().AddTxtStrings("example.org", "v=spf1 ip4:192.0.2.", "0/24 -all");
        Assert.Equal(SpfResult.Pass, (await CheckAsync(dns, "192.0.2.1")).Result);
        Assert.Equal(SpfResult.Fail, (await CheckAsync(dns, "192.0.3.1")).Result);
    }

    [Theory]
    [InlineData("v=spf1 +all foo")]
    [InlineData("v=spf1 +all foo:bar.example.org")]
    [InlineData("v=spf1 +all ip4:192.0.2.0/33")]
    [InlineData("v=spf1 +all ip4:192.0.2.0/")]
    [InlineData("v=spf1 +all ip4:192.0.2.0/024")]
    [InlineData("v=spf1 +all ip4:192.0.2")]
    [InlineData("v=spf1 +all ip4:192.0.2.256")]
    [InlineData("v=spf1 +all ip4:192.0.02.1")]
    [InlineData("v=spf1 +all ip4:2001:db8::1")]
    [InlineData("v=spf1 +all ip4")]
    [InlineData("v=spf1 +all ip6:2001:db8::/129")]
    [InlineData("v=spf1 +all ip6:192.0.2.1")]
    [InlineData("v=spf1 +all ip6:2001:db8::1%eth0")]
    [InlineData("v=spf1 +all ip6:[2001:db8::1]")]
    [InlineData("v=spf1 +all a/33")]
    [InlineData("v=spf1 +all a//129")]
    [InlineData("v=spf1 +all a:example.org/24//129")]
    [InlineData("v=spf1 +all a:")]
    [InlineData("v=spf1 +all mx/")]
    [InlineData("v=spf1 +all ptr/24")]
    [InlineData("v=spf1 +all include")]
    [InlineData("v=spf1 +all include:")]
    [InlineData("v=spf1 +all exists")]
    [InlineData("v=spf1 +all all:x.example.org")]
    [InlineData("v=spf1 +all allx")]
    [InlineData("v=spf1 +all redirect=a.example.org redirect=b.example.org")]
    [InlineData("v=spf1 +all exp=a.example.org exp=b.example.org")]
    [InlineData("v=spf1 +all include:%{z}.example.org")]
    [InlineData("v=spf1 +all include:%{d")]
    [InlineData("v=spf1 +all include:%d.example.org")]
    [InlineData("v=spf1 +all include:example.org%")]
    [InlineData("v=spf1 +all include:%{d0}.example.org")]
    [InlineData("v=spf1 +all exists:%{d2x}.example.org")]
    [InlineData("v=spf1 +all exists:%{c}.example.org")]
    [InlineData("v=spf1 +all exists:%{t}.example.org")]
    [InlineData("v=spf1 +all redirect=%{r}.example.org")]
    [InlineData("v=spf1 +all a:example")]
    [InlineData("v=spf1 +all a:example.123")]
    [InlineData("v=spf1 +all a:example.-org")]
    [InlineData("v=spf1 +all foo=%{q}")]
    [InlineData("v=spf1 +all -redirect=x.example.org")]
    [InlineData("v=spf1 +all 1foo=bar")]
    [InlineData("v=spf1 +all +-all")]
    [InlineData("v=spf1 +all a:exa\u00e9mple.org")]
    public async Task ASyntaxErrorAnywhereIsAPermErrorEvenAfterAMatch(string record)
    {
        FakeSpfDns dns = new();
        SpfCheck check = await CheckRecordAsync(record, "192.0.2.1", dns);
        Assert.Equal(SpfResult.PermError, check.Result);
        Assert.StartsWith("syntax error in example.org: ", check.Reason);
        Assert.All(check.Reason, c => Assert.InRange(c, ' ', '~'));
        Assert.Equal(1, dns.TotalQueries);
    }

    [Theory]
    [InlineData("v=spf1 foo=bar -all")]
    [InlineData("v=spf1 x-custom.mod=%{d}.%{c} -all")]
    [InlineData("v=spf1 exp=explain.%{d} -all")]
    [InlineData("v=spf1 -all moo=")]
    [InlineData("v=spf1 a:%{d}.example.org//64 -all")]
    [InlineData("v=spf1 a:example.org. -all")]
    [InlineData("v=spf1 a:example.1-2 -all")]
    [InlineData("v=spf1 exists:%%%_%-.%{d} -all")]
    [InlineData("v=spf1 ip4:10.0.0.0/8 ip6:::/0 ip6:2001:db8::1:2:3:4/64 ip6:::ffff:192.0.2.1 -all")]
    public async Task ValidTermsAndUnknownModifiersParse(string record)
    {
        SpfCheck check = await CheckRecordAsync(record, "198.51.100.1");
        Assert.Equal(SpfResult.Fail, check.Result);
    }

    [Fact]
    public void ParsedRecordsAreCachedPerTxtString()
    {
        SpfEvaluator evaluator = new(new FakeSpfDns());
        string text = "v=spf1 ip4:192.0.2.0/24 -all";
        SpfRecord first = evaluator.GetRecord(text);
        Assert.Same(first, evaluator.GetRecord(text));
        Assert.Null(first.Error);
        Assert.Equal(2, first.Directives.Length);
    }

    [Fact]
    public async Task ReasonsAreVisibleAscii()
    {
        FakeSpfDns dns = new FakeSpfDns().AddTxt("ex\u00e4mple.org", "v=spf1 -all");
        SpfCheck check = await CheckAsync(dns, "192.0.2.1", "ex\u00e4mple.org");
        Assert.Equal(SpfResult.None, check.Result);
        Assert.Equal("not a valid domain: ex?mple.org", check.Reason);
    }

    [Fact]
    public async Task AnIPv4MappedClientIsIPv4ForAMacrosToo()
    {
        FakeSpfDns dns = new FakeSpfDns().AddAddress("1.2.0.192.in-addr.example.org", "127.0.0.2");
        SpfCheck check = await CheckRecordAsync("v=spf1 exists:%{ir}.%{v}.%{d} -all", "::ffff:192.0.2.1", dns);
        Assert.Equal(SpfResult.Pass, check.Result);
        Assert.True(IPAddress.Parse("::ffff:192.0.2.1").IsIPv4MappedToIPv6);
    }
}
