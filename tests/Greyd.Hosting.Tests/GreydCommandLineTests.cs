using Greyd.Hosting.Cli;
using Greyd.Hosting.Logging;

namespace Greyd.Hosting.Tests;

public class GreydCommandLineTests
{
    private static GreydSettings Parse(params string[] args)
    {
        var result = GreydCommandLine.Parse(args);
        Assert.True(result.Settings is not null, result.Error);
        return result.Settings!;
    }

    private static string Fail(params string[] args)
    {
        var result = GreydCommandLine.Parse(args);
        Assert.Null(result.Settings);
        Assert.NotEqual(0, result.ExitCode);
        Assert.NotNull(result.Error);
        Assert.DoesNotContain('\n', result.Error);
        return result.Error!;
    }

    [Fact]
    public void DefaultsArePostgreys()
    {
        var s = Parse("--unix=/tmp/x.sock");
        Assert.Equal("/tmp/x.sock", s.UnixPath);
        Assert.Equal(300, s.Greylist.Delay);
        Assert.Equal(35, s.Greylist.MaxAgeDays);
        Assert.Equal(2 * 86400, s.Greylist.RetryWindow);
        Assert.Equal("DEFER_IF_PERMIT", s.Greylist.GreylistAction);
        Assert.Equal(24, s.Greylist.IPv4Cidr);
        Assert.Equal(64, s.Greylist.IPv6Cidr);
        Assert.Equal(5, s.Greylist.AutoWhitelistClients);
        Assert.Equal(Convert.ToInt32("666", 8), s.SocketMode);
        Assert.False(s.Greylist.LookupByHost);
        Assert.False(s.Greylist.Privacy);
        Assert.False(s.Greylist.AllowPolicyTestTime);
        Assert.Equal(LogPriority.Notice, s.LogPriority);
    }

    [Fact]
    public void ValuesMayFollowAsTheNextArgumentOrAfterAnEqualsSign()
    {
        var s = Parse("-i", "10931", "--delay", "60", "-dbdir=/tmp/db", "--retry-window=6h", "--socketmode=0660");
        Assert.Equal("10931", s.Inet);
        Assert.Equal(60, s.Greylist.Delay);
        Assert.Equal("/tmp/db", s.DbDir);
        Assert.Equal(6 * 3600, s.Greylist.RetryWindow);
        Assert.Equal(Convert.ToInt32("660", 8), s.SocketMode);
    }

    [Theory]
    [InlineData("--delay=0", 300)]
    [InlineData("--delay=61", 61)]
    public void ZeroMeansTheDefaultAsInPostgrey(string option, int delay) =>
        Assert.Equal(delay, Parse("-u", "/tmp/s", option).Greylist.Delay);

    [Theory]
    [InlineData("--retry-window=3", 3 * 86400)]
    [InlineData("--retry-window=6H", 6 * 3600)]
    public void RetryWindowTakesDaysOrHours(string option, long seconds) =>
        Assert.Equal(seconds, Parse("-u", "/tmp/s", option).Greylist.RetryWindow);

    [Theory]
    [InlineData(null, 5)]
    [InlineData("--auto-whitelist-clients", 5)]
    [InlineData("--auto-whitelist-clients=0", 0)]
    [InlineData("--auto-whitelist-clients=2", 2)]
    public void AutoWhitelistClientsIsOnByDefaultWithAnOptionalCount(string? option, int expected)
    {
        string[] args = option is null ? ["-u", "/tmp/s"] : ["-u", "/tmp/s", option];
        Assert.Equal(expected, Parse(args).Greylist.AutoWhitelistClients);
    }

    [Fact]
    public void QuietWinsOverVerbose() => Assert.Equal(LogPriority.Warning, Parse("-u", "/tmp/s", "-v", "-q").LogPriority);

    [Fact]
    public void WhitelistOptionsCollectEveryFile()
    {
        var s = Parse("-u", "/tmp/s", "--whitelist-clients=/a", "--whitelist-clients", "/b", "--whitelist-recipients=/c");
        Assert.Equal(["/a", "/b"], s.WhitelistClients!);
        Assert.Equal(["/c"], s.WhitelistRecipients!);
    }

    [Theory]
    [InlineData("--listen-queue=10")]
    [InlineData("--nosuchoption")]
    public void UnknownOptionsAndAbbreviationsAreRefused(string option) =>
        Assert.Contains("unknown option", Fail("-u", "/tmp/s", option));

    [Theory]
    [InlineData("--retry-window=2d")]
    [InlineData("--retry-window=0")]
    [InlineData("--retry-window=0h")]
    [InlineData("--delay=5m")]
    [InlineData("--delay=-5")]
    [InlineData("--ipv4cidr=33")]
    [InlineData("--ipv6cidr=129")]
    [InlineData("--socketmode=0999")]
    [InlineData("--auto-whitelist-clients=x")]
    [InlineData("--greylist-text=a\rb")]
    [InlineData("--store-memory=48")]
    [InlineData("--store-memory=131072")]
    [InlineData("--store-index=-16")]
    [InlineData("--store-index=3")]
    [InlineData("--request-timeout=0.5")]
    [InlineData("--request-timeout=x")]
    public void BadValuesAreRefusedWithOneLine(string option) => Assert.Contains(option.Split('=')[0], Fail("-u", "/tmp/s", option));

    [Fact]
    public void HostileClientAndStoreBudgetOptionsHaveDefaultsAndAreParsed()
    {
        var defaults = Parse("-u", "/tmp/s");
        Assert.Equal(TimeSpan.FromSeconds(30), defaults.RequestTimeout);
        Assert.Equal(32, defaults.StoreMemoryMB);
        Assert.Equal(16, defaults.StoreIndexMB);
        var set = Parse("-u", "/tmp/s", "--request-timeout=5", "--store-memory=256", "--store-index=128");
        Assert.Equal(TimeSpan.FromSeconds(5), set.RequestTimeout);
        Assert.Equal(256, set.StoreMemoryMB);
        Assert.Equal(128, set.StoreIndexMB);
    }

    [Fact]
    public void SharedStoreIsOffByDefaultAndItsOptionsAreParsed()
    {
        var defaults = Parse("-u", "/tmp/s");
        Assert.Null(defaults.SharedStore);
        var set = Parse("-u", "/tmp/s", "--store=rediss://greyd@10.0.0.5:6380/2", "--store-timeout=80", "--store-connect-timeout=3000",
            "--store-prefix=mx:", "--store-password-file=/etc/greyd/store.pass", "--store-ca=/etc/greyd/ca.pem");
        var store = set.SharedStore!;
        Assert.Equal(("10.0.0.5", 6380, 2, "greyd", true), (store.Host, store.Port, store.Database, store.User, store.Tls));
        Assert.Equal(("mx:", "/etc/greyd/ca.pem", TimeSpan.FromSeconds(3)), (store.Prefix, store.CaFile, store.ConnectTimeout));
        Assert.Equal(TimeSpan.FromMilliseconds(80), set.SharedStoreTimeout);
        Assert.Equal("/etc/greyd/store.pass", set.SharedStorePasswordFile);
        var plain = Parse("-u", "/tmp/s", "--store=redis://127.0.0.1");
        Assert.Equal(("greyd:", TimeSpan.FromSeconds(1)), (plain.SharedStore!.Prefix, plain.SharedStore.ConnectTimeout));
        Assert.Equal(TimeSpan.FromMilliseconds(50), plain.SharedStoreTimeout);
    }

    [Theory]
    [InlineData("--store-timeout=50", "--store-timeout needs --store=redis://")]
    [InlineData("--store=127.0.0.1:6379", "must be redis://")]
    [InlineData("--store=redis://h --store-timeout=0", "--store-timeout=0: must be a number of milliseconds")]
    [InlineData("--store=redis://h --store-timeout=20000", "--store-timeout=20000")]
    [InlineData("--store=redis://h --store-ca=/ca.pem", "--store-ca needs a rediss://")]
    [InlineData("--store=redis://:pw@h --store-password-file=/f", "use one")]
    public void BadSharedStoreOptionsAreRefusedWithOneLine(string options, string message) =>
        Assert.Contains(message, Fail(["-u", "/tmp/s", .. options.Split(' ')]));

    [Fact]
    public void SenderPoolsAreOffByDefaultAndTheirOptionsAreParsed()
    {
        Assert.Null(Parse("-u", "/tmp/s").SenderPools);
        var defaults = Parse("-u", "/tmp/s", "--spf-pools").SenderPools!;
        Assert.Equal((TimeSpan.FromSeconds(2), 0), (defaults.Timeout, defaults.DnsServers.Count));

        var set = Parse("-u", "/tmp/s", "--spf-pools", "--spf-timeout=750", "--spf-dns=127.0.0.1, 10.0.0.53:5353,[::1],[2001:db8::53]:5300,::2,localhost").SenderPools!;
        Assert.Equal(TimeSpan.FromMilliseconds(750), set.Timeout);
        Assert.Equal(
            ["127.0.0.1:53", "10.0.0.53:5353", "[::1]:53", "[2001:db8::53]:5300", "[::2]:53", "127.0.0.1:53"],
            set.DnsServers.Select(e => e.ToString()));
    }

    [Theory]
    [InlineData("--spf-timeout=500", "--spf-timeout needs --spf-pools")]
    [InlineData("--spf-dns=127.0.0.1", "--spf-dns needs --spf-pools")]
    [InlineData("--spf-pools --spf-timeout=9", "--spf-timeout=9: must be a number of milliseconds from 10 to 30000")]
    [InlineData("--spf-pools --spf-timeout=2s", "--spf-timeout=2s: must be a number of milliseconds")]
    [InlineData("--spf-pools --spf-dns=resolver.example", "'resolver.example' is not an IP address")]
    [InlineData("--spf-pools --spf-dns=127.0.0.1:99999", "not a port number")]
    [InlineData("--spf-pools --spf-dns=127.0.0.1,", "--spf-dns=127.0.0.1,: '' is not an IP address")]
    [InlineData("--spf-pools --spf-dns=1.2.3:53", "HOST must be an IPv4 address")]
    public void BadSenderPoolOptionsAreRefusedWithOneLine(string options, string message) =>
        Assert.Contains(message, Fail(["-u", "/tmp/s", .. options.Split(' ')]));

    [Fact]
    public void ListeningIsRequired() => Assert.Contains("--unix or --inet must be specified", Fail("--delay=60"));

    [Fact]
    public void StrayArgumentsAreRefused() => Assert.Contains("unexpected argument 'foo'", Fail("foo", "--version"));

    [Fact]
    public void VersionPrintsGreydsVersion()
    {
        var result = GreydCommandLine.Parse(["--version"]);
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith($"greyd {GreydCommandLine.Version}\n", result.Output);
        Assert.Contains("glibc 2.34", result.Output);
    }

    [Fact]
    public void HelpNamesEveryOptionAndSpeaksOfGreydAlone()
    {
        var result = GreydCommandLine.Parse(["--help"]);
        Assert.Equal(0, result.ExitCode);
        foreach (string option in new[] { "--unix", "--inet", "--socketmode", "--delay", "--max-age", "--retry-window", "--greylist-action", "--greylist-text", "--x-greylist-header", "--hostname", "--lookup-by-host", "--ipv4cidr", "--ipv6cidr", "--auto-whitelist-clients", "--privacy", "--exim", "--dbdir", "--journal-sync-interval", "--checkpoint-interval", "--pidfile", "--user", "--group", "--allow-policy-test-time", "--admin-socket", "--admin-group", "--metrics" })
        {
            Assert.Contains(option, result.Output);
        }

        // The only mentions of postgrey allowed are the path of its whitelist files, which greyd reads by default,
        // and the command that imports its databases.
        string text = GreydSettings.DefaultWhitelistClients.Concat(GreydSettings.DefaultWhitelistRecipients).Append("import-postgrey")
            .Aggregate(result.Output!, (help, file) => help.Replace(file, string.Empty, StringComparison.Ordinal));
        Assert.DoesNotContain("postgrey", text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void MetricsAreOffUnlessAsked() => Assert.Null(Parse("-u", "/tmp/s").Metrics);

    [Theory]
    [InlineData("--metrics=9100", "127.0.0.1:9100")]
    [InlineData("--metrics=localhost:9100", "127.0.0.1:9100")]
    [InlineData("--metrics=192.0.2.7:65535", "192.0.2.7:65535")]
    [InlineData("--metrics=0.0.0.0:1", "0.0.0.0:1")]
    [InlineData("--metrics=[::1]:9100", "[::1]:9100")]
    public void MetricsListenOnAPortOfLoopbackOrOnTheAddressGiven(string option, string endpoint) =>
        Assert.Equal(endpoint, Parse("-u", "/tmp/s", option).Metrics?.ToString());

    [Theory]
    [InlineData("--metrics=0", "not a port number")]
    [InlineData("--metrics=65536", "not a port number")]
    [InlineData("--metrics=127.0.0.1:", "not a port number")]
    [InlineData("--metrics=-9100", "not a port number")]
    [InlineData("--metrics=127.0.0.1:http", "not a port number")]
    [InlineData("--metrics=mx.example.net:9100", "HOST must be an IPv4 address")]
    [InlineData("--metrics=127.1:9100", "HOST must be an IPv4 address")]
    [InlineData("--metrics=::1:9100", "HOST must be an IPv4 address")]
    [InlineData("--metrics=[127.0.0.1]:9100", "HOST must be an IPv4 address")]
    public void BadMetricsAddressesAreRefusedWithTheValue(string option, string reason)
    {
        string error = Fail("-u", "/tmp/s", option);
        Assert.StartsWith("greyd: " + option + ":", error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}
