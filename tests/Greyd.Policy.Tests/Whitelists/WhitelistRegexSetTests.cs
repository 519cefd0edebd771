using Greyd.Policy.Whitelists;

namespace Greyd.Policy.Tests.Whitelists;

/// <summary>The regexes of a list matched as one alternation must match exactly what they match one by one.</summary>
public class WhitelistRegexSetTests
{
    private static readonly string[] Patterns =
    [
        @"^mail(out)?\d+\.example\.com$",
        @"(?-i)^UPPER\.example\.org$",
        @"^alpha\.example$|b\.example\.net$",
        @"^$",
        @"\.mx\.provider\.example$",
        @"(\w+)\.\1\.example$", // backreference: backtracking, run on its own
    ];

    [Theory]
    [InlineData("mailout12.example.com", true)]
    [InlineData("MAIL7.EXAMPLE.COM", true)]
    [InlineData("UPPER.example.org", true)]
    [InlineData("upper.example.org", false)]
    [InlineData("", true)]
    [InlineData("xxb.example.net", true)]
    [InlineData("alpha.example", true)]
    [InlineData("xalpha.example", false)]
    [InlineData("foo.foo.example", true)]
    [InlineData("foo.bar.example", false)]
    [InlineData("host.mx.provider.example", true)]
    [InlineData("host.mx.provider.example.evil", false)]
    public void Matches_what_any_of_its_regexes_matches(string value, bool expected)
    {
        var regexes = Patterns.Select(p => WhitelistRegex.TryCreate(p, out _)!).ToList();
        var set = new WhitelistRegexSet(regexes);
        Assert.Equal(expected, regexes.Any(r => r.IsMatch(value)));
        Assert.Equal(expected, set.IsMatch(value));
    }

    [Fact]
    public void A_pattern_whose_comment_would_swallow_the_others_leaves_them_to_run_one_by_one()
    {
        var regexes = new[] { @"(?x) ^mail\.example\.com$ # the relay", @"^other\.example$" }.Select(p => WhitelistRegex.TryCreate(p, out _)!).ToList();
        var set = new WhitelistRegexSet(regexes);
        Assert.True(set.IsMatch("mail.example.com"));
        Assert.True(set.IsMatch("other.example"));
        Assert.False(set.IsMatch("third.example"));
    }
}
