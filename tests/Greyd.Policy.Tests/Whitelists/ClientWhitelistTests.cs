using Greyd.Policy.Whitelists;
using static Greyd.Policy.Tests.Whitelists.WhitelistFiles;

namespace Greyd.Policy.Tests.Whitelists;

public class ClientWhitelistTests
{
    private static readonly ClientWhitelist s_s16 = Clients(S16Clients);

    // Section 8.8, with greyd's deliberate deviations: V54 (10.20 is a /16) and V60 (*. means the subdomains) pass.
    [Theory]
    [InlineData("V45", "mx1.EXAMPLE.com", "203.0.113.1", true)]
    [InlineData("V46", "example.com", "203.0.113.1", true)]
    [InlineData("V47", "notexample.com", "203.0.113.1", false)]
    [InlineData("V48", "example.com.evil.test", "203.0.113.1", false)]
    [InlineData("V49", "MX12.regex.test", "203.0.113.1", true)]
    [InlineData("V50", "unknown", "192.0.2.7", true)]
    [InlineData("V51", "unknown", "192.0.2.8", false)]
    [InlineData("V52", "unknown", "198.51.100.200", true)]
    [InlineData("V53", "unknown", "10.20.0.5", true)]
    [InlineData("V54", "unknown", "10.20.5.5", true)]
    [InlineData("V55", "unknown", "203.0.113.100", true)]
    [InlineData("V56", "unknown", "203.0.113.130", false)]
    [InlineData("V57", "unknown", "2001:db8:1:ffff::1", true)]
    [InlineData("V58", "unknown", "2001:DB8:2:0:0:0:0:5", true)]
    [InlineData("V59", "unknown", "2001:db8:2::6", false)]
    [InlineData("V60", "a.wild.test", "203.0.113.1", true)]
    public void S16Vectors(string id, string clientName, string clientAddress, bool whitelisted)
    {
        Assert.True(whitelisted == s_s16.IsMatch(clientName, clientAddress), $"{id}: expected {(whitelisted ? "a match" : "no match")}");
    }

    [Theory]
    [InlineData("wild.test")]
    [InlineData("10.20.5.5")]
    [InlineData("mx.regex.test")]
    [InlineData("mx1.regex.test.evil")]
    [InlineData("")]
    public void S16NamesThatMustNotMatch(string clientName)
    {
        Assert.False(s_s16.IsMatch(clientName, "203.0.113.1"));
    }

    [Theory]
    [InlineData("EXAMPLE.COM")]
    [InlineData("Example.Com")]
    [InlineData("MX.Sub.Example.COM")]
    public void HostNamesIgnoreCase(string clientName)
    {
        Assert.True(s_s16.IsMatch(clientName, "203.0.113.1"));
        Assert.True(Clients("EXAMPLE.com\n").IsMatch(clientName, "203.0.113.1"));
    }

    [Theory]
    [InlineData("notexample.com", false)]
    [InlineData("example.com.evil.test", false)]
    [InlineData("example.comx", false)]
    [InlineData("xexample.com", false)]
    [InlineData("example.co", false)]
    [InlineData("com", false)]
    [InlineData(".example.com", true)]
    [InlineData("a.example.com", true)]
    [InlineData("a-b.c.example.com", true)]
    public void HostSuffixesMatchOnlyAtALabelBoundary(string clientName, bool expected)
    {
        Assert.Equal(expected, Clients("example.com\n").IsMatch(clientName, "203.0.113.1"));
    }

    [Fact]
    public void ANameRegexIsNotAnchoredUnlessTheAuthorAnchorsIt()
    {
        var list = Clients("/regex\\.test/\n");
        Assert.True(list.IsMatch("mx1.REGEX.test.evil", "203.0.113.1"));
        Assert.False(list.IsMatch("regexXtest", "203.0.113.1"));
    }

    [Fact]
    public void TheNameEntryUnknownWhitelistsClientsWithoutReverseDns()
    {
        var list = Clients("unknown\n");
        Assert.True(list.IsMatch("unknown", "192.0.2.99"));
        Assert.True(list.IsMatch("UNKNOWN", "192.0.2.99"));
        Assert.False(list.IsMatch("mail.example.net", "192.0.2.99"));
    }

    [Fact]
    public void AnEmptyClientNameIsStillCheckedByAddress()
    {
        Assert.True(s_s16.IsMatch("", "192.0.2.7"));
        Assert.False(s_s16.IsMatch("", "192.0.2.8"));
    }

    [Theory]
    [InlineData("192.0.2.7")]
    [InlineData("10.20.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("255.255.255.255")]
    public void AnIPv4ClientNeverMatchesIPv6Entries(string client)
    {
        // NetAddr::IP would let "::/0" or "::/96" take every IPv4 client; greyd keeps the families apart.
        var list = Clients("::/0\n::/96\n::ffff:0:0/96\n::ffff:192.0.2.7\n::192.0.2.7\n");
        Assert.Equal(5, list.Count);
        Assert.False(list.IsMatch("unknown", client));
    }

    [Theory]
    [InlineData("::ffff:192.0.2.7")]
    [InlineData("::192.0.2.7")]
    [InlineData("::c000:207")]
    [InlineData("::")]
    public void AnIPv6ClientNeverMatchesIPv4Entries(string client)
    {
        var list = Clients("192.0.2.7\n0.0.0.0/0\n0.0\n");
        Assert.False(list.IsMatch("unknown", client));
    }

    [Fact]
    public void NonAsciiNamesAreComparedByteForByte()
    {
        // A UTF-8 host name entry matches the same UTF-8 bytes in client_name; letters outside ASCII do not fold.
        var list = Clients("bücher.example\n*.straße.test\n/^mx\\.müller\\.test$/\n");
        Assert.True(list.IsMatch("bücher.example", "203.0.113.1"));
        Assert.True(list.IsMatch("MX.bücher.example", "203.0.113.1"));
        Assert.False(list.IsMatch("bÜcher.example", "203.0.113.1"));
        Assert.False(list.IsMatch("bucher.example", "203.0.113.1"));
        Assert.True(list.IsMatch("a.straße.test", "203.0.113.1"));
        Assert.False(list.IsMatch("a.strasse.test", "203.0.113.1"));
        Assert.True(list.IsMatch("MX.müller.test", "203.0.113.1"));
        Assert.False(list.IsMatch("mx.muller.test", "203.0.113.1"));
    }

    [Fact]
    public void InvalidUtf8InTheClientNameIsHarmless()
    {
        Assert.False(s_s16.IsMatch([0xff, 0xfe, (byte)'.', 0xc3], Address("203.0.113.1")));
        Assert.True(s_s16.IsMatch([0xff, (byte)'.', .. "example.com"u8], Address("203.0.113.1")));
    }

    [Fact]
    public void TheEmptyListMatchesNothing()
    {
        Assert.Equal(0, ClientWhitelist.Empty.Count);
        Assert.False(ClientWhitelist.Empty.IsMatch("example.com", "192.0.2.7"));
        Assert.False(ClientWhitelist.Empty.IsMatch("", "2001:db8::1"));
    }

    [Fact]
    public void TheBuilderIgnoresHostBitsAndDuplicateNames()
    {
        var builder = new ClientWhitelist.Builder();
        builder.AddNetwork(Address("203.0.113.70"), 26);
        builder.AddSuffix("Example.com");
        builder.AddSuffix("example.COM");
        builder.AddSubdomainSuffix("wild.test");
        var list = builder.Build();
        Assert.Equal(3, list.Count);
        Assert.True(list.IsMatch("unknown", "203.0.113.64"));
        Assert.True(list.IsMatch("unknown", "203.0.113.127"));
        Assert.False(list.IsMatch("unknown", "203.0.113.128"));
        Assert.True(list.IsMatch("example.com", "198.18.0.1"));
        Assert.True(list.IsMatch("b.wild.test", "198.18.0.1"));
        Assert.False(list.IsMatch("wild.test", "198.18.0.1"));
    }

    [Fact]
    public void ALongClientNameIsFine()
    {
        string name = string.Concat(Enumerable.Repeat("abcdefghij.", 100)) + "example.com";
        Assert.True(s_s16.IsMatch(name, "203.0.113.1"));
        Assert.False(s_s16.IsMatch(name + "x", "203.0.113.1"));
    }
}
