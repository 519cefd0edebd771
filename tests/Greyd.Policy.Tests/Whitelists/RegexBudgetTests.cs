using Greyd.Policy.Whitelists;

namespace Greyd.Policy.Tests.Whitelists;

public class RegexBudgetTests
{
    // Both need backtracking (a lookahead) and both blow up on a long run of 'a' followed by '!'.
    private const string Clients = "/^(?=a)(a|aa)+$/\n/^(?=a)(aa|a)+$/\n";

    [Fact]
    public void AfterOneTimeoutTheOtherBacktrackingPatternsAreNotTriedForThatRequest()
    {
        var builder = new ClientWhitelist.Builder();
        var diagnostics = new List<WhitelistDiagnostic>();
        WhitelistParser.ParseClients("wl", Clients, builder, diagnostics);
        Assert.Empty(diagnostics);
        var list = builder.Build();
        Assert.All(list.Regexes, r => Assert.True(r.IsBacktracking));
        Assert.True(ClientAddress.TryParse("192.0.2.10"u8, out var client));
        byte[] name = [.. Enumerable.Repeat((byte)'a', 60), (byte)'!'];

        Assert.False(list.IsMatch(name, client));

        Assert.Equal(1, list.Regexes[0].Timeouts);
        Assert.Equal(0, list.Regexes[1].Timeouts);
    }

    [Fact]
    public void TheBudgetIsPerRequestSoTheNextRequestTriesThePatternsAgain()
    {
        var builder = new ClientWhitelist.Builder();
        WhitelistParser.ParseClients("wl", Clients, builder, []);
        var list = builder.Build();
        Assert.True(ClientAddress.TryParse("192.0.2.10"u8, out var client));
        byte[] name = [.. Enumerable.Repeat((byte)'a', 60), (byte)'!'];
        list.IsMatch(name, client);
        list.IsMatch(name, client);
        Assert.Equal(2, list.Regexes[0].Timeouts);
        Assert.True(list.IsMatch("aaaa"u8, client));
    }
}
