using Greyd.Policy;
using Greyd.Policy.Whitelists;

namespace Greyd.Hosting.Tests;

public class ShippedWhitelistTests
{
    // Found from this source file, so it works wherever the test binaries are built.
    private static string Dist(string name, [System.Runtime.CompilerServices.CallerFilePath] string source = "")
    {
        var dir = new DirectoryInfo(Path.GetDirectoryName(source)!);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AotGrey.sln")))
        {
            dir = dir.Parent;
        }

        Assert.True(dir is not null, "the repository root (AotGrey.sln) was not found above the test sources");
        return Path.Combine(dir!.FullName, "dist", name);
    }

    [Fact]
    public void EveryLineOfTheShippedClientListIsAValidEntry()
    {
        string file = Dist("whitelist_clients");
        var diagnostics = new List<WhitelistDiagnostic>();
        var builder = new ClientWhitelist.Builder();
        int entries = WhitelistParser.ParseClients(file, File.ReadAllText(file), builder, diagnostics);
        Assert.Empty(diagnostics);
        Assert.True(entries >= 30, $"only {entries} entries");
        var list = builder.Build();
        Assert.True(ClientAddress.TryParse("40.107.1.2"u8, out var microsoft));
        Assert.True(list.IsMatch("mail-db8eur05on2101.outbound.protection.outlook.com"u8, microsoft));
        Assert.True(ClientAddress.TryParse("192.0.2.10"u8, out var unknown));
        Assert.False(list.IsMatch("unknown"u8, unknown));
        Assert.False(list.IsMatch("mail.example.net"u8, unknown));
    }

    [Fact]
    public void TheShippedRecipientListKeepsTheRoleAddressesOpen()
    {
        string file = Dist("whitelist_recipients");
        var diagnostics = new List<WhitelistDiagnostic>();
        var builder = new RecipientWhitelist.Builder();
        WhitelistParser.ParseRecipients(file, File.ReadAllText(file), builder, diagnostics);
        Assert.Empty(diagnostics);
        var list = builder.Build();
        Assert.True(list.IsMatch("postmaster@example.org"u8));
        Assert.True(list.IsMatch("Abuse+report@example.org"u8));
        Assert.False(list.IsMatch("bob@example.org"u8));
    }
}
