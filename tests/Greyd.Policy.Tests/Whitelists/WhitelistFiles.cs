using System.Text;
using Greyd.Policy.Whitelists;
using Greyd.Tests.Shared;

namespace Greyd.Policy.Tests.Whitelists;

/// <summary>The scenario files of the specification (8.8, 8.9), exactly as written there, and small helpers.</summary>
internal static class WhitelistFiles
{
    public const string S16Clients = WhitelistScenarios.S16Clients;

    public const string S17Clients = WhitelistScenarios.S17Clients;

    public const string S17Recipients = WhitelistScenarios.S17Recipients;

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
