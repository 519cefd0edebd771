using System.Net;
using Greyd.Spf.Evaluation;
using Greyd.Tests.Shared;
using static Greyd.Spf.Tests.SpfTestDns;

namespace Greyd.Spf.Tests;

public class MacroTests
{
    private static string Expand(string macro, string client = "192.0.2.3", string sender = "strong-bad@email.example.com", string domain = "email.example.com", bool explanation = false)
    {
        SpfMacroString? parsed = SpfMacroString.TryParse(macro, explanation, domainSpec: false, out string? error);
        Assert.True(parsed is not null, error);
        SpfCheckContext context = new(IPAddress.Parse(client), sender, "mx.example.net", domain);
        return parsed.Expand(context, domain);
    }

    /// <summary>RFC 7208 section 7.4's examples.</summary>
    [Theory]
    [InlineData("%{s}", "strong-bad@email.example.com")]
    [InlineData("%{o}", "email.example.com")]
    [InlineData("%{d}", "email.example.com")]
    [InlineData("%{d4}", "email.example.com")]
    [InlineData("%{d3}", "email.example.com")]
    [InlineData("%{d2}", "example.com")]
    [InlineData("%{d1}", "com")]
    [InlineData("%{dr}", "com.example.email")]
    [InlineData("%{d2r}", "example.email")]
    [InlineData("%{l}", "strong-bad")]
    [InlineData("%{l-}", "strong.bad")]
    [InlineData("%{lr}", "strong-bad")]
    [InlineData("%{lr-}", "bad.strong")]
    [InlineData("%{l1r-}", "strong")]
    [InlineData("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com")]
    [InlineData("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com")]
    [InlineData("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com")]
    [InlineData("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com")]
    [InlineData("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net")]
    public void Rfc7208Section74Examples(string macro, string expected)
        => Assert.Equal(expected, Expand(macro));

    [Fact]
    public void Rfc7208Section74IPv6Example()
        => Assert.Equal(
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com",
            Expand("%{ir}.%{v}._spf.%{d2}", client: "2001:db8::cb01"));

    [Theory]
    [InlineData("%{i}", "192.0.2.3")]
    [InlineData("%{v}", "in-addr")]
    [InlineData("%{h}", "mx.example.net")]
    [InlineData("%{p}", "unknown")]
    [InlineData("%%", "%")]
    [InlineData("%_", " ")]
    [InlineData("%-", "%20")]
    [InlineData("a%%b%_c%-d", "a%b c%20d")]
    [InlineData("%{D}", "email.example.com")]
    [InlineData("%{L}", "strong-bad")]
    [InlineData("%{S}", "strong-bad%40email.example.com")]
    [InlineData("%{d200}", "email.example.com")]
    [InlineData("%{l+-}", "strong.bad")]
    [InlineData("%{d.}", "email.example.com")]
    [InlineData("%{lR-}", "bad.strong")]
    public void OtherMacros(string macro, string expected)
        => Assert.Equal(expected, Expand(macro));

    [Fact]
    public void UpperCaseLettersUrlEscapeTheExpansion()
    {
        Assert.Equal("a%2Bb%2Fc%3Dd~e", Expand("%{L}", sender: "a+b/c=d~e@example.org"));
        Assert.Equal("%C3%A9t%C3%A9", Expand("%{L}", sender: "\u00e9t\u00e9@example.org"));
        Assert.Equal("a+b", Expand("%{l}", sender: "a+b@example.org"));
        Assert.Equal("b.a+c.a", Expand("%{lr-}", sender: "a-b.a+c@example.org"));
    }

    [Theory]
    [InlineData("", "postmaster@email.example.com", "postmaster", "email.example.com")]
    [InlineData("@example.net", "postmaster@example.net", "postmaster", "example.net")]
    [InlineData("example.net", "postmaster@example.net", "postmaster", "example.net")]
    [InlineData("joe@example.net", "joe@example.net", "joe", "example.net")]
    [InlineData("a@b@example.net", "a@b@example.net", "a@b", "example.net")]
    public void ASenderWithoutALocalPartIsPostmaster(string sender, string s, string l, string o)
    {
        Assert.Equal(s, Expand("%{s}", sender: sender));
        Assert.Equal(l, Expand("%{l}", sender: sender));
        Assert.Equal(o, Expand("%{o}", sender: sender));
    }

    [Fact]
    public void IPv6ForwardNibbles()
        => Assert.Equal("2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1", Expand("%{i}", client: "2001:db8::1"));

    [Theory]
    [InlineData("%{c}")]
    [InlineData("%{r}")]
    [InlineData("%{t}")]
    public void ExpOnlyLettersParseOnlyInExplanations(string macro)
    {
        Assert.Null(SpfMacroString.TryParse(macro, explanation: false, domainSpec: false, out string? error));
        Assert.NotNull(error);
        Assert.NotNull(SpfMacroString.TryParse(macro, explanation: true, domainSpec: false, out _));
        Assert.Equal("unknown", Expand("%{r}", explanation: true));
    }

    [Theory]
    [InlineData("%")]
    [InlineData("%{")]
    [InlineData("%{}")]
    [InlineData("%{x}")]
    [InlineData("%{d0}")]
    [InlineData("%{d2rr}")]
    [InlineData("%{d:}")]
    [InlineData("%a")]
    [InlineData("a b")]
    public void InvalidMacroSyntaxDoesNotParse(string macro)
        => Assert.Null(SpfMacroString.TryParse(macro, explanation: true, domainSpec: false, out _));

    [Fact]
    public async Task ALongExpansionDropsLeadingLabelsToFit253()
    {
        string local = string.Join('.', Enumerable.Repeat(new string('x', 60), 4));
        FakeSpfDns dns = new();
        dns.AddTxt("example.org", "v=spf1 exists:%{l}.%{d} -all");
        SpfCheck check = await CheckAsync(dns, "192.0.2.1", sender: local + "@example.org");
        Assert.Equal(SpfResult.Fail, check.Result);
        string expected = string.Join('.', Enumerable.Repeat(new string('x', 60), 3)) + ".example.org";
        Assert.True(expected.Length <= 253);
        Assert.Equal(1, dns.Queries("A", expected));
        Assert.Single(dns.QueryLog, q => q.StartsWith("A ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SenderLocalPartReachesExists()
    {
        FakeSpfDns dns = new FakeSpfDns()
            .AddTxt("example.org", "v=spf1 exists:%{l}.users.%{d} -all")
            .AddAddress("alice.users.example.org", "127.0.0.2");
        Assert.Equal(SpfResult.Pass, (await CheckAsync(dns, "192.0.2.1", sender: "alice@example.org")).Result);
        Assert.Equal(SpfResult.Fail, (await CheckAsync(dns, "192.0.2.1", sender: "bob@example.org")).Result);
        Assert.Equal(SpfResult.Fail, (await CheckAsync(dns, "192.0.2.1", sender: "")).Result);
        Assert.Equal(1, dns.Queries("A", "postmaster.users.example.org"));
    }
}
