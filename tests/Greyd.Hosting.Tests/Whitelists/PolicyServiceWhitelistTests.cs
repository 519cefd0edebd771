using System.Buffers;
using System.Text;
using Greyd.Hosting.Logging;
using Greyd.Hosting.Server;
using Greyd.Hosting.Whitelists;
using Greyd.Policy;
using Greyd.Policy.Whitelists;
using Greyd.Protocol;
using Greyd.Storage;

using Greyd.Tests.Shared;

namespace Greyd.Hosting.Tests.Whitelists;

public class PolicyServiceWhitelistTests
{
    // A random start date, so a test that reads the real clock by mistake fails every time.
    private static readonly long s_t0 = 1_700_000_000 + Random.Shared.Next(0, 100_000_000);

    private const string S16Clients = WhitelistScenarios.S16Clients;

    private const string S17Recipients = WhitelistScenarios.S17Recipients;

    private const string Dunno = "action=DUNNO\n\n";

    private const string LogTail = ", client_name=mail.example.net, client_address=192.0.2.10, sender=alice@example.net, recipient=bob@example.org\n";

    private sealed class TestClock : TimeProvider
    {
        public long Now { get; set; } = s_t0;

        public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeSeconds(Now);
    }

    private readonly TestClock _clock = new();
    private readonly MemoryStream _logOutput = new();
    private readonly PolicyScratch _scratch = new();
    private readonly GreylistOptions _options = new() { Hostname = "test.host", GreylistText = "Greylisted, see http://postgrey.schweikert.ch/help/%r.html", AutoWhitelistClients = 0 };

    private static string Gt(string domain = "example.org") => $"action=DEFER_IF_PERMIT Greylisted, see http://postgrey.schweikert.ch/help/{domain}.html\n\n";

    private static WhitelistSet Whitelists(string clients = "", string recipients = "")
    {
        var diagnostics = new List<WhitelistDiagnostic>();
        var clientBuilder = new ClientWhitelist.Builder();
        var recipientBuilder = new RecipientWhitelist.Builder();
        WhitelistParser.ParseClients("wl_clients", clients, clientBuilder, diagnostics);
        WhitelistParser.ParseRecipients("wl_recipients", recipients, recipientBuilder, diagnostics);
        Assert.Empty(diagnostics);
        return new WhitelistSet(clientBuilder.Build(), recipientBuilder.Build());
    }

    private PolicyService Service(WhitelistSet whitelists, IGreylistStore store, GreylistOptions? options = null) =>
        new(options ?? _options, store, new WhitelistHolder(whitelists), new GreydLog(_logOutput, LogPriority.Info), _clock);

    private PolicyService Service(WhitelistSet whitelists, GreylistOptions? options = null) =>
        Service(whitelists, new InMemoryGreylistStore(options ?? _options), options);

    private static PolicyRequest Request(params (PolicyAttribute Attribute, string Value)[] changes)
    {
        var request = new PolicyRequest();
        request.Set(PolicyAttribute.Request, "smtpd_access_policy"u8);
        request.Set(PolicyAttribute.ClientName, "mail.example.net"u8);
        request.Set(PolicyAttribute.ClientAddress, "192.0.2.10"u8);
        request.Set(PolicyAttribute.Sender, "alice@example.net"u8);
        request.Set(PolicyAttribute.Recipient, "bob@example.org"u8);
        foreach (var (attribute, value) in changes)
        {
            request.Set(attribute, Encoding.UTF8.GetBytes(value));
        }

        return request;
    }

    private static PolicyRequest Request(string clientName, string clientAddress, string recipient = "bob@example.org") =>
        Request((PolicyAttribute.ClientName, clientName), (PolicyAttribute.ClientAddress, clientAddress), (PolicyAttribute.Recipient, recipient));

    private async Task<string?> AskAsync(PolicyService service, PolicyRequest request)
    {
        var output = new ArrayBufferWriter<byte>();
        bool answered = await service.HandleAsync(request, _scratch, output);
        return answered ? Encoding.UTF8.GetString(output.WrittenSpan) : null;
    }

    private string Log => Encoding.UTF8.GetString(_logOutput.ToArray());

    private string[] LogLines => Log.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task V45AClientWhitelistedByNameIsLoggedAndPasses()
    {
        var store = new InMemoryGreylistStore(_options);
        var service = Service(Whitelists(S16Clients), store);
        Assert.Equal(Dunno, await AskAsync(service, Request("mx1.EXAMPLE.com", "203.0.113.1")));
        Assert.Equal(
            "<5>action=pass, reason=client whitelist, client_name=mx1.EXAMPLE.com, client_address=203.0.113.1, sender=alice@example.net, recipient=bob@example.org\n",
            Log);
        Assert.Equal(0, store.TripletCount);
    }

    // Section 8.8 through the service; V54 and V60 pass in greyd (10.20 is a /16, *. means the subdomains).
    [Theory]
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
    public async Task S16Vectors(string id, string clientName, string clientAddress, bool whitelisted)
    {
        var service = Service(Whitelists(S16Clients));
        string? reply = await AskAsync(service, Request(clientName, clientAddress));
        Assert.True((whitelisted ? Dunno : Gt()) == reply, $"{id}: {reply}");
        string line = Assert.Single(LogLines);
        Assert.StartsWith(whitelisted ? "<5>action=pass, reason=client whitelist, " : "<5>action=greylist, reason=new, ", line, StringComparison.Ordinal);
        Assert.Contains($", client_name={clientName}, client_address={clientAddress}, ", line, StringComparison.Ordinal);
    }

    // Section 8.9 through the service (wl_clients = example.com); V67 passes in greyd (@domain means that domain).
    [Theory]
    [InlineData("V61", "postmaster+x@any.example", null)]
    [InlineData("V62", "xpostmaster@any.example", "any.example")]
    [InlineData("V63", "ABUSE+foo@example.ORG", null)]
    [InlineData("V64", "abuse@sub.example.org", "sub.example.org")]
    [InlineData("V65", "anyone@sub.example.net", null)]
    [InlineData("V66", "anyone@notexample.net", "notexample.net")]
    [InlineData("V67", "anyone@atdomain.test", null)]
    [InlineData("V68", "RE12@rx.test", null)]
    public async Task S17Vectors(string id, string recipient, string? greylistDomain)
    {
        var service = Service(Whitelists("example.com\n", S17Recipients));
        string? reply = await AskAsync(service, Request((PolicyAttribute.Recipient, recipient)));
        Assert.True((greylistDomain is null ? Dunno : Gt(greylistDomain)) == reply, $"{id}: {reply}");
        if (greylistDomain is null)
        {
            Assert.Equal(
                $"<5>action=pass, reason=recipient whitelist, client_name=mail.example.net, client_address=192.0.2.10, sender=alice@example.net, recipient={recipient}\n",
                Log);
        }
        else
        {
            Assert.StartsWith("<5>action=greylist, reason=new, ", Log, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task V69TheClientIsCheckedBeforeTheRecipient()
    {
        var service = Service(Whitelists("example.com\n", S17Recipients));
        Assert.Equal(Dunno, await AskAsync(service, Request((PolicyAttribute.ClientName, "mx.example.com"), (PolicyAttribute.Recipient, "postmaster@x.example"))));
        Assert.Equal(
            "<5>action=pass, reason=client whitelist, client_name=mx.example.com, client_address=192.0.2.10, sender=alice@example.net, recipient=postmaster@x.example\n",
            Log);
    }

    [Fact]
    public async Task TheClientAddressIsCheckedBeforeTheRecipient()
    {
        var service = Service(Whitelists("192.0.2.0/24\n", "postmaster@\n"));
        Assert.Equal(Dunno, await AskAsync(service, Request((PolicyAttribute.Recipient, "postmaster@x.example"))));
        Assert.StartsWith("<5>action=pass, reason=client whitelist, client_name=mail.example.net, client_address=192.0.2.10, ", Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NameAndAddressMatchesLogTheSameReason()
    {
        var service = Service(Whitelists("mail.example.net\n192.0.2.10\n"));
        Assert.Equal(Dunno, await AskAsync(service, Request()));
        Assert.Equal(Dunno, await AskAsync(service, Request((PolicyAttribute.ClientName, "other.example"))));
        Assert.Equal(Dunno, await AskAsync(service, Request((PolicyAttribute.ClientAddress, "192.0.2.10"), (PolicyAttribute.ClientName, "unknown"))));
        Assert.All(LogLines, line => Assert.StartsWith("<5>action=pass, reason=client whitelist, ", line, StringComparison.Ordinal));
        Assert.Equal(3, LogLines.Length);
    }

    [Fact]
    public async Task V77TheRecipientWhitelistBeatsTheAutoWhitelist()
    {
        // S21: --auto-whitelist-clients=1, wl_recipients postmaster@.
        var options = new GreylistOptions { Hostname = "test.host", GreylistText = _options.GreylistText, AutoWhitelistClients = 1 };
        var store = new InMemoryGreylistStore(options);
        var service = Service(Whitelists(recipients: "postmaster@\n"), store, options);
        Assert.Equal(Gt(), await AskAsync(service, Request((PolicyAttribute.Instance, "i1"))));
        _clock.Now += 300;
        Assert.StartsWith("action=PREPEND X-Greylist: delayed 300 seconds by greyd-", await AskAsync(service, Request((PolicyAttribute.Instance, "i2"))), StringComparison.Ordinal);
        Assert.Contains("<4>whitelisted: mail.example.net[192.0.2.10]\n", Log, StringComparison.Ordinal);
        _clock.Now += 1;
        Assert.Equal(Dunno, await AskAsync(service, Request((PolicyAttribute.Recipient, "new@example.org"))));
        Assert.Equal(Dunno, await AskAsync(service, Request((PolicyAttribute.Recipient, "postmaster@example.org"))));
        string[] lines = LogLines;
        Assert.Equal("<5>action=pass, reason=client AWL, client_name=mail.example.net, client_address=192.0.2.10, sender=alice@example.net, recipient=new@example.org", lines[^2]);
        Assert.Equal("<5>action=pass, reason=recipient whitelist, client_name=mail.example.net, client_address=192.0.2.10, sender=alice@example.net, recipient=postmaster@example.org", lines[^1]);
        Assert.Equal(1, store.TripletCount);
    }

    [Fact]
    public async Task TheClientWhitelistBeatsTheAutoWhitelist()
    {
        var options = new GreylistOptions { Hostname = "test.host", GreylistText = _options.GreylistText, AutoWhitelistClients = 1 };
        var store = new InMemoryGreylistStore(options);
        await AskAsync(Service(WhitelistSet.Empty, store, options), Request());
        _clock.Now += 300;
        await AskAsync(Service(WhitelistSet.Empty, store, options), Request());
        _clock.Now += 1;
        Assert.Equal(Dunno, await AskAsync(Service(WhitelistSet.Empty, store, options), Request((PolicyAttribute.Recipient, "r2@example.org"))));
        Assert.EndsWith("<5>action=pass, reason=client AWL, client_name=mail.example.net, client_address=192.0.2.10, sender=alice@example.net, recipient=r2@example.org\n", Log, StringComparison.Ordinal);
        Assert.Equal(Dunno, await AskAsync(Service(Whitelists("example.net\n"), store, options), Request((PolicyAttribute.Recipient, "r3@example.org"))));
        Assert.EndsWith("<5>action=pass, reason=client whitelist, client_name=mail.example.net, client_address=192.0.2.10, sender=alice@example.net, recipient=r3@example.org\n", Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WhitelistedRequestsStoreNothing()
    {
        var store = new InMemoryGreylistStore(_options);
        var whitelisted = Service(Whitelists("mail.example.net\n", "bob@example.org\n"), store);
        var plain = Service(WhitelistSet.Empty, store);

        Assert.Equal(Dunno, await AskAsync(whitelisted, Request()));
        Assert.Equal(0, store.TripletCount);
        _clock.Now += 600;
        Assert.Equal(Dunno, await AskAsync(whitelisted, Request()));
        Assert.Equal(0, store.TripletCount);

        // Without the whitelist the same triplet is new: the whitelisted passes left no first-seen time behind.
        _clock.Now += 600;
        Assert.Equal(Gt(), await AskAsync(plain, Request()));
        Assert.EndsWith("<5>action=greylist, reason=new" + LogTail, Log, StringComparison.Ordinal);
        Assert.Equal(1, store.TripletCount);
    }

    [Fact]
    public async Task RecipientWhitelistedRequestsStoreNothing()
    {
        var store = new InMemoryGreylistStore(_options);
        var whitelisted = Service(Whitelists(recipients: "example.org\n"), store);
        Assert.Equal(Dunno, await AskAsync(whitelisted, Request()));
        Assert.Equal(0, store.TripletCount);
        _clock.Now += 600;
        Assert.Equal(Gt(), await AskAsync(Service(WhitelistSet.Empty, store), Request()));
        Assert.EndsWith("<5>action=greylist, reason=new" + LogTail, Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WhitelistedPassesDoNotCountTowardsTheAutoWhitelist()
    {
        var options = new GreylistOptions { Hostname = "test.host", GreylistText = _options.GreylistText, AutoWhitelistClients = 1 };
        var store = new InMemoryGreylistStore(options);
        var whitelisted = Service(Whitelists("192.0.2.10\n"), store, options);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(Dunno, await AskAsync(whitelisted, Request()));
            _clock.Now += 3601;
        }

        Assert.Equal(Gt(), await AskAsync(Service(WhitelistSet.Empty, store, options), Request((PolicyAttribute.Recipient, "r9@example.org"))));
        Assert.DoesNotContain("whitelisted:", Log, StringComparison.Ordinal);
        Assert.DoesNotContain("client AWL", Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AReloadBetweenRequestsChangesTheAnswer()
    {
        using var dir = new TempWhitelistDirectory();
        string clients = dir.Write("wl_clients", "example.net\n");
        using var holder = new WhitelistHolder(new WhitelistLoader([clients], [], clientFilesAreDefaults: false, recipientFilesAreDefaults: false), dir.Log, TimeSpan.Zero);
        var service = new PolicyService(_options, new InMemoryGreylistStore(_options), holder, new GreydLog(_logOutput, LogPriority.Info), _clock);
        Assert.Equal(Dunno, await AskAsync(service, Request()));
        dir.Write("wl_clients", "example.com\n");
        Assert.True(holder.Reload());
        Assert.Equal(Gt(), await AskAsync(service, Request()));
        Assert.Equal(["<5>action=pass, reason=client whitelist" + LogTail.TrimEnd('\n'), "<5>action=greylist, reason=new" + LogTail.TrimEnd('\n')], LogLines);
    }

    [Fact]
    public async Task AnUnusableClientAddressIsAnsweredBeforeTheWhitelists()
    {
        var service = Service(Whitelists("mail.example.net\n", "bob@example.org\n"));
        Assert.Equal(Dunno, await AskAsync(service, Request((PolicyAttribute.ClientAddress, "unknown"))));
        Assert.Equal("<4>client_address is not an IP address, answering DUNNO: 'unknown'\n", Log);
    }

    [Fact]
    public async Task AnIPv6ClientIsMatchedAgainstIPv6EntriesOnly()
    {
        var service = Service(Whitelists("0.0.0.0/0\n2001:db8::/32\n"));
        Assert.Equal(Dunno, await AskAsync(service, Request((PolicyAttribute.ClientAddress, "2001:db8:ffff::1"))));
        Assert.Equal(Dunno, await AskAsync(service, Request((PolicyAttribute.ClientAddress, "192.0.2.10"))));
        Assert.Equal(Gt(), await AskAsync(service, Request((PolicyAttribute.ClientAddress, "2001:db9::1"))));
        Assert.Equal(Gt(), await AskAsync(service, Request((PolicyAttribute.ClientAddress, "::ffff:192.0.2.10"))));
    }
}
