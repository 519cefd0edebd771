using System.Text;
using Greyd.Policy.Whitelists;
using static Greyd.Policy.Tests.Whitelists.WhitelistFiles;

namespace Greyd.Policy.Tests.Whitelists;

public class RecipientWhitelistTests
{
    private static readonly RecipientWhitelist s_s17 = Recipients(S17Recipients);

    // Section 8.9, with greyd's deliberate deviation: "@atdomain.test" whitelists that domain, so V67 passes.
    [Theory]
    [InlineData("V61", "postmaster+x@any.example", true)]
    [InlineData("V62", "xpostmaster@any.example", false)]
    [InlineData("V63", "ABUSE+foo@example.ORG", true)]
    [InlineData("V64", "abuse@sub.example.org", false)]
    [InlineData("V65", "anyone@sub.example.net", true)]
    [InlineData("V66", "anyone@notexample.net", false)]
    [InlineData("V67", "anyone@atdomain.test", true)]
    [InlineData("V68", "RE12@rx.test", true)]
    [InlineData("D", "bob@example.org", false)]
    public void S17Vectors(string id, string recipient, bool whitelisted)
    {
        Assert.True(whitelisted == s_s17.IsMatch(recipient), $"{id}: expected {(whitelisted ? "a match" : "no match")}");
    }

    [Theory]
    [InlineData("postmaster@x.example", true)]
    [InlineData("POSTMASTER@x.example", true)]
    [InlineData("postmaster+a+b@x.example", true)]
    [InlineData("postmaster+@x.example", false)]
    [InlineData("postmaster", false)]
    [InlineData("postmaster+x", false)]
    [InlineData("postmasterx@x.example", false)]
    [InlineData("post@x.example", false)]
    [InlineData("postmaster@", true)]
    public void AUserEntryMatchesThatLocalPartAndItsExtensionsAtAnyDomain(string recipient, bool expected)
    {
        Assert.Equal(expected, Recipients("postmaster@\n").IsMatch(recipient));
    }

    [Theory]
    [InlineData("abuse@example.org", true)]
    [InlineData("Abuse@Example.Org", true)]
    [InlineData("abuse+foo@example.org", true)]
    [InlineData("abuse+foo+bar@example.org", true)]
    [InlineData("abuse+@example.org", false)]
    [InlineData("abuse@sub.example.org", false)]
    [InlineData("abuse@example.org.evil", false)]
    [InlineData("abuse@example.orgx", false)]
    [InlineData("abuse@xexample.org", false)]
    [InlineData("xabuse@example.org", false)]
    [InlineData("abusex@example.org", false)]
    [InlineData("abuse@foo@example.org", false)]
    [InlineData("abuse", false)]
    public void AnAddressEntryMatchesThatAddressWithOrWithoutAnExtensionAtExactlyThatDomain(string recipient, bool expected)
    {
        Assert.Equal(expected, Recipients("abuse@example.org\n").IsMatch(recipient));
    }

    [Theory]
    [InlineData("anyone@example.net", true)]
    [InlineData("anyone@EXAMPLE.NET", true)]
    [InlineData("anyone@sub.example.net", true)]
    [InlineData("anyone@a.b.sub.example.net", true)]
    [InlineData("anyone@notexample.net", false)]
    [InlineData("anyone@example.net.evil", false)]
    [InlineData("example.net", false)]
    [InlineData("@example.net", true)]
    public void ADomainEntryMatchesTheDomainAndItsSubdomains(string recipient, bool expected)
    {
        Assert.Equal(expected, Recipients("example.net\n").IsMatch(recipient));
    }

    [Theory]
    [InlineData("anyone@atdomain.test", true)]
    [InlineData("Any.One+tag@ATDOMAIN.test", true)]
    [InlineData("x@sub.atdomain.test", false)]
    [InlineData("x@notatdomain.test", false)]
    [InlineData("atdomain.test", false)]
    public void AnAtDomainEntryMatchesEveryAddressAtExactlyThatDomain(string recipient, bool expected)
    {
        Assert.Equal(expected, Recipients("@atdomain.test\n").IsMatch(recipient));
    }

    [Fact]
    public void ARegexSeesTheRawRecipientCaseInsensitivelyAndUnanchored()
    {
        var list = Recipients("/^re\\d+@rx\\.test$/\n/\\+bounce-/\n");
        Assert.True(list.IsMatch("RE12@RX.TEST"));
        Assert.False(list.IsMatch("xre12@rx.test"));
        // The raw attribute: no extension is cut and nothing is lower-cased before the regex runs.
        Assert.True(list.IsMatch("list+BOUNCE-123@lists.example"));
        Assert.False(list.IsMatch("list@lists.example"));
    }

    [Fact]
    public void ARegexCanMatchAnEmptyRecipient()
    {
        Assert.True(Recipients("/^$/\n").IsMatch(""));
        Assert.False(s_s17.IsMatch(""));
    }

    [Fact]
    public void NonAsciiBytesAreComparedExactly()
    {
        var list = Recipients("müller@example.org\nbücher.example\n@straße.test\nδοκιμή@\n/^jürgen@/\n");
        Assert.True(list.IsMatch("müller@example.org"));
        Assert.True(list.IsMatch("MÜller+x@EXAMPLE.org") == false, "non-ASCII letters do not fold");
        Assert.True(list.IsMatch("Müller+x@EXAMPLE.org"));
        Assert.False(list.IsMatch("muller@example.org"));
        Assert.True(list.IsMatch("x@mail.bücher.example"));
        Assert.False(list.IsMatch("x@mail.bÜcher.example"));
        Assert.True(list.IsMatch("x@straße.test"));
        Assert.False(list.IsMatch("x@strasse.test"));
        Assert.True(list.IsMatch("δοκιμή@example.org"));
        Assert.False(list.IsMatch("ΔΟΚΙΜΉ@example.org"));
        Assert.True(list.IsMatch("Jürgen@example.org"));
        Assert.False(list.IsMatch("jurgen@example.org"));
    }

    [Fact]
    public void BytesThatDifferOnlyInBit5AreNotFoldedUnlessTheyAreLetters()
    {
        // '@' (0x40) and '`' (0x60), '[' (0x5b) and '{' (0x7b), 0xc3 and 0xe3 differ like 'A' and 'a'.
        var list = Recipients("a[b@example.org\n");
        Assert.True(list.IsMatch("A[B@example.org"));
        Assert.False(list.IsMatch("a{b@example.org"));
        var domain = Recipients("example.net\n");
        Assert.False(domain.IsMatch("x`example.net"));
        var bytes = new RecipientWhitelist.Builder();
        bytes.AddAddress("\u00e9", "example.org");
        Assert.True(bytes.Build().IsMatch(Encoding.UTF8.GetBytes("\u00e9@example.org")));
        Assert.False(bytes.Build().IsMatch([0xe3, 0xa9, .. "@example.org"u8]));
    }

    [Fact]
    public void InvalidUtf8InTheRecipientIsHarmless()
    {
        Assert.False(s_s17.IsMatch([0xff, 0xfe, (byte)'@', 0xc3]));
        Assert.True(s_s17.IsMatch([0xff, (byte)'@', .. "sub.example.net"u8]));
    }

    [Fact]
    public void TheEmptyListMatchesNothing()
    {
        Assert.Equal(0, RecipientWhitelist.Empty.Count);
        Assert.False(RecipientWhitelist.Empty.IsMatch("postmaster@example.org"));
    }
}
