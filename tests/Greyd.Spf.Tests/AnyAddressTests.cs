using Greyd.Tests.Shared;
using static Greyd.Spf.Tests.SpfTestDns;

namespace Greyd.Spf.Tests;

/// <summary>A pass by a term that matches any address (+all, a /0 network) is flagged: such a record names no pool.</summary>
public class AnyAddressTests
{
    [Theory]
    [InlineData("v=spf1 +all", "203.0.113.5", true)]
    [InlineData("v=spf1 all", "203.0.113.5", true)]
    [InlineData("v=spf1 ip4:0.0.0.0/0", "203.0.113.5", true)]
    [InlineData("v=spf1 ip4:128.0.0.0/1 ip4:0.0.0.0/1 -all", "203.0.113.5", true)]
    [InlineData("v=spf1 ip4:203.0.0.0/7 -all", "203.0.113.5", true)]
    [InlineData("v=spf1 ip4:203.0.0.0/8 -all", "203.0.113.5", false)]
    [InlineData("v=spf1 ip6:2000::/3 -all", "2001:db8::5", true)]
    [InlineData("v=spf1 ip6:2001:db8::/32 -all", "2001:db8::5", false)]
    [InlineData("v=spf1 ip4:203.0.113.0/24 +all", "203.0.113.5", false)]
    [InlineData("v=spf1 ip4:203.0.113.0/24 +all", "198.51.100.5", true)]
    public async Task APassByABroadTermIsFlagged(string record, string client, bool anyAddress)
    {
        SpfCheck check = await CheckRecordAsync(record, client);

        Assert.Equal(SpfResult.Pass, check.Result);
        Assert.Equal(anyAddress, check.PassesAnyAddress);
    }

    [Fact]
    public async Task AnAMechanismWithAShortPrefixMatchesAnyAddress()
    {
        var dns = new FakeSpfDns().AddAddress("example.org", "192.0.2.1");
        Assert.True((await CheckRecordAsync("v=spf1 a/1 -all", "203.0.113.5", dns)).PassesAnyAddress);
        var exact = new FakeSpfDns().AddAddress("example.org", "203.0.113.5");
        Assert.False((await CheckRecordAsync("v=spf1 a -all", "203.0.113.5", exact)).PassesAnyAddress);
    }

    [Fact]
    public async Task TheFlagFollowsABroadPassThroughIncludesAndRedirects()
    {
        var dns = new FakeSpfDns()
            .AddTxt("_spf.example.org", "v=spf1 +all")
            .AddTxt("_r.example.org", "v=spf1 ip4:0.0.0.0/0");
        Assert.True((await CheckRecordAsync("v=spf1 include:_spf.example.org -all", "203.0.113.5", dns)).PassesAnyAddress);
        var redirect = new FakeSpfDns().AddTxt("_r.example.org", "v=spf1 ip4:0.0.0.0/0");
        Assert.True((await CheckRecordAsync("v=spf1 redirect=_r.example.org", "203.0.113.5", redirect)).PassesAnyAddress);
    }

    [Fact]
    public async Task ABroadMatchThatDidNotDecideLeavesNoFlag()
    {
        // The inner +all makes the middle record fail (-include), so the outer include does not match and the pass
        // comes from the outer record's own ip4 term.
        var dns = new FakeSpfDns()
            .AddTxt("middle.example.org", "v=spf1 -include:anyone.example.org ?all")
            .AddTxt("anyone.example.org", "v=spf1 +all");
        SpfCheck check = await CheckRecordAsync("v=spf1 include:middle.example.org ip4:203.0.113.0/24 -all", "203.0.113.5", dns);

        Assert.Equal(SpfResult.Pass, check.Result);
        Assert.False(check.PassesAnyAddress);
    }

    [Fact]
    public async Task OnlyAPassCarriesTheFlag()
    {
        Assert.False((await CheckRecordAsync("v=spf1 -all", "203.0.113.5")).PassesAnyAddress);
        Assert.False((await CheckRecordAsync("v=spf1 ?all", "203.0.113.5")).PassesAnyAddress);
    }
}
