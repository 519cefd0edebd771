using System.Text;

namespace Greyd.Policy.Tests;

public class TripletKeyBuilderTests
{
    private static readonly GreylistOptions Defaults = new();

    private static string Key(GreylistOptions options, string clientAddress = "192.0.2.10", string sender = "alice@example.net", string recipient = "bob@example.org") =>
        TestRequests.TripletKeyText(TestRequests.Create(clientAddress, sender, recipient), options);

    private static string ClientKey(string clientAddress, GreylistOptions options) =>
        Encoding.ASCII.GetString(TestRequests.ClientKey(TestRequests.Address(clientAddress), options));

    [Fact]
    public void WriteTripletKeyGivesTheDefaultKey()
    {
        Assert.Equal("192.0.2.0/alice@example.net/bob@example.org", Key(Defaults));
    }

    [Theory]
    [MemberData(nameof(SenderVectors.Verified), MemberType = typeof(SenderVectors))]
    [InlineData("prvs=@example.com", "prvs=@example.com")]
    [InlineData("PRVS==@Example.com", "prvs==@example.com")]
    public void WriteTripletKeyNormalisesTheSenderAsTheVerifiedTable(string sender, string part)
    {
        Assert.Equal("192.0.2.0/" + part + "/bob@example.org", Key(Defaults, sender: sender));
    }

    [Fact]
    public void WriteTripletKeyLowerCasesOnlyAsciiLetters()
    {
        byte[] key = TestRequests.TripletKey(TestRequests.Create(sender: "É123@Example.COM", recipient: "Ü@X.ORG"), Defaults);
        byte[] expected = [.. "192.0.2.0/"u8.ToArray(), 0xC3, 0x89, (byte)'#', .. "@example.com/"u8.ToArray(), 0xC3, 0x9C, .. "@x.org"u8.ToArray()];
        Assert.Equal(expected, key);
    }

    [Theory]
    [InlineData("BOB@Example.ORG", "bob@example.org")]
    [InlineData("bob+x@example.org", "bob+x@example.org")]
    [InlineData("bounce-123@example.org", "bounce-123@example.org")]
    [InlineData("", "")]
    public void WriteTripletKeyOnlyLowerCasesTheRecipient(string recipient, string part)
    {
        Assert.Equal("192.0.2.0/alice@example.net/" + part, Key(Defaults, recipient: recipient));
    }

    [Theory]
    [InlineData("192.0.2.99", "192.0.2.0")]
    [InlineData("198.51.100.10", "198.51.100.0")]
    [InlineData("01.02.03.04", "1.2.3.0")]
    [InlineData("2001:DB8:0:0:abcd::1", "2001:db8:0:0:0:0:0:0")]
    [InlineData("2001:db8::ffff:1", "2001:db8:0:0:0:0:0:0")]
    [InlineData("2001:db8:0:1::1", "2001:db8:0:1:0:0:0:0")]
    [InlineData("2001:DB8:ABCD:1::5", "2001:db8:abcd:1:0:0:0:0")]
    [InlineData("::ffff:192.0.2.1", "0:0:0:0:0:0:0:0")]
    public void WriteTripletKeyUsesTheClientNetworkByDefault(string clientAddress, string network)
    {
        Assert.Equal(network + "/alice@example.net/bob@example.org", Key(Defaults, clientAddress));
    }

    [Theory]
    [InlineData("192.0.2.10", "192.0.2.10/32")]
    [InlineData("192.0.2.11", "192.0.2.11/32")]
    [InlineData("2001:DB8::1", "2001:db8:0:0:0:0:0:1/128")]
    [InlineData("::ffff:192.0.2.1", "0:0:0:0:0:ffff:c000:201/128")]
    public void WriteTripletKeyUsesTheHostWithItsPrefixLengthWhenLookingUpByHost(string clientAddress, string network)
    {
        var options = new GreylistOptions { LookupByHost = true };
        Assert.Equal(network + "/alice@example.net/bob@example.org", Key(options, clientAddress));
    }

    [Theory]
    [InlineData("10.1.2.3", "10.1.0.0")]
    [InlineData("10.1.200.3", "10.1.0.0")]
    [InlineData("2001:db8:ab:cd::1", "2001:db8:ab:0:0:0:0:0")]
    public void WriteTripletKeyHonoursTheCidrOptions(string clientAddress, string network)
    {
        var options = new GreylistOptions { IPv4Cidr = 16, IPv6Cidr = 48 };
        Assert.Equal(network + "/alice@example.net/bob@example.org", Key(options, clientAddress));
    }

    [Fact]
    public void WriteTripletKeyWritesTheBareAddressForAFullLengthPrefix()
    {
        Assert.Equal("192.0.2.77/a@b/c@d", Key(new GreylistOptions { IPv4Cidr = 32 }, "192.0.2.77", "a@b", "c@d"));
        Assert.Equal("2001:db8:0:0:0:0:0:77/a@b/c@d", Key(new GreylistOptions { IPv6Cidr = 128 }, "2001:db8::77", "a@b", "c@d"));
    }

    [Fact]
    public void WriteTripletKeyGivesTheSha1HexUnderPrivacy()
    {
        var options = new GreylistOptions { Privacy = true };
        Assert.Equal("b86591028e998a5eb1dc07e4f5df484d7541f3e3", Key(options));
        Assert.Equal("f4dc7d5585a4d21624162218ec89d8f11a92af19", Key(options, sender: ""));

        // The digest is taken after normalisation and lower-casing.
        Assert.Equal("b86591028e998a5eb1dc07e4f5df484d7541f3e3", Key(options, "192.0.2.99", "Alice+X@EXAMPLE.NET", "Bob@Example.Org"));
    }

    [Theory]
    [InlineData("192.0.2.10", "192.0.2.10")]
    [InlineData("01.02.03.04", "1.2.3.4")]
    [InlineData("2001:db8::ffff:1", "2001:DB8:0:0:0:0:FFFF:1")]
    [InlineData("2001:DB8::1", "2001:DB8:0:0:0:0:0:1")]
    public void WriteClientKeyGivesTheExactCanonicalAddressInUpperCase(string clientAddress, string key)
    {
        Assert.Equal(key, ClientKey(clientAddress, Defaults));

        // The AWL key never depends on the subnet or lookup options.
        Assert.Equal(key, ClientKey(clientAddress, new GreylistOptions { LookupByHost = true, IPv4Cidr = 8, IPv6Cidr = 16 }));
    }

    [Fact]
    public void WriteClientKeyGivesTheSha1HexUnderPrivacy()
    {
        Assert.Equal("56adbd712c6632d3ec32ba4e754292656851bbba", ClientKey("192.0.2.10", new GreylistOptions { Privacy = true }));
    }

    [Fact]
    public void WriteTripletKeyFitsTheLongestPossibleKeyIntoMaxKeyLength()
    {
        // Both values at the 512-byte cut, the longest network text and its /128 suffix.
        string sender = new string('S', 511) + "@";
        string recipient = new string('R', 512);
        var request = TestRequests.Create("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", sender, recipient);
        var options = new GreylistOptions { LookupByHost = true };

        string key = TestRequests.TripletKeyText(request, options);
        Assert.Equal("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128/" + sender.ToLowerInvariant() + "/" + recipient.ToLowerInvariant(), key);
        Assert.True(key.Length <= TripletKeyBuilder.MaxKeyLength);

        string hashed = TestRequests.TripletKeyText(request, new GreylistOptions { LookupByHost = true, Privacy = true });
#pragma warning disable CA5350 // postgrey's --privacy digest is SHA-1.
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(Encoding.ASCII.GetBytes(key))), hashed);
#pragma warning restore CA5350
    }
}
