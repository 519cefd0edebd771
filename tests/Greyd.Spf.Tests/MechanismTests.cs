using Greyd.Tests.Shared;
using static Greyd.Spf.Tests.SpfTestDns;

namespace Greyd.Spf.Tests;

public class MechanismTests
{
    [Theory]
    [InlineData("v=spf1 ip4:192.0.2.1 -all", "192.0.2.1", SpfResult.Pass)]
    [InlineData("v=spf1 ip4:192.0.2.1 -all", "192.0.2.2", SpfResult.Fail)]
    [InlineData("v=spf1 ip4:192.0.2.0/24 -all", "192.0.2.200", SpfResult.Pass)]
    [InlineData("v=spf1 ip4:192.0.2.0/24 -all", "192.0.3.1", SpfResult.Fail)]
    [InlineData("v=spf1 ip4:192.0.2.77/24 -all", "192.0.2.1", SpfResult.Pass)]
    [InlineData("v=spf1 ip4:10.0.0.0/8 -all", "10.255.255.255", SpfResult.Pass)]
    [InlineData("v=spf1 ip4:0.0.0.0/0 -all", "203.0.113.9", SpfResult.Pass)]
    [InlineData("v=spf1 ip4:40.92.0.0/15 -all", "40.93.1.1", SpfResult.Pass)]
    [InlineData("v=spf1 ip4:40.92.0.0/15 -all", "40.94.1.1", SpfResult.Fail)]
    [InlineData("v=spf1 ip6:2001:db8::1 -all", "2001:db8::1", SpfResult.Pass)]
    [InlineData("v=spf1 ip6:2001:db8::1 -all", "2001:db8::2", SpfResult.Fail)]
    [InlineData("v=spf1 ip6:2001:db8::/32 -all", "2001:db8:ffff::1", SpfResult.Pass)]
    [InlineData("v=spf1 ip6:2001:db8::/32 -all", "2001:db9::1", SpfResult.Fail)]
    [InlineData("v=spf1 ip6:::/0 -all", "2001:db9::1", SpfResult.Pass)]
    [InlineData("v=spf1 ip4:0.0.0.0/0 -all", "2001:db8::1", SpfResult.Fail)]
    [InlineData("v=spf1 ip6:::/0 -all", "192.0.2.1", SpfResult.Fail)]
    [InlineData("v=spf1 ip4:192.0.2.1 -all", "::ffff:192.0.2.1", SpfResult.Pass)]
    [InlineData("v=spf1 ip6:::ffff:192.0.2.1 -all", "::ffff:192.0.2.1", SpfResult.Fail)]
    [InlineData("v=spf1 IP4:192.0.2.1 -ALL", "192.0.2.1", SpfResult.Pass)]
    public async Task Ip4AndIp6CompareTheClientWithTheNetwork(string record, string client, SpfResult expected)
    {
        SpfCheck check = await CheckRecordAsync(record, client);
        Assert.Equal(expected, check.Result);
        Assert.Equal("example.org", check.Domain);
        Assert.Equal(0, check.Lookups);
    }

    [Fact]
    public async Task TheReasonNamesTheMatchingTermAndItsDomain()
    {
        SpfCheck check = await CheckRecordAsync("v=spf1 ip4:192.0.2.0/24 ~all", "198.51.100.1");
        Assert.Equal(SpfResult.SoftFail, check.Result);
        Assert.Equal("~all in example.org", check.Reason);
        check = await CheckRecordAsync("v=spf1 ip4:192.0.2.0/24 ~all", "192.0.2.9");
        Assert.Equal("ip4:192.0.2.0/24 in example.org", check.Reason);
    }

    [Theory]
    [InlineData("v=spf1 -all", SpfResult.Fail)]
    [InlineData("v=spf1 ~all", SpfResult.SoftFail)]
    [InlineData("v=spf1 ?all", SpfResult.Neutral)]
    [InlineData("v=spf1 +all", SpfResult.Pass)]
    [InlineData("v=spf1 all", SpfResult.Pass)]
    [InlineData("v=spf1", SpfResult.Neutral)]
    [InlineData("v=spf1 ip4:198.51.100.1", SpfResult.Neutral)]
    [InlineData("v=spf1 -ip4:192.0.2.1 +all", SpfResult.Fail)]
    [InlineData("v=spf1 ~ip4:192.0.2.1 +all", SpfResult.SoftFail)]
    [InlineData("v=spf1 ?ip4:192.0.2.1 -all", SpfResult.Neutral)]
    public async Task QualifiersGiveTheirResults(string record, SpfResult expected)
    {
        SpfCheck check = await CheckRecordAsync(record, "192.0.2.1");
        Assert.Equal(expected, check.Result);
    }

    [Fact]
    public async Task NoMatchIsNeutralWithAReason()
    {
        SpfCheck check = await CheckRecordAsync("v=spf1 ip4:198.51.100.1", "192.0.2.1");
        Assert.Equal(SpfResult.Neutral, check.Result);
        Assert.Equal("no match in example.org", check.Reason);
    }

    [Theory]
    [InlineData("v=spf1 a -all", "192.0.2.10", SpfResult.Pass)]
    [InlineData("v=spf1 a -all", "192.0.2.11", SpfResult.Fail)]
    [InlineData("v=spf1 a/24 -all", "192.0.2.99", SpfResult.Pass)]
    [InlineData("v=spf1 a/24 -all", "192.0.3.10", SpfResult.Fail)]
    [InlineData("v=spf1 a -all", "2001:db8::10", SpfResult.Pass)]
    [InlineData("v=spf1 a -all", "2001:db8::11", SpfResult.Fail)]
    [InlineData("v=spf1 a//64 -all", "2001:db8::ffff", SpfResult.Pass)]
    [InlineData("v=spf1 a/24//64 -all", "2001:db8::ffff", SpfResult.Pass)]
    [InlineData("v=spf1 a/24//64 -all", "192.0.2.250", SpfResult.Pass)]
    [InlineData("v=spf1 a/24//64 -all", "2001:db8:0:1::10", SpfResult.Fail)]
    [InlineData("v=spf1 a:other.example.net -all", "198.51.100.5", SpfResult.Pass)]
    [InlineData("v=spf1 a:other.example.net -all", "192.0.2.10", SpfResult.Fail)]
    [InlineData("v=spf1 a:other.example.net/24 -all", "198.51.100.77", SpfResult.Pass)]
    [InlineData("v=spf1 a:other.example.net/24//48 -all", "2001:db8:5:ff::1", SpfResult.Pass)]
    [InlineData("v=spf1 a:other.example.net. -all", "198.51.100.5", SpfResult.Pass)]
    [InlineData("v=spf1 a -all", "::ffff:192.0.2.10", SpfResult.Pass)]
    public async Task AComparesTheTargetsAddressesOfTheClientsFamily(string record, string client, SpfResult expected)
    {
        FakeSpfDns dns = new FakeSpfDns()
            .AddAddress("example.org", "192.0.2.10", "2001:db8::10")
            .AddAddress("other.example.net", "198.51.100.5", "2001:db8:5::5");
        SpfCheck check = await CheckRecordAsync(record, client, dns);
        Assert.Equal(expected, check.Result);
        Assert.Equal(1, check.Lookups);
    }

    [Fact]
    public async Task AQueriesOnlyTheClientsFamily()
    {
        FakeSpfDns dns = new FakeSpfDns().AddAddress("example.org", "192.0.2.10");
        await CheckRecordAsync("v=spf1 a -all", "192.0.2.10", dns);
        Assert.Equal(1, dns.Queries("A", "example.org"));
        Assert.Equal(0, dns.Queries("AAAA", "example.org"));
    }

    [Theory]
    [InlineData("v=spf1 mx -all", "192.0.2.20", SpfResult.Pass)]
    [InlineData("v=spf1 mx -all", "192.0.2.21", SpfResult.Pass)]
    [InlineData("v=spf1 mx -all", "192.0.2.22", SpfResult.Fail)]
    [InlineData("v=spf1 mx/30 -all", "192.0.2.22", SpfResult.Pass)]
    [InlineData("v=spf1 mx -all", "2001:db8::20", SpfResult.Pass)]
    [InlineData("v=spf1 mx//120 -all", "2001:db8::ff", SpfResult.Pass)]
    [InlineData("v=spf1 mx/30//120 -all", "2001:db8::1:ff", SpfResult.Fail)]
    [InlineData("v=spf1 mx:example.net -all", "198.51.100.20", SpfResult.Pass)]
    [InlineData("v=spf1 mx:example.net -all", "192.0.2.20", SpfResult.Fail)]
    [InlineData("v=spf1 mx:example.net/24 -all", "198.51.100.1", SpfResult.Pass)]
    public async Task MxComparesTheAddressesOfEachExchange(string record, string client, SpfResult expected)
    {
        FakeSpfDns dns = new FakeSpfDns()
            .AddMx("example.org", "mx1.example.org", "mx2.example.org")
            .AddAddress("mx1.example.org", "192.0.2.20")
            .AddAddress("mx2.example.org", "192.0.2.21", "2001:db8::20")
            .AddMx("example.net", "mx.example.net")
            .AddAddress("mx.example.net", "198.51.100.20");
        SpfCheck check = await CheckRecordAsync(record, client, dns);
        Assert.Equal(expected, check.Result);
        Assert.Equal(1, check.Lookups);
    }

    [Fact]
    public async Task MxWithTenNamesIsEvaluatedAndElevenIsAPermError()
    {
        FakeSpfDns dns = new();
        for (int i = 1; i <= 11; i++)
        {
            dns.AddAddress($"mx{i}.example.org", $"192.0.2.{i}");
            dns.AddAddress($"mx{i}.example.net", $"192.0.2.{i}");
        }
        dns.AddMx("example.org", [.. Enumerable.Range(1, 10).Select(i => $"mx{i}.example.org")]);
        dns.AddMx("example.net", [.. Enumerable.Range(1, 11).Select(i => $"mx{i}.example.net")]);

        SpfCheck ten = await CheckRecordAsync("v=spf1 mx -all", "192.0.2.10", dns);
        Assert.Equal(SpfResult.Pass, ten.Result);

        dns.AddTxt("example.net", "v=spf1 mx -all");
        SpfCheck eleven = await CheckAsync(dns, "192.0.2.1", "example.net");
        Assert.Equal(SpfResult.PermError, eleven.Result);
        Assert.Equal(0, dns.Queries("A", "mx1.example.net"));
    }

    [Fact]
    public async Task MxIgnoresANullMx()
    {
        FakeSpfDns dns = new FakeSpfDns().AddMx("example.org", ".");
        SpfCheck check = await CheckRecordAsync("v=spf1 mx -all", "192.0.2.1", dns);
        Assert.Equal(SpfResult.Fail, check.Result);
    }

    [Fact]
    public async Task MxExchangeLookupFailureIsATempError()
    {
        FakeSpfDns dns = new FakeSpfDns().AddMx("example.org", "mx1.example.org").Fail("mx1.example.org");
        SpfCheck check = await CheckRecordAsync("v=spf1 mx -all", "192.0.2.1", dns);
        Assert.Equal(SpfResult.TempError, check.Result);
        Assert.Equal("DNS error looking up A of mx1.example.org", check.Reason);
    }

    [Theory]
    [InlineData("v=spf1 ptr -all", SpfResult.Pass)]
    [InlineData("v=spf1 ptr:example.org -all", SpfResult.Pass)]
    [InlineData("v=spf1 ptr:mail.example.org -all", SpfResult.Pass)]
    [InlineData("v=spf1 ptr:ample.org -all", SpfResult.Fail)]
    [InlineData("v=spf1 ptr:example.net -all", SpfResult.Fail)]
    public async Task PtrMatchesAValidatedNameAtOrUnderTheTarget(string record, SpfResult expected)
    {
        FakeSpfDns dns = new FakeSpfDns()
            .AddPtr("192.0.2.5", "unrelated.example.com", "Mail.Example.Org")
            .AddAddress("mail.example.org", "192.0.2.5")
            .AddAddress("unrelated.example.com", "192.0.2.5");
        SpfCheck check = await CheckRecordAsync(record, "192.0.2.5", dns);
        Assert.Equal(expected, check.Result);
    }

    [Fact]
    public async Task PtrNeedsTheForwardLookupToGiveTheClientBack()
    {
        FakeSpfDns dns = new FakeSpfDns()
            .AddPtr("192.0.2.5", "mail.example.org")
            .AddAddress("mail.example.org", "192.0.2.6");
        SpfCheck check = await CheckRecordAsync("v=spf1 ptr -all", "192.0.2.5", dns);
        Assert.Equal(SpfResult.Fail, check.Result);
    }

    [Fact]
    public async Task PtrWorksForIPv6Clients()
    {
        FakeSpfDns dns = new FakeSpfDns()
            .AddPtr("2001:db8::5", "mail.example.org")
            .AddAddress("mail.example.org", "192.0.2.5", "2001:db8::5");
        SpfCheck check = await CheckRecordAsync("v=spf1 ptr -all", "2001:db8::5", dns);
        Assert.Equal(SpfResult.Pass, check.Result);
        Assert.Equal(1, dns.Queries("AAAA", "mail.example.org"));
    }

    [Fact]
    public async Task PtrConsidersOnlyTheFirstTenNames()
    {
        FakeSpfDns dns = new();
        string[] names = [.. Enumerable.Range(1, 11).Select(i => $"h{i}.example.org")];
        dns.AddPtr("192.0.2.5", names);
        dns.AddAddress("h11.example.org", "192.0.2.5");
        SpfCheck check = await CheckRecordAsync("v=spf1 ptr -all", "192.0.2.5", dns);
        Assert.Equal(SpfResult.Fail, check.Result);
        Assert.Equal(0, dns.Queries("A", "h11.example.org"));

        dns.AddAddress("h10.example.org", "192.0.2.5");
        check = await CheckAsync(dns, "192.0.2.5");
        Assert.Equal(SpfResult.Pass, check.Result);
    }

    [Fact]
    public async Task PtrLookupFailureIsNoMatchAndForwardFailureSkipsTheName()
    {
        FakeSpfDns dns = new FakeSpfDns().Fail("192.0.2.5", "PTR");
        SpfCheck check = await CheckRecordAsync("v=spf1 ptr ~all", "192.0.2.5", dns);
        Assert.Equal(SpfResult.SoftFail, check.Result);

        dns = new FakeSpfDns()
            .AddPtr("192.0.2.5", "bad.example.org", "good.example.org")
            .Fail("bad.example.org")
            .AddAddress("good.example.org", "192.0.2.5");
        check = await CheckRecordAsync("v=spf1 ptr ~all", "192.0.2.5", dns);
        Assert.Equal(SpfResult.Pass, check.Result);
    }

    [Theory]
    [InlineData("192.0.2.1", SpfResult.Pass)]
    [InlineData("2001:db8::1", SpfResult.Pass)]
    public async Task ExistsMatchesAnyARecordWhateverTheClientFamily(string client, SpfResult expected)
    {
        FakeSpfDns dns = new FakeSpfDns().AddAddress("ok.example.org", "127.0.0.2");
        SpfCheck check = await CheckRecordAsync("v=spf1 exists:ok.example.org -all", client, dns);
        Assert.Equal(expected, check.Result);
        Assert.Equal(1, dns.Queries("A", "ok.example.org"));
        Assert.Equal(0, dns.Queries("AAAA", "ok.example.org"));
    }

    [Fact]
    public async Task ExistsWithNoRecordDoesNotMatch()
    {
        FakeSpfDns dns = new FakeSpfDns().AddAddress("ok.example.org", "2001:db8::1");
        SpfCheck check = await CheckRecordAsync("v=spf1 exists:ok.example.org exists:nx.example.org -all", "192.0.2.1", dns);
        Assert.Equal(SpfResult.Fail, check.Result);
        Assert.Equal(2, check.Lookups);
    }

    [Fact]
    public async Task ExistsExpandsMacros()
    {
        FakeSpfDns dns = new FakeSpfDns().AddAddress("1.2.0.192.in-addr.allow.example.org", "127.0.0.2");
        SpfCheck check = await CheckRecordAsync("v=spf1 exists:%{ir}.%{v}.allow.%{d} -all", "192.0.2.1", dns);
        Assert.Equal(SpfResult.Pass, check.Result);
        check = await CheckAsync(dns, "192.0.2.2");
        Assert.Equal(SpfResult.Fail, check.Result);
        Assert.Equal(1, dns.Queries("A", "2.2.0.192.in-addr.allow.example.org"));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("mx")]
    [InlineData("exists:x.example.org")]
    public async Task DnsFailureInAMechanismIsATempError(string mechanism)
    {
        FakeSpfDns dns = new FakeSpfDns().Fail("example.org", "A").Fail("example.org", "MX").Fail("x.example.org");
        SpfCheck check = await CheckRecordAsync($"v=spf1 {mechanism} -all", "192.0.2.1", dns);
        Assert.Equal(SpfResult.TempError, check.Result);
        Assert.StartsWith("DNS error looking up ", check.Reason);
    }
}
