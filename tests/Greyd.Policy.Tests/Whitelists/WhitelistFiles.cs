using System.Text;
using Greyd.Policy.Whitelists;

namespace Greyd.Policy.Tests.Whitelists;

/// <summary>The scenario files of the specification (8.8, 8.9), exactly as written there, and small helpers.</summary>
internal static class WhitelistFiles
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

    public static ClientWhitelist Clients(string text, out List<WhitelistDiagnostic> diagnostics, out int entries, string file = "wl_clients")
    {
        diagnostics = [];
        var builder = new ClientWhitelist.Builder();
        entries = WhitelistParser.ParseClients(file, text, builder, diagnostics);
        return builder.Build();
    }

    public static ClientWhitelist Clients(string text)
    {
        var list = Clients(text, out var diagnostics, out _);
        Assert.Empty(diagnostics);
        return list;
    }

    public static RecipientWhitelist Recipients(string text, out List<WhitelistDiagnostic> diagnostics, out int entries, string file = "wl_recipients")
    {
        diagnostics = [];
        var builder = new RecipientWhitelist.Builder();
        entries = WhitelistParser.ParseRecipients(file, text, builder, diagnostics);
        return builder.Build();
    }

    public static RecipientWhitelist Recipients(string text)
    {
        var list = Recipients(text, out var diagnostics, out _);
        Assert.Empty(diagnostics);
        return list;
    }

    public static ClientAddress Address(string text)
    {
        Assert.True(ClientAddress.TryParse(text, out var address), $"'{text}' is not an address");
        return address;
    }

    /// <summary>Postfix's client_name as it arrives on the wire: UTF-8 bytes.</summary>
    public static bool IsMatch(this ClientWhitelist list, string clientName, string clientAddress) =>
        list.IsMatch(Encoding.UTF8.GetBytes(clientName), Address(clientAddress));

    public static bool IsMatch(this RecipientWhitelist list, string recipient) => list.IsMatch(Encoding.UTF8.GetBytes(recipient));
}
