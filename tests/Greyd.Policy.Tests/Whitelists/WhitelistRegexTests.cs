using System.Diagnostics;
using Greyd.Policy.Whitelists;

namespace Greyd.Policy.Tests.Whitelists;

public class WhitelistRegexTests
{
    private static WhitelistRegex Create(string pattern)
    {
        var regex = WhitelistRegex.TryCreate(pattern, out string? error);
        Assert.Null(error);
        Assert.NotNull(regex);
        Assert.Equal(pattern, regex.Pattern);
        return regex;
    }

    [Theory]
    [InlineData("(a+)+$")]
    [InlineData("^(\\w+\\s?)*$")]
    [InlineData("^(a|a)*$")]
    [InlineData("(x+x+)+y")]
    public void PathologicalPatternsRunLinearlyOnTheNonBacktrackingEngine(string pattern)
    {
        var regex = Create(pattern);
        Assert.False(regex.IsBacktracking);
        string input = pattern.Contains('x', StringComparison.Ordinal) ? new string('x', 5000) : new string('a', 5000) + "!";
        var watch = Stopwatch.StartNew();
        Assert.False(regex.IsMatch(input));
        Assert.False(regex.IsMatch(input));
        watch.Stop();
        Assert.Equal(0, regex.Timeouts);
        Assert.True(watch.ElapsedMilliseconds < 2000, $"took {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void MatchingIsCaseInsensitiveAndUnanchored()
    {
        var regex = Create("^mx\\d+\\.regex\\.test$");
        Assert.True(regex.IsMatch("MX12.Regex.TEST"));
        Assert.False(regex.IsMatch("mx.regex.test"));
        var loose = Create("regex");
        Assert.True(loose.IsMatch("a.REGEX.b"));
    }

    [Theory]
    [InlineData("(a)\\1")]
    [InlineData("(?<x>a)\\k<x>")]
    [InlineData("foo(?=bar)")]
    [InlineData("(?<!x)foo")]
    [InlineData("(?>a+)b")]
    public void PatternsTheLinearEngineCannotRunFallBackToBacktracking(string pattern)
    {
        var regex = Create(pattern);
        Assert.True(regex.IsBacktracking);
    }

    [Fact]
    public void ABackreferencePatternStillMatches()
    {
        var regex = Create("^(\\w)\\1\\.example$");
        Assert.True(regex.IsBacktracking);
        Assert.True(regex.IsMatch("AA.example"));
        Assert.True(regex.IsMatch("aA.example"));
        Assert.False(regex.IsMatch("ab.example"));
        Assert.Equal(0, regex.Timeouts);
    }

    [Fact]
    public void ABacktrackingPatternThatRunsTooLongCountsAsNoMatch()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(20), WhitelistRegex.MatchTimeout);

        // A lookahead forces the backtracking engine, and (a|aa)+ before a failing end is exponential in it.
        var regex = Create("^(?=a)(a|aa)+$");
        Assert.True(regex.IsBacktracking);
        string input = new string('a', 60) + "!";
        var watch = Stopwatch.StartNew();
        Assert.False(regex.IsMatch(input));
        Assert.Equal(1, regex.Timeouts);
        Assert.False(regex.IsMatch(input));
        watch.Stop();
        Assert.Equal(2, regex.Timeouts);
        Assert.True(watch.ElapsedMilliseconds < 1000, $"took {watch.ElapsedMilliseconds} ms");

        // The timeout only cuts that one match: the same regex still answers normally afterwards.
        Assert.True(regex.IsMatch("aaAaa"));
        Assert.Equal(2, regex.Timeouts);
    }

    [Theory]
    [InlineData("(unclosed")]
    [InlineData("[z-a]")]
    [InlineData("*a")]
    [InlineData("a{2,1}")]
    [InlineData("\\")]
    [InlineData("(a)\\2")]
    public void AnInvalidPatternGivesNullAndTheReason(string pattern)
    {
        var regex = WhitelistRegex.TryCreate(pattern, out string? error);
        Assert.Null(regex);
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public void NonAsciiPatternsMatchTheUtf8BytesOfTheValue()
    {
        // Values arrive as bytes, one char each (as Perl sees a byte string); the pattern keeps its readable text.
        var regex = Create("^jürgen@");
        Assert.Equal("^jürgen@", regex.Pattern);
        Assert.True(regex.IsMatch(Latin1Chars("Jürgen@x")));
        Assert.False(regex.IsMatch(Latin1Chars("JÜRGEN@x")));
        Assert.False(regex.IsMatch(Latin1Chars("jurgen@x")));
        var fallback = Create("^(j)ürgen@\\1?");
        Assert.True(fallback.IsBacktracking);
        Assert.True(fallback.IsMatch(Latin1Chars("jürgen@x")));
    }

    private static string Latin1Chars(string text) => System.Text.Encoding.Latin1.GetString(System.Text.Encoding.UTF8.GetBytes(text));

    [Fact]
    public void ConcurrentMatchesAreSafe()
    {
        var regex = Create("^mx\\d+\\.example$");
        var fallback = Create("^(mx)\\d+\\.\\1?example$");
        Parallel.For(0, 2000, i =>
        {
            string name = $"MX{i}.example";
            Assert.True(regex.IsMatch(name));
            Assert.True(fallback.IsMatch(name));
            Assert.False(regex.IsMatch(name + "x"));
        });
    }

    // Found by the whitelist fuzz campaign: both regex engines throw OutOfMemoryException ("Array dimensions exceeded
    // supported range") for a huge counted repeat followed by more pattern, which escaped the parser.
    [Theory]
    [InlineData("a{2147483647}b")]
    [InlineData("a{2147483647}\\/")]
    public void AHugeCountedRepeatIsAnInvalidPatternNotACrash(string pattern)
    {
        Assert.Null(WhitelistRegex.TryCreate(pattern, out string? error));
        Assert.Equal("the pattern is too large", error);
        var diagnostics = new List<WhitelistDiagnostic>();
        Assert.Equal(1, WhitelistParser.ParseClients("clients", $"a.example\n/{pattern}/\n", new ClientWhitelist.Builder(), diagnostics));
        Assert.Equal(new WhitelistDiagnostic("clients", 2, true, "invalid regular expression: the pattern is too large"), Assert.Single(diagnostics));
    }
}
