using Greyd.Hosting.Cli.Subcommands;

namespace Greyd.Hosting.Tests.Admin;

public sealed class SubcommandArgumentsTests
{
    private static readonly string[] s_values = ["sender", "limit"];
    private static readonly string[] s_flags = ["json"];

    [Fact]
    public void TakesBothValueFormsFlagsAndWords()
    {
        var args = SubcommandArguments.Parse(["add", "--sender=a@b", "--limit", "5", "--json"], s_values, s_flags);
        Assert.Equal("a@b", args.Get("sender"));
        Assert.Equal("5", args.Get("limit"));
        Assert.True(args.Has("json"));
        Assert.Equal(["add"], args.Words);
        Assert.Equal("x=y", SubcommandArguments.Parse(["--sender=x=y"], s_values, s_flags).Get("sender"));
    }

    [Theory]
    [InlineData("unknown option: --sendr", "--sendr=a@b")]
    [InlineData("--limit needs a value", "--limit")]
    [InlineData("--json takes no value", "--json=yes")]
    public void MistakesAreUsageErrors(string message, string arg)
    {
        var e = Assert.Throws<SubcommandUsageException>(() => SubcommandArguments.Parse([arg], s_values, s_flags));
        Assert.Equal(message, e.Message);
    }
}
