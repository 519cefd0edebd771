using System.Text;

namespace Greyd.Policy.Tests;

public class ClientAddressTests
{
    [Theory]
    [InlineData("1.2.3.256")]
    [InlineData("[1.2.3.4]")]
    [InlineData("fe80::1%eth0")]
    [InlineData("192.0.2.10 ")]
    [InlineData(" 192.0.2.10")]
    [InlineData("2001:db8::1 ")]
    [InlineData("")]
    [InlineData("unknown")]
    [InlineData("localhost")]
    [InlineData("1.2.3")]
    [InlineData("1.2.3.4.5")]
    [InlineData("1..2.3")]
    [InlineData("1.2.3.")]
    [InlineData("1.2.3.4/32")]
    [InlineData("0001.2.3.4")]
    [InlineData("[::1]")]
    [InlineData("2001:db8::/64")]
    [InlineData("2001:db8::g")]
    [InlineData("1:2:3:4:5:6:7:8:9")]
    [InlineData("1.2.3.4:80")]
    [InlineData("1::2::3")]
    [InlineData("::1:")]
    [InlineData("12345::1")]
    [InlineData("::ffff:1.2.3.256")]
    [InlineData(":")]
    [InlineData("1.2.3.4\n")]
    [InlineData("1.2.3.4\0")]
    public void TryParseRejectsWhatPostgreyCannotParse(string text)
    {
        Assert.False(ClientAddress.TryParse(text, out var address));
        Assert.Equal(default, address);
        Assert.False(ClientAddress.TryParse(Encoding.UTF8.GetBytes(text), out _));
    }

    [Theory]
    [InlineData("192.0.2.10", "192.0.2.10")]
    [InlineData("01.02.03.04", "1.2.3.4")]
    [InlineData("001.000.010.255", "1.0.10.255")]
    [InlineData("0.0.0.0", "0.0.0.0")]
    [InlineData("255.255.255.255", "255.255.255.255")]
    public void TryParseAcceptsIPv4AndWritesTheDottedQuadWithoutLeadingZeros(string text, string canonical)
    {
        Assert.True(ClientAddress.TryParse(text, out var address));
        Assert.False(address.IsIPv6);
        Assert.Equal(32, address.BitLength);
        Assert.Equal(canonical, address.ToString());
    }

    [Theory]
    [InlineData("2001:db8::ffff:1", "2001:DB8:0:0:0:0:FFFF:1")]
    [InlineData("2001:DB8::1", "2001:DB8:0:0:0:0:0:1")]
    [InlineData("2001:DB8:0:0:abcd::1", "2001:DB8:0:0:ABCD:0:0:1")]
    [InlineData("::", "0:0:0:0:0:0:0:0")]
    [InlineData("::1", "0:0:0:0:0:0:0:1")]
    [InlineData("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF")]
    [InlineData("::ffff:192.0.2.1", "0:0:0:0:0:FFFF:C000:201")]
    public void TryParseAcceptsIPv6AndWritesEightUpperCaseGroups(string text, string canonical)
    {
        Assert.True(ClientAddress.TryParse(text, out var address));
        Assert.True(address.IsIPv6);
        Assert.Equal(128, address.BitLength);
        Assert.Equal(canonical, address.ToString());
    }

    [Fact]
    public void TryParseTreatsAnIPv4MappedAddressAsIPv6()
    {
        Assert.True(ClientAddress.TryParse("::ffff:192.0.2.1", out var mapped));
        Assert.True(ClientAddress.TryParse("192.0.2.1", out var plain));
        Assert.True(mapped.IsIPv6);
        Assert.NotEqual(plain, mapped);
        Assert.Equal(((UInt128)0xffff << 32) | 0xC0000201u, mapped.Value);
    }

    [Fact]
    public void WriteTextCanWriteLowerCaseIPv6()
    {
        var address = TestRequests.Address("2001:DB8::FFFF:1");
        Span<byte> text = stackalloc byte[ClientAddress.MaxTextLength];
        int n = address.WriteText(text, lowerCase: true);
        Assert.Equal("2001:db8:0:0:0:0:ffff:1", Encoding.ASCII.GetString(text[..n]));
    }

    [Fact]
    public void WriteTextFitsTheLongestAddressIntoMaxTextLength()
    {
        var address = TestRequests.Address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
        Span<byte> text = stackalloc byte[ClientAddress.MaxTextLength];
        Assert.Equal(ClientAddress.MaxTextLength, address.WriteText(text));
    }

    [Theory]
    [InlineData("192.0.2.10", 24, "192.0.2.0")]
    [InlineData("10.1.200.3", 16, "10.1.0.0")]
    [InlineData("192.0.2.77", 32, "192.0.2.77")]
    [InlineData("192.0.2.77", 0, "0.0.0.0")]
    [InlineData("203.0.113.70", 26, "203.0.113.64")]
    [InlineData("255.255.255.255", 1, "128.0.0.0")]
    [InlineData("2001:db8:0:0:abcd::1", 64, "2001:DB8:0:0:0:0:0:0")]
    [InlineData("2001:db8:ab:cd::1", 48, "2001:DB8:AB:0:0:0:0:0")]
    [InlineData("::ffff:192.0.2.1", 64, "0:0:0:0:0:0:0:0")]
    [InlineData("2001:db8::1", 128, "2001:DB8:0:0:0:0:0:1")]
    [InlineData("ffff::1", 0, "0:0:0:0:0:0:0:0")]
    public void NetworkClearsTheHostBits(string text, int prefix, string network)
    {
        var address = TestRequests.Address(text);
        var net = address.Network(prefix);
        Assert.Equal(network, net.ToString());
        Assert.Equal(address.IsIPv6, net.IsIPv6);
    }

    [Fact]
    public void IsWithinChecksTheNetworkAndTheAddressFamily()
    {
        var net = TestRequests.Address("203.0.113.64");
        Assert.True(TestRequests.Address("203.0.113.100").IsWithin(net, 26));
        Assert.False(TestRequests.Address("203.0.113.130").IsWithin(net, 26));

        // An IPv4-mapped client does not match IPv4 entries.
        Assert.False(TestRequests.Address("::ffff:203.0.113.100").IsWithin(net, 26));
        Assert.False(TestRequests.Address("::cb00:7164").IsWithin(net, 0));
        Assert.True(TestRequests.Address("2001:db8:1:ffff::1").IsWithin(TestRequests.Address("2001:db8:1::"), 48));
    }

    [Fact]
    public void EqualityComparesValueAndFamily()
    {
        Assert.Equal(TestRequests.Address("01.2.3.4"), TestRequests.Address("1.2.3.4"));
        Assert.True(TestRequests.Address("2001:DB8::1") == TestRequests.Address("2001:db8:0::1"));
        Assert.True(ClientAddress.FromIPv4(1) != ClientAddress.FromIPv6(1));
        Assert.Equal(TestRequests.Address("::1").GetHashCode(), ClientAddress.FromIPv6(1).GetHashCode());
    }
}
