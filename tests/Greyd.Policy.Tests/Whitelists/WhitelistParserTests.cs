using Greyd.Policy.Whitelists;
using static Greyd.Policy.Tests.Whitelists.WhitelistFiles;

namespace Greyd.Policy.Tests.Whitelists;

public class WhitelistParserTests
{
    [Fact]
    public void TheS16ClientFileGivesNineEntriesAndNoDiagnostics()
    {
        var list = Clients(S16Clients, out var diagnostics, out int entries);
        Assert.Empty(diagnostics);
        Assert.Equal(9, entries);
        Assert.Equal(9, list.Count);
        Assert.Single(list.Regexes);
        Assert.Equal(@"^mx\d+\.regex\.test$", list.Regexes[0].Pattern);
    }

    [Fact]
    public void TheS17RecipientFileGivesFiveEntriesAndNoDiagnostics()
    {
        var list = Recipients(S17Recipients, out var diagnostics, out int entries);
        Assert.Empty(diagnostics);
        Assert.Equal(5, entries);
        Assert.Equal(5, list.Count);
        Assert.Single(list.Regexes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n\n")]
    [InlineData("   \n\t\n \t \n")]
    [InlineData("# only a comment\n#another\n   # indented comment\n")]
    [InlineData("#example.com\n# 192.0.2.1\n#/regex/\n")]
    public void BlankAndCommentLinesGiveNothing(string text)
    {
        var clients = Clients(text, out var clientDiagnostics, out int clientEntries);
        Assert.Empty(clientDiagnostics);
        Assert.Equal(0, clientEntries);
        Assert.Equal(0, clients.Count);
        var recipients = Recipients(text, out var recipientDiagnostics, out int recipientEntries);
        Assert.Empty(recipientDiagnostics);
        Assert.Equal(0, recipientEntries);
        Assert.Equal(0, recipients.Count);
    }

    [Theory]
    [InlineData("example.com#comment")]
    [InlineData("example.com # comment with spaces")]
    [InlineData("  example.com\t\t# tabs and a trailing comment  ")]
    [InlineData("\texample.com   ")]
    [InlineData("example.com\r")]
    public void ATrailingCommentAndSurroundingBlanksAreCut(string line)
    {
        var list = Clients(line + "\n", out var diagnostics, out int entries);
        Assert.Empty(diagnostics);
        Assert.Equal(1, entries);
        Assert.True(list.IsMatch("example.com", "198.18.0.1"));
        Assert.True(list.IsMatch("mx.example.com", "198.18.0.1"));
    }

    [Fact]
    public void AHashEndsTheLineEvenInsideARegex()
    {
        // There is no escape for '#': "/a#b/" becomes "/a", which is a host name (and never a useful one).
        var list = Clients("/a#b/\n", out var diagnostics, out int entries);
        Assert.Empty(diagnostics);
        Assert.Equal(1, entries);
        Assert.Empty(list.Regexes);
        Assert.False(list.IsMatch("a", "198.18.0.1"));
        Assert.False(list.IsMatch("ab", "198.18.0.1"));
    }

    [Fact]
    public void WindowsLineEndingsAreBlanks()
    {
        var list = Clients("example.com\r\n192.0.2.7\r\n/^mx\\d+\\.regex\\.test$/\r\n", out var diagnostics, out int entries);
        Assert.Empty(diagnostics);
        Assert.Equal(3, entries);
        Assert.True(list.IsMatch("mx3.regex.test", "198.18.0.1"));
        Assert.True(list.IsMatch("unknown", "192.0.2.7"));
    }

    [Fact]
    public void AHostNameMatchesItselfAndNamesBelowIt()
    {
        var list = Clients("Example.COM\n");
        Assert.True(list.IsMatch("example.com", "198.18.0.1"));
        Assert.True(list.IsMatch("a.b.EXAMPLE.com", "198.18.0.1"));
        Assert.False(list.IsMatch("notexample.com", "198.18.0.1"));
    }

    [Fact]
    public void ARegexLineIsAnUnanchoredCaseInsensitiveRegex()
    {
        var list = Clients("/mail(out)?\\d+\\.telekom/\n", out var diagnostics, out int entries);
        Assert.Empty(diagnostics);
        Assert.Equal(1, entries);
        var regex = Assert.Single(list.Regexes);
        Assert.Equal("mail(out)?\\d+\\.telekom", regex.Pattern);
        Assert.True(list.IsMatch("x.MAILOUT12.Telekom.de", "198.18.0.1"));
        Assert.False(list.IsMatch("mail.telekom.de", "198.18.0.1"));
    }

    [Fact]
    public void ARegexMayContainSlashes()
    {
        var list = Clients("/a/b/\n");
        Assert.Equal("a/b", Assert.Single(list.Regexes).Pattern);
    }

    [Theory]
    [InlineData("//")]
    [InlineData("/")]
    public void TooShortSlashLinesAreHostNamesNotRegexes(string line)
    {
        var list = Clients(line + "\n", out var diagnostics, out int entries);
        Assert.Empty(diagnostics);
        Assert.Equal(1, entries);
        Assert.Empty(list.Regexes);
    }

    [Theory]
    [InlineData("192.0.2.7", "192.0.2.7", true)]
    [InlineData("192.0.2.7", "192.0.2.8", false)]
    [InlineData("192.0.2.7/32", "192.0.2.7", true)]
    [InlineData("192.0.2.7/32", "192.0.2.6", false)]
    [InlineData("192.0.2.0/24", "192.0.2.255", true)]
    [InlineData("192.0.2.0/24", "192.0.3.0", false)]
    [InlineData("205.201.128.0/20", "205.201.143.255", true)]
    [InlineData("205.201.128.0/20", "205.201.144.0", false)]
    [InlineData("0.0.0.0/0", "255.255.255.255", true)]
    [InlineData("010.001.002.003", "10.1.2.3", true)]
    // Host bits set: the entry covers the whole enclosing network (203.0.113.64-127).
    [InlineData("203.0.113.70/26", "203.0.113.64", true)]
    [InlineData("203.0.113.70/26", "203.0.113.127", true)]
    [InlineData("203.0.113.70/26", "203.0.113.63", false)]
    [InlineData("203.0.113.70/26", "203.0.113.128", false)]
    // Three octets: a /24.
    [InlineData("198.51.100", "198.51.100.0", true)]
    [InlineData("198.51.100", "198.51.100.255", true)]
    [InlineData("198.51.100", "198.51.101.1", false)]
    // Two octets: greyd makes it the /16 its documentation promises (postgrey builds a /24 by mistake).
    [InlineData("10.20", "10.20.0.5", true)]
    [InlineData("10.20", "10.20.5.5", true)]
    [InlineData("10.20", "10.20.255.255", true)]
    [InlineData("10.20", "10.21.0.1", false)]
    public void IPv4EntriesCoverTheirNetwork(string entry, string client, bool expected)
    {
        var list = Clients(entry + "\n", out var diagnostics, out int entries);
        Assert.Empty(diagnostics);
        Assert.Equal(1, entries);
        Assert.Equal(expected, list.IsMatch("unknown", client));
    }

    [Theory]
    [InlineData("2001:DB8:2::5", "2001:db8:2::5", true)]
    [InlineData("2001:DB8:2::5", "2001:DB8:2:0:0:0:0:5", true)]
    [InlineData("2001:DB8:2::5", "2001:db8:2::6", false)]
    [InlineData("2001:db8:1::/48", "2001:db8:1:ffff::1", true)]
    [InlineData("2001:db8:1::/48", "2001:db8:2::1", false)]
    [InlineData("2a01:4180:4051:0800::/64", "2a01:4180:4051:800:1:2:3:4", true)]
    [InlineData("2a01:4180:4051:0800::/64", "2a01:4180:4051:801::1", false)]
    // Host bits set on IPv6 too.
    [InlineData("2001:db8:1:2::77/64", "2001:db8:1:2:ffff::", true)]
    [InlineData("::ffff:192.0.2.1", "::ffff:192.0.2.1", true)]
    [InlineData("::/0", "2001:db8::1", true)]
    public void IPv6EntriesCoverTheirNetwork(string entry, string client, bool expected)
    {
        var list = Clients(entry + "\n", out var diagnostics, out int entries);
        Assert.Empty(diagnostics);
        Assert.Equal(1, entries);
        Assert.Equal(expected, list.IsMatch("unknown", client));
    }

    [Fact]
    public void AStarDotEntryMatchesTheNamesBelowTheDomainOnly()
    {
        var list = Clients("*.wild.test\n", out var diagnostics, out int entries);
        Assert.Empty(diagnostics);
        Assert.Equal(1, entries);
        Assert.True(list.IsMatch("a.wild.test", "198.18.0.1"));
        Assert.True(list.IsMatch("x.y.WILD.test", "198.18.0.1"));
        Assert.False(list.IsMatch("wild.test", "198.18.0.1"));
        Assert.False(list.IsMatch("notwild.test", "198.18.0.1"));
        Assert.False(list.IsMatch("a.wild.test.evil", "198.18.0.1"));
    }

    [Theory]
    [InlineData("two words here", 1)]
    [InlineData("/bad regex with space/", 1)]
    [InlineData("example.com\tother.com", 1)]
    public void ClientLinesWithWhitespaceAreWarnings(string line, int lineNumber)
    {
        var list = Clients(line + "\n", out var diagnostics, out int entries, file: "/etc/greyd/wl");
        Assert.Equal(0, entries);
        Assert.Equal(0, list.Count);
        var diagnostic = Assert.Single(diagnostics);
        Assert.False(diagnostic.IsError);
        Assert.Equal("/etc/greyd/wl", diagnostic.File);
        Assert.Equal(lineNumber, diagnostic.Line);
        Assert.Equal("/etc/greyd/wl line 1: doesn't look like a hostname", diagnostic.ToString());
    }

    [Fact]
    public void M10WarningsNameTheirLinesAndTheOtherLinesLoad()
    {
        const string text = "example.com\n# comment\n\ntwo words here\n192.0.2.7\n/bad regex with space/\n*.wild.test\n";
        var list = Clients(text, out var diagnostics, out int entries, file: "wl_clients");
        Assert.Equal(3, entries);
        Assert.Equal(
            ["wl_clients line 4: doesn't look like a hostname", "wl_clients line 6: doesn't look like a hostname"],
            diagnostics.Select(d => d.ToString()));
        Assert.All(diagnostics, d => Assert.False(d.IsError));
        Assert.True(list.IsMatch("example.com", "198.18.0.1"));
        Assert.True(list.IsMatch("unknown", "192.0.2.7"));
        Assert.True(list.IsMatch("a.wild.test", "198.18.0.1"));
        Assert.False(list.IsMatch("two", "198.18.0.1"));
        Assert.False(list.IsMatch("words", "198.18.0.1"));
    }

    [Theory]
    [InlineData("999.1.1.1", "not a valid IP address")]
    [InlineData("1.2.3.256", "not a valid IP address")]
    [InlineData("300.1", "not a valid IP address")]
    [InlineData("2001:db8::g", "not a valid IP address")]
    [InlineData("1:2:3:4:5:6:7:8:9", "not a valid IP address")]
    [InlineData("2001:db8:: 1", "not a valid IP address")]
    [InlineData("192.0.2.0/33", "not a valid network")]
    [InlineData("192.0.2.0/99", "not a valid network")]
    [InlineData("2001:db8::/129", "not a valid network")]
    [InlineData("10.20/16", "not a valid network")]
    [InlineData("198.51.100/24", "not a valid network")]
    public void BadAddressesAreWarningsAndGiveNoEntry(string line, string message)
    {
        var list = Clients("example.com\n" + line + "\n", out var diagnostics, out int entries);
        Assert.Equal(1, entries);
        Assert.Equal(1, list.Count);
        var diagnostic = Assert.Single(diagnostics);
        Assert.False(diagnostic.IsError);
        Assert.Equal(2, diagnostic.Line);
        Assert.Equal($"wl_clients line 2: {message}", diagnostic.ToString());
    }

    [Fact]
    public void ABadClientRegexIsAnErrorAndTheOtherLinesStillLoad()
    {
        const string text = "example.com\n/(unclosed/\n192.0.2.7\n/^ok\\d+$/\n";
        var list = Clients(text, out var diagnostics, out int entries, file: "/etc/greyd/clients");
        Assert.Equal(3, entries);
        var diagnostic = Assert.Single(diagnostics);
        Assert.True(diagnostic.IsError);
        Assert.Equal("/etc/greyd/clients", diagnostic.File);
        Assert.Equal(2, diagnostic.Line);
        Assert.StartsWith("/etc/greyd/clients line 2: invalid regular expression: ", diagnostic.ToString(), StringComparison.Ordinal);
        Assert.True(list.IsMatch("example.com", "198.18.0.1"));
        Assert.True(list.IsMatch("unknown", "192.0.2.7"));
        Assert.True(list.IsMatch("ok12", "198.18.0.1"));
        Assert.Single(list.Regexes);
    }

    [Fact]
    public void ABadRecipientRegexIsAnErrorAndTheOtherLinesStillLoad()
    {
        const string text = "postmaster@\n\n/(unclosed/\nexample.net\n";
        var list = Recipients(text, out var diagnostics, out int entries, file: "/etc/greyd/recipients");
        Assert.Equal(2, entries);
        var diagnostic = Assert.Single(diagnostics);
        Assert.True(diagnostic.IsError);
        Assert.Equal(3, diagnostic.Line);
        Assert.StartsWith("/etc/greyd/recipients line 3: invalid regular expression: ", diagnostic.ToString(), StringComparison.Ordinal);
        Assert.True(list.IsMatch("postmaster@example.org"));
        Assert.True(list.IsMatch("bob@example.net"));
        Assert.Empty(list.Regexes);
    }

    [Fact]
    public void LineNumbersCountBlankAndCommentLines()
    {
        const string text = "\n# one\n\n   \nexample.com\n\nbad line\n#\nanother bad one\n";
        Clients(text, out var diagnostics, out _);
        Assert.Equal([7, 9], diagnostics.Select(d => d.Line));
    }

    [Theory]
    [InlineData("postmaster@", "postmaster@any.example", true)]
    [InlineData("postmaster@", "Postmaster+tag@any.example", true)]
    [InlineData("postmaster@", "xpostmaster@any.example", false)]
    [InlineData("abuse@example.org", "abuse@example.org", true)]
    [InlineData("abuse@example.org", "abuse@sub.example.org", false)]
    [InlineData("example.net", "anyone@example.net", true)]
    [InlineData("example.net", "anyone@sub.example.net", true)]
    [InlineData("example.net", "anyone@notexample.net", false)]
    [InlineData("@atdomain.test", "anyone@atdomain.test", true)]
    [InlineData("@atdomain.test", "anyone@sub.atdomain.test", false)]
    [InlineData("/^re\\d+@rx\\.test$/", "re1@rx.test", true)]
    [InlineData("/^re\\d+@rx\\.test$/", "re@rx.test", false)]
    public void EachRecipientLineFormGivesOneEntry(string line, string recipient, bool expected)
    {
        var list = Recipients("  " + line + "   # comment\n", out var diagnostics, out int entries);
        Assert.Empty(diagnostics);
        Assert.Equal(1, entries);
        Assert.Equal(1, list.Count);
        Assert.Equal(expected, list.IsMatch(recipient));
    }

    [Theory]
    [InlineData("bad entry")]
    [InlineData("user@ example.org")]
    [InlineData("/bad regex with space/")]
    [InlineData("a\tb@example.org")]
    public void M11RecipientLinesWithWhitespaceAreWarnings(string line)
    {
        var list = Recipients("postmaster@\n" + line + "\n", out var diagnostics, out int entries, file: "wl_recipients");
        Assert.Equal(1, entries);
        Assert.Equal(1, list.Count);
        var diagnostic = Assert.Single(diagnostics);
        Assert.False(diagnostic.IsError);
        Assert.Equal("wl_recipients line 2: doesn't look like an address", diagnostic.ToString());
    }

    [Fact]
    public void FilesAppendToTheSameBuilderAndCountTheirOwnEntries()
    {
        var builder = new ClientWhitelist.Builder();
        var diagnostics = new List<WhitelistDiagnostic>();
        Assert.Equal(2, WhitelistParser.ParseClients("a", "example.com\n192.0.2.7\n", builder, diagnostics));
        Assert.Equal(1, WhitelistParser.ParseClients("b", "bad line\n/^mx/\n", builder, diagnostics));
        var list = builder.Build();
        Assert.Equal(3, list.Count);
        Assert.Equal("b line 1: doesn't look like a hostname", Assert.Single(diagnostics).ToString());
        Assert.True(list.IsMatch("mx.other.test", "198.18.0.1"));
        Assert.True(list.IsMatch("unknown", "192.0.2.7"));
    }
}
