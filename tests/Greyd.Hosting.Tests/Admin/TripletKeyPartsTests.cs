using Greyd.Hosting.Admin;
using Greyd.Policy;

namespace Greyd.Hosting.Tests.Admin;

public sealed class TripletKeyPartsTests
{
    [Fact]
    public void SplitsASubnetKey()
    {
        var parts = TripletKeyParts.Parse("192.0.2.0/alice@example.net/bob@example.org", new GreylistOptions())!.Value;
        Assert.Equal("192.0.2.0", parts.Network);
        Assert.Equal(24, parts.Prefix);
        Assert.Equal("alice@example.net", parts.Sender);
        Assert.Equal("bob@example.org", parts.Recipient);
    }

    [Fact]
    public void SplitsAnIPv6KeyAndALookupByHostKey()
    {
        var v6 = TripletKeyParts.Parse("2001:db8:abcd:1:0:0:0:0//bob@example.org", new GreylistOptions())!.Value;
        Assert.Equal(64, v6.Prefix);
        Assert.Equal(string.Empty, v6.Sender);
        var host = TripletKeyParts.Parse("192.0.2.10/32/a@b.example/c@d.example", new GreylistOptions { LookupByHost = true })!.Value;
        Assert.Equal("192.0.2.10/32", host.Network);
        Assert.Equal(32, host.Prefix);
        Assert.Equal("a@b.example", host.Sender);
    }

    [Fact]
    public void ASlashInTheSenderStaysInTheSender()
    {
        var parts = TripletKeyParts.Parse("192.0.2.0/list/bounces@lists.example/bob@example.org", new GreylistOptions())!.Value;
        Assert.Equal("list/bounces@lists.example", parts.Sender);
        Assert.Equal("bob@example.org", parts.Recipient);
    }

    [Theory]
    [InlineData("b86591028e998a5eb1dc07e4f5df484d7541f3e3")]
    [InlineData("not-an-address/a/b")]
    [InlineData("192.0.2.0/only-one-part")]
    public void DigestsAndOtherTextHaveNoParts(string key)
    {
        Assert.Null(TripletKeyParts.Parse(key, new GreylistOptions()));
    }
}
