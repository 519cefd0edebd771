namespace Greyd.Tests.Shared;

/// <summary>The whitelist scenario files of postgrey-behaviour.md 8.8 and 8.9, exactly as written there.</summary>
internal static class WhitelistScenarios
{
    public const string S16Clients = """
        # comment line
        example.com   # trailing comment
        /^mx\d+\.regex\.test$/
        192.0.2.7
        198.51.100
        10.20
        203.0.113.64/26
        2001:db8:1::/48
        2001:DB8:2::5
        *.wild.test
        """;

    public const string S17Clients = "example.com\n";

    public const string S17Recipients = """
        postmaster@
        abuse@example.org
        example.net
        @atdomain.test
        /^re\d+@rx\.test$/
        """;
}
