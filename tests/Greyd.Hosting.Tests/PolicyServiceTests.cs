using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;
using Greyd.Hosting.Logging;
using Greyd.Hosting.Server;
using Greyd.Hosting.Whitelists;
using Greyd.Policy;
using Greyd.Policy.Whitelists;
using Greyd.Protocol;
using Greyd.Storage;

namespace Greyd.Hosting.Tests;

public class PolicyServiceTests
{
    // A random start date, so a test that reads the real clock by mistake fails every time.
    private static readonly long s_t0 = 1_700_000_000 + Random.Shared.Next(0, 100_000_000);

    private sealed class TestClock : TimeProvider
    {
        public long Now { get; set; } = s_t0;

        public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeSeconds(Now);
    }

    private sealed class FailingStore : IGreylistStore
    {
        public ValueTask<RequestObservation> ObserveRequestAsync(ReadOnlyMemory<byte> clientKey, ReadOnlyMemory<byte> tripletKey, long now) =>
            throw new IOException("disk on fire");

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private readonly TestClock _clock = new();
    private readonly MemoryStream _logOutput = new();
    private readonly PolicyScratch _scratch = new();

    private PolicyService Service(GreylistOptions? options = null, IGreylistStore? store = null)
    {
        options ??= new GreylistOptions { Hostname = "test.host", GreylistText = "Greylisted, see http://postgrey.schweikert.ch/help/%r.html" };
        return new PolicyService(options, store ?? new InMemoryGreylistStore(options), new WhitelistHolder(WhitelistSet.Empty), new GreydLog(_logOutput, LogPriority.Info), _clock);
    }

    private static PolicyRequest Request(params (PolicyAttribute Attribute, string? Value)[] changes)
    {
        var request = new PolicyRequest();
        request.Set(PolicyAttribute.Request, "smtpd_access_policy"u8);
        request.Set(PolicyAttribute.ClientName, "mail.example.net"u8);
        request.Set(PolicyAttribute.ClientAddress, "192.0.2.10"u8);
        request.Set(PolicyAttribute.Sender, "alice@example.net"u8);
        request.Set(PolicyAttribute.Recipient, "bob@example.org"u8);
        foreach (var (attribute, value) in changes)
        {
            if (value is null)
            {
                request.Remove(attribute);
            }
            else
            {
                request.Set(attribute, Encoding.UTF8.GetBytes(value));
            }
        }

        return request;
    }

    private async Task<string?> AskAsync(PolicyService service, PolicyRequest request)
    {
        var output = new ArrayBufferWriter<byte>();
        bool answered = await service.HandleAsync(request, _scratch, output);
        return answered ? Encoding.UTF8.GetString(output.WrittenSpan) : null;
    }

    private string Log => Encoding.UTF8.GetString(_logOutput.ToArray());

    private const string Gt = "action=DEFER_IF_PERMIT Greylisted, see http://postgrey.schweikert.ch/help/example.org.html\n\n";

    [Fact]
    public async Task NewTripletIsGreylistedThenPassesWithOneHeaderAfterTheDelay()
    {
        var service = Service();
        Assert.Equal(Gt, await AskAsync(service, Request()));
        _clock.Now += 60;
        Assert.Equal(Gt, await AskAsync(service, Request()));
        _clock.Now += 240;
        string? pass = await AskAsync(service, Request((PolicyAttribute.Instance, "A1")));
        Assert.Matches(new Regex(@"^action=PREPEND X-Greylist: delayed 300 seconds by greyd-[0-9.]+ at test\.host; [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \S+\n\n$"), pass);
        _clock.Now += 1;
        Assert.Equal("action=DUNNO\n\n", await AskAsync(service, Request((PolicyAttribute.Instance, "A2"))));
        Assert.Contains("<5>action=greylist, reason=new, client_name=mail.example.net, client_address=192.0.2.10, sender=alice@example.net, recipient=bob@example.org\n", Log);
        Assert.Contains("<5>action=greylist, reason=early-retry (240s missing), client_name=", Log);
        Assert.Contains("<5>action=pass, reason=triplet found, delay=300, client_name=", Log);
    }

    [Fact]
    public async Task EtrnDomainAddsTheEnhancedStatusCodeUnlessTheTextHasOne()
    {
        Assert.Equal("action=DEFER_IF_PERMIT 4.2.0 Greylisted, see http://postgrey.schweikert.ch/help/example.org.html\n\n",
            await AskAsync(Service(), Request((PolicyAttribute.EtrnDomain, ""))));
        var options = new GreylistOptions { GreylistText = "4.7.1 Try later" };
        Assert.Equal("action=DEFER_IF_PERMIT 4.7.1 Try later\n\n", await AskAsync(Service(options), Request((PolicyAttribute.EtrnDomain, "x"))));
    }

    [Fact]
    public async Task TheHeaderGoesOnlyOncePerMessageInstance()
    {
        var service = Service();
        await AskAsync(service, Request((PolicyAttribute.Instance, "m1")));
        await AskAsync(service, Request((PolicyAttribute.Instance, "m1"), (PolicyAttribute.Recipient, "carol@example.org")));
        _clock.Now += 300;
        Assert.StartsWith("action=PREPEND ", await AskAsync(service, Request((PolicyAttribute.Instance, "m2"))));
        Assert.Equal("action=DUNNO\n\n", await AskAsync(service, Request((PolicyAttribute.Instance, "m2"), (PolicyAttribute.Recipient, "carol@example.org"))));
    }

    [Fact]
    public async Task AutoWhitelistedClientPassesAndIsLoggedOnce()
    {
        var options = new GreylistOptions { AutoWhitelistClients = 1 };
        var service = Service(options);
        await AskAsync(service, Request());
        _clock.Now += 300;
        Assert.StartsWith("action=PREPEND ", await AskAsync(service, Request()));
        Assert.Contains("<4>whitelisted: mail.example.net[192.0.2.10]\n", Log);
        _clock.Now += 1;
        Assert.Equal("action=DUNNO\n\n", await AskAsync(service, Request((PolicyAttribute.Recipient, "new@example.org"))));
        Assert.Contains("<5>action=pass, reason=client AWL, client_name=mail.example.net, client_address=192.0.2.10, sender=alice@example.net, recipient=new@example.org\n", Log);
    }

    [Theory]
    [InlineData(PolicyAttribute.Sender, "sender")]
    [InlineData(PolicyAttribute.ClientName, "client_name")]
    [InlineData(PolicyAttribute.Recipient, "recipient")]
    [InlineData(PolicyAttribute.ClientAddress, "client_address")]
    public async Task MissingAttributeAnswersDunnoWithAWarning(PolicyAttribute attribute, string name)
    {
        Assert.Equal("action=DUNNO\n\n", await AskAsync(Service(), Request((attribute, null))));
        Assert.Equal($"<4>attribute missing: {name}\n", Log);
    }

    [Theory]
    [InlineData("")]
    [InlineData("unknown")]
    [InlineData("1.2.3.256")]
    public async Task UnusableClientAddressAnswersDunnoInsteadOfDying(string address)
    {
        var service = Service();
        Assert.Equal("action=DUNNO\n\n", await AskAsync(service, Request((PolicyAttribute.ClientAddress, address))));
        Assert.Contains("<4>client_address is not an IP address", Log);
        Assert.Equal(Gt, await AskAsync(service, Request()));
    }

    [Fact]
    public async Task OtherRequestTypesGetNoAnswerAndAreLogged()
    {
        Assert.Null(await AskAsync(Service(), Request((PolicyAttribute.Request, "junk"))));
        Assert.Contains("<3>unrecognized request type: 'junk'", Log);
    }

    [Fact]
    public async Task StoreFaultsFailOpenAndAreLogged()
    {
        var service = Service(store: new FailingStore());
        Assert.Equal("action=DUNNO\n\n", await AskAsync(service, Request()));
        Assert.Equal("action=DUNNO\n\n", await AskAsync(service, Request()));
        Assert.Single(Regex.Matches(Log, "internal error, answering DUNNO: IOException: disk on fire"));
    }

    [Fact]
    public async Task PolicyTestTimeIsIgnoredUnlessAllowed()
    {
        var service = Service();
        await AskAsync(service, Request());
        Assert.Equal(Gt, await AskAsync(service, Request((PolicyAttribute.PolicyTestTime, (s_t0 + 1000).ToString(System.Globalization.CultureInfo.InvariantCulture)))));
        var testing = Service(new GreylistOptions { AllowPolicyTestTime = true });
        await AskAsync(testing, Request());
        Assert.StartsWith("action=PREPEND ", await AskAsync(testing, Request((PolicyAttribute.PolicyTestTime, (s_t0 + 1000).ToString(System.Globalization.CultureInfo.InvariantCulture)))));
    }

    [Fact]
    public async Task RecipientDomainControlBytesNeverReachTheReply()
    {
        string? reply = await AskAsync(Service(), Request((PolicyAttribute.Recipient, "bob@exa\rmple.org")));
        Assert.Equal("action=DEFER_IF_PERMIT Greylisted, see http://postgrey.schweikert.ch/help/exa?mple.org.html\n\n", reply);
    }
}
