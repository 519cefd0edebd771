using System.Text;
using Greyd.Hosting.Import;
using Greyd.Policy;

namespace Greyd.Hosting.Tests.Import;

public class PostgreyKeyConverterTests
{
    private static readonly Dictionary<string, GreylistOptions> Options = new()
    {
        ["default"] = new GreylistOptions(),
        ["v4/16 v6/48"] = new GreylistOptions { IPv4Cidr = 16, IPv6Cidr = 48 },
        ["v4/25 v6/80"] = new GreylistOptions { IPv4Cidr = 25, IPv6Cidr = 80 },
        ["v4/32"] = new GreylistOptions { IPv4Cidr = 32 },
        ["by host"] = new GreylistOptions { LookupByHost = true },
        ["privacy"] = new GreylistOptions { Privacy = true },
        ["no AWL"] = new GreylistOptions { AutoWhitelistClients = 0 },
    };

    private static string Triplet(string options, string key, int postgreyIPv4Cidr = 24) =>
        Outcome(new PostgreyKeyConverter(Options[options], postgreyIPv4Cidr).ConvertTriplet(Encoding.Latin1.GetBytes(key)));

    private static string Client(string options, string key) =>
        Outcome(new PostgreyKeyConverter(Options[options]).ConvertClient(Encoding.Latin1.GetBytes(key)));

    private static string Outcome(KeyConversion conversion) =>
        conversion.Key is { } key ? Encoding.Latin1.GetString(key) : $"skip {conversion.Reason}: {conversion.Detail}";

    [Theory]
    // 1.37: the network without its prefix length.
    [InlineData("default", "192.0.2.0/alice@example.net/bob@example.org", "192.0.2.0/alice@example.net/bob@example.org")]
    [InlineData("v4/16 v6/48", "192.0.2.0/alice@example.net/bob@example.org", "192.0.0.0/alice@example.net/bob@example.org")]
    [InlineData("v4/25 v6/80", "192.0.2.0/alice@example.net/bob@example.org", "skip NetworkTooWide: a /24 network; greyd keys /25")]
    [InlineData("by host", "192.0.2.0/alice@example.net/bob@example.org", "skip NetworkTooWide: a /24 network; greyd keys whole addresses")]
    [InlineData("default", "2001:db8:0:0:0:0:0:0/a@b.example/c@d.example", "2001:db8:0:0:0:0:0:0/a@b.example/c@d.example")]
    [InlineData("v4/16 v6/48", "2001:db8:abcd:1:0:0:0:0/a@b.example/c@d.example", "2001:db8:abcd:0:0:0:0:0/a@b.example/c@d.example")]
    [InlineData("v4/25 v6/80", "2001:db8:0:0:0:0:0:0/a@b.example/c@d.example", "skip NetworkTooWide: a /64 network; greyd keys /80")]
    [InlineData("default", "0:0:0:0:0:0:0:0/a@b.example/c@d.example", "0:0:0:0:0:0:0:0/a@b.example/c@d.example")]
    [InlineData("default", "192.0.2.0//bob@example.org", "192.0.2.0//bob@example.org")]
    // 1.36: the network with its prefix length.
    [InlineData("default", "192.0.2.0/24/alice@example.net/bob@example.org", "192.0.2.0/alice@example.net/bob@example.org")]
    [InlineData("v4/16 v6/48", "192.0.2.0/24/alice@example.net/bob@example.org", "192.0.0.0/alice@example.net/bob@example.org")]
    [InlineData("v4/25 v6/80", "192.0.2.0/24/alice@example.net/bob@example.org", "skip NetworkTooWide: a /24 network; greyd keys /25")]
    [InlineData("default", "2001:db8:abcd:1:0:0:0:0/64/a@b.example/c@d.example", "2001:db8:abcd:1:0:0:0:0/a@b.example/c@d.example")]
    [InlineData("default", "192.0.2.0/24//bob@example.org", "192.0.2.0//bob@example.org")]
    [InlineData("default", "10.1.0.0/16/a@b.example/c@d.example", "skip NetworkTooWide: a /16 network; greyd keys /24")]
    // 1.37 --lookup-by-host: the host with /32 or /128.
    [InlineData("default", "192.0.2.77/32/alice@example.net/bob@example.org", "192.0.2.0/alice@example.net/bob@example.org")]
    [InlineData("by host", "192.0.2.77/32/alice@example.net/bob@example.org", "192.0.2.77/32/alice@example.net/bob@example.org")]
    [InlineData("v4/32", "192.0.2.77/32/alice@example.net/bob@example.org", "192.0.2.77/alice@example.net/bob@example.org")]
    [InlineData("by host", "2001:db8:0:0:0:0:0:1/128/a@b.example/c@d.example", "2001:db8:0:0:0:0:0:1/128/a@b.example/c@d.example")]
    [InlineData("default", "2001:db8:0:0:0:0:0:1/128/a@b.example/c@d.example", "2001:db8:0:0:0:0:0:0/a@b.example/c@d.example")]
    // 1.35 and older (and 1.36 --lookup-by-host): the whole client address as Postfix sent it, lower-cased.
    [InlineData("default", "192.0.2.77/alice@example.net/bob@example.org", "192.0.2.0/alice@example.net/bob@example.org")]
    [InlineData("v4/25 v6/80", "192.0.2.77/alice@example.net/bob@example.org", "192.0.2.0/alice@example.net/bob@example.org")]
    [InlineData("by host", "192.0.2.77/alice@example.net/bob@example.org", "192.0.2.77/32/alice@example.net/bob@example.org")]
    [InlineData("by host", "01.02.03.04/a@b.example/c@d.example", "1.2.3.4/32/a@b.example/c@d.example")]
    [InlineData("default", "2001:db8::1/a@b.example/c@d.example", "2001:db8:0:0:0:0:0:0/a@b.example/c@d.example")]
    [InlineData("by host", "2001:db8::1/a@b.example/c@d.example", "2001:db8:0:0:0:0:0:1/128/a@b.example/c@d.example")]
    [InlineData("by host", "::ffff:192.0.2.1/a@b.example/c@d.example", "0:0:0:0:0:ffff:c000:201/128/a@b.example/c@d.example")]
    // A 1.35 "pool" key whose last octet is 0 reads as a /24: it cannot become a host key.
    [InlineData("by host", "192.0.2.0/a@b.example/c@d.example", "skip NetworkTooWide: a /24 network; greyd keys whole addresses")]
    // A sender or recipient with '/' in it stays whole.
    [InlineData("default", "192.0.2.0/a/b@example.net/c/d@example.org", "192.0.2.0/a/b@example.net/c/d@example.org")]
    // Keys no postgrey wrote.
    [InlineData("default", "/alice@example.net/bob@example.org", "skip MalformedKey: no client address before the first /")]
    [InlineData("default", "unknown/alice@example.net/bob@example.org", "skip MalformedKey: no client address before the first /")]
    [InlineData("default", "192.0.2.256/alice@example.net/bob@example.org", "skip MalformedKey: no client address before the first /")]
    [InlineData("default", "192.0.2.0", "skip MalformedKey: no / in it")]
    [InlineData("default", "192.0.2.0/bob@example.org", "skip MalformedKey: no sender/recipient after the client part")]
    [InlineData("default", "192.0.2.1/24/alice@example.net/bob@example.org", "skip MalformedKey: address bits set past /24")]
    public void EveryKeyFormatBecomesGreydsKeyOrIsSkippedWithItsReason(string options, string key, string expected)
    {
        Assert.Equal(expected, Triplet(options, key));
    }

    [Fact]
    public void BytesPastAsciiInSenderAndRecipientAreKept()
    {
        byte[] key = [.. "192.0.2.0/24/"u8.ToArray(), 0xC3, 0xA9, .. "#@example.com/"u8.ToArray(), 0xC3, 0x9C, .. "@x.org"u8.ToArray()];
        byte[] expected = [.. "192.0.2.0/"u8.ToArray(), 0xC3, 0xA9, .. "#@example.com/"u8.ToArray(), 0xC3, 0x9C, .. "@x.org"u8.ToArray()];

        Assert.Equal(expected, new PostgreyKeyConverter(new GreylistOptions()).ConvertTriplet(key).Key);
    }

    [Theory]
    [InlineData(16, "default", "10.1.0.0/a@b.example/c@d.example", "skip NetworkTooWide: a /16 network; greyd keys /24")]
    [InlineData(16, "v4/16 v6/48", "10.1.0.0/a@b.example/c@d.example", "10.1.0.0/a@b.example/c@d.example")]
    [InlineData(16, "default", "10.1.2.0/a@b.example/c@d.example", "10.1.2.0/a@b.example/c@d.example")]
    [InlineData(28, "default", "192.0.2.16/a@b.example/c@d.example", "192.0.2.0/a@b.example/c@d.example")]
    [InlineData(28, "by host", "192.0.2.16/a@b.example/c@d.example", "skip NetworkTooWide: a /28 network; greyd keys whole addresses")]
    public void ANetworkWithoutPrefixLengthIsReadWithPostgreysCidr(int postgreyIPv4Cidr, string options, string key, string expected)
    {
        Assert.Equal(expected, Triplet(options, key, postgreyIPv4Cidr));
    }

    [Fact]
    public void PrivacyKeysAreKeptAsTheyAreOnlyUnderPrivacy()
    {
        const string Digest = "b86591028e998a5eb1dc07e4f5df484d7541f3e3";
        var underPrivacy = new PostgreyKeyConverter(Options["privacy"]).ConvertTriplet(Encoding.ASCII.GetBytes(Digest));

        Assert.Equal(Digest, Encoding.ASCII.GetString(underPrivacy.Key!));
        Assert.True(underPrivacy.IsPrivacyKey);
        Assert.Equal("skip PrivacyKey: ", Triplet("default", Digest));
        Assert.Equal("skip PrivacyKey: ", Client("default", "56adbd712c6632d3ec32ba4e754292656851bbba"));
        Assert.Equal("56adbd712c6632d3ec32ba4e754292656851bbba", Client("privacy", "56adbd712c6632d3ec32ba4e754292656851bbba"));
        // Upper-case hex is no digest postgrey wrote.
        Assert.Equal("skip MalformedKey: no / in it", Triplet("privacy", Digest.ToUpperInvariant()));
    }

    [Theory]
    // The spec's verified digests (V87, V88): plain keys of any version are hashed as greyd hashes them.
    [InlineData("192.0.2.0/alice@example.net/bob@example.org")]
    [InlineData("192.0.2.0/24/alice@example.net/bob@example.org")]
    [InlineData("192.0.2.10/alice@example.net/bob@example.org")]
    [InlineData("192.0.2.10/32/alice@example.net/bob@example.org")]
    public void PlainKeysAreHashedUnderPrivacy(string key)
    {
        Assert.Equal("b86591028e998a5eb1dc07e4f5df484d7541f3e3", Triplet("privacy", key));
    }

    [Theory]
    [InlineData("default", "192.0.2.10", "192.0.2.10")]
    [InlineData("default", "01.02.03.04", "1.2.3.4")]
    [InlineData("default", "2001:db8::ffff:1", "2001:DB8:0:0:0:0:FFFF:1")]
    [InlineData("default", "2001:DB8:0:0:0:0:FFFF:1", "2001:DB8:0:0:0:0:FFFF:1")]
    [InlineData("default", "2001:db8:0:0:0:0:ffff:1", "2001:DB8:0:0:0:0:FFFF:1")]
    [InlineData("by host", "192.0.2.10", "192.0.2.10")]
    [InlineData("privacy", "192.0.2.10", "56adbd712c6632d3ec32ba4e754292656851bbba")]
    [InlineData("no AWL", "192.0.2.10", "skip AutoWhitelistOff: ")]
    [InlineData("default", "unknown", "skip MalformedKey: not a client address")]
    [InlineData("default", "192.0.2.0/a@b/c@d", "skip MalformedKey: not a client address")]
    [InlineData("default", "", "skip MalformedKey: not a client address")]
    public void ClientKeysOfEveryVersionBecomeGreydsClientKey(string options, string key, string expected)
    {
        Assert.Equal(expected, Client(options, key));
    }

    [Fact]
    public void AKeyLongerThanGreydBuildsIsSkipped()
    {
        string key = "192.0.2.0/" + new string('s', 700) + "@example.net/" + new string('r', 700) + "@example.org";
        Assert.Equal($"skip KeyTooLong: {key.Length} bytes", Triplet("default", key));
    }

    public static TheoryData<string> GreydOptions() => ["default", "v4/16 v6/48", "by host", "privacy", "privacy by host"];

    /// <summary>
    /// For each request: the keys postgrey 1.37 (subnet and --lookup-by-host), 1.36 and 1.35 would store, converted,
    /// must be byte for byte the key greyd's TripletKeyBuilder builds for the request itself.
    /// </summary>
    [Theory]
    [MemberData(nameof(GreydOptions))]
    public void ConvertedKeysAreWhatGreydBuildsForTheSameRequest(string optionsName)
    {
        var options = optionsName == "privacy by host" ? new GreylistOptions { Privacy = true, LookupByHost = true } : Options[optionsName];
        var converter = new PostgreyKeyConverter(options);
        string[] clients = ["192.0.2.10", "198.51.100.200", "01.02.03.04", "2001:DB8:0:0:abcd::1", "2001:db8::ffff:1", "::ffff:192.0.2.1"];
        string[] senders = ["Alice+news@EXAMPLE.net", "bounce-123-456@lists.example", "prvs=1234567890=carl@example.net", "", "MAILER-DAEMON", "\u00c9123@Example.COM"];
        int converted = 0;
        foreach (string clientAddress in clients)
        {
            foreach (string sender in senders)
            {
                var request = GreydKeys.Request(clientAddress, sender, "BOB@Example.ORG");
                byte[] expected = GreydKeys.Triplet(request, options);
                string v137 = GreydKeys.Text(GreydKeys.Triplet(request, new GreylistOptions()));
                string v137Host = GreydKeys.Text(GreydKeys.Triplet(request, new GreylistOptions { LookupByHost = true }));
                int slash = v137.IndexOf('/', StringComparison.Ordinal);
                string v136 = v137[..slash] + (clientAddress.Contains(':', StringComparison.Ordinal) ? "/64" : "/24") + v137[slash..];
                string v135 = clientAddress.ToLowerInvariant() + v137[slash..];
                foreach (string postgreyKey in new[] { v137, v137Host, v136, v135 })
                {
                    var conversion = converter.ConvertTriplet(Encoding.Latin1.GetBytes(postgreyKey));
                    bool wholeAddress = postgreyKey == v137Host || postgreyKey == v135;
                    if (options.LookupByHost && !wholeAddress)
                    {
                        Assert.Equal(ImportSkipReason.NetworkTooWide, conversion.Reason);
                        Assert.Null(conversion.Key);
                        continue;
                    }

                    Assert.True(conversion.Converted, $"{postgreyKey}: {conversion.Reason} {conversion.Detail}");
                    Assert.Equal(expected, conversion.Key);
                    converted++;
                }
            }

            string v136Client = clientAddress.ToLowerInvariant();
            string v137Client = GreydKeys.Text(GreydKeys.Client(clientAddress, new GreylistOptions()));
            foreach (string postgreyKey in new[] { v136Client, v137Client })
            {
                Assert.Equal(GreydKeys.Client(clientAddress, options), converter.ConvertClient(Encoding.Latin1.GetBytes(postgreyKey)).Key);
            }
        }

        Assert.Equal(options.LookupByHost ? 72 : 144, converted);
    }
}
