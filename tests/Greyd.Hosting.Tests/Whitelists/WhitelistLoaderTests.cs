using System.Text;
using Greyd.Hosting.Whitelists;
using Greyd.Policy;

namespace Greyd.Hosting.Tests.Whitelists;

public sealed class WhitelistLoaderTests : IDisposable
{
    private readonly TempWhitelistDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static ClientAddress Address(string text)
    {
        Assert.True(ClientAddress.TryParse(text, out var address));
        return address;
    }

    [Fact]
    public void MissingDefaultFilesAreSilent()
    {
        string clients = _dir.File("postgrey_whitelist_clients");
        string local = _dir.File("postgrey_whitelist_clients.local");
        string recipients = _dir.File("no/such/dir/postgrey_whitelist_recipients");
        var result = new WhitelistLoader([clients, local], [recipients], clientFilesAreDefaults: true, recipientFilesAreDefaults: true).Load();
        Assert.Empty(result.Warnings);
        Assert.Empty(result.Errors);
        Assert.Equal($"whitelists loaded: clients {clients} (missing), {local} (missing); recipients {recipients} (missing)", result.Summary);
        Assert.Equal(0, result.Set.Clients.Count);
        Assert.Equal(0, result.Set.Recipients.Count);
    }

    [Fact]
    public void AMissingExplicitFileIsAWarningUnlessItEndsInLocal()
    {
        string clients = _dir.File("wl_clients");
        string local = _dir.File("wl_clients.local");
        string recipients = _dir.File("no/such/dir/wl_recipients");
        string recipientsLocal = _dir.File("no/such/dir/wl_recipients.local");
        var result = new WhitelistLoader([clients, local], [recipients, recipientsLocal], clientFilesAreDefaults: false, recipientFilesAreDefaults: false).Load();
        Assert.Equal(
            [$"can't open {clients}: No such file or directory", $"can't open {recipients}: No such file or directory"],
            result.Warnings);
        Assert.Empty(result.Errors);
        Assert.Equal(
            $"whitelists loaded: clients {clients} (missing), {local} (missing); recipients {recipients} (missing), {recipientsLocal} (missing)",
            result.Summary);
    }

    [Fact]
    public void AnUnreadableFileIsAnError()
    {
        // Tests may run as root, where chmod 000 does not stop reading: a directory in the file's place does.
        string clients = _dir.File("wl_clients");
        Directory.CreateDirectory(clients);
        string recipients = _dir.Write("wl_recipients", "postmaster@\n");
        var result = new WhitelistLoader([clients], [recipients], clientFilesAreDefaults: false, recipientFilesAreDefaults: false).Load();
        Assert.Empty(result.Warnings);
        string error = Assert.Single(result.Errors);
        Assert.StartsWith($"can't open {clients}: ", error, StringComparison.Ordinal);
        Assert.True(error.Length > $"can't open {clients}: ".Length, "the reason is given");
        Assert.Equal($"whitelists loaded: clients {clients} (unreadable); recipients {recipients} (1 entry)", result.Summary);
        Assert.True(result.Set.Recipients.IsMatch("postmaster@example.org"u8));
    }

    [Fact]
    public void AnUnreadableDefaultFileIsAnErrorToo()
    {
        string clients = _dir.File("postgrey_whitelist_clients");
        Directory.CreateDirectory(clients);
        var result = new WhitelistLoader([clients], [], clientFilesAreDefaults: true, recipientFilesAreDefaults: true).Load();
        Assert.StartsWith($"can't open {clients}: ", Assert.Single(result.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void TheSummaryNamesEveryFileWithItsEntryCount()
    {
        string a = _dir.Write("a", "# clients\nexample.com\n192.0.2.7\n/^mx\\d+\\./\n");
        string b = _dir.Write("b", "example.org\n");
        string c = _dir.Write("c", "# nothing here\n\n");
        string r = _dir.Write("r", "postmaster@\nabuse@\n");
        var result = new WhitelistLoader([a, b, c], [r], clientFilesAreDefaults: false, recipientFilesAreDefaults: false).Load();
        Assert.Empty(result.Warnings);
        Assert.Empty(result.Errors);
        Assert.Equal($"whitelists loaded: clients {a} (3 entries), {b} (1 entry), {c} (0 entries); recipients {r} (2 entries)", result.Summary);
        Assert.Equal(4, result.Set.Clients.Count);
        Assert.Equal(2, result.Set.Recipients.Count);
    }

    [Fact]
    public void NoFilesAtAllSaysNone()
    {
        var result = new WhitelistLoader([], [], clientFilesAreDefaults: false, recipientFilesAreDefaults: false).Load();
        Assert.Equal("whitelists loaded: clients (none); recipients (none)", result.Summary);
        Assert.Empty(result.Warnings);
        Assert.Empty(result.Errors);
    }

    [Fact]
    public void EntriesOfAllFilesAreUsed()
    {
        string a = _dir.Write("a", "example.com\n");
        string b = _dir.Write("b", "192.0.2.0/24\n");
        string r1 = _dir.Write("r1", "postmaster@\n");
        string r2 = _dir.Write("r2", "example.net\n");
        var set = new WhitelistLoader([a, b], [r1, r2], clientFilesAreDefaults: false, recipientFilesAreDefaults: false).Load().Set;
        Assert.True(set.Clients.IsMatch("mx.example.com"u8, Address("198.18.0.1")));
        Assert.True(set.Clients.IsMatch("unknown"u8, Address("192.0.2.200")));
        Assert.False(set.Clients.IsMatch("unknown"u8, Address("198.18.0.1")));
        Assert.True(set.Recipients.IsMatch("postmaster@example.org"u8));
        Assert.True(set.Recipients.IsMatch("bob@sub.example.net"u8));
        Assert.False(set.Recipients.IsMatch("bob@example.org"u8));
    }

    [Fact]
    public void BadLinesAreWarningsAndBadRegexesAreErrorsNamingFileAndLine()
    {
        string clients = _dir.Write("wl_clients", "example.com\ntwo words here\n/(unclosed/\n999.1.1.1\n192.0.2.7\n");
        string recipients = _dir.Write("wl_recipients", "postmaster@\nbad entry\n/re(/\n");
        var result = new WhitelistLoader([clients], [recipients], clientFilesAreDefaults: false, recipientFilesAreDefaults: false).Load();
        Assert.Equal(
            [
                $"{clients} line 2: doesn't look like a hostname",
                $"{clients} line 4: not a valid IP address",
                $"{recipients} line 2: doesn't look like an address",
            ],
            result.Warnings);
        Assert.Equal(2, result.Errors.Count);
        Assert.StartsWith($"{clients} line 3: invalid regular expression: ", result.Errors[0], StringComparison.Ordinal);
        Assert.StartsWith($"{recipients} line 3: invalid regular expression: ", result.Errors[1], StringComparison.Ordinal);
        Assert.Equal($"whitelists loaded: clients {clients} (2 entries); recipients {recipients} (1 entry)", result.Summary);

        // The set still holds the good lines: the caller decides whether to use it.
        Assert.True(result.Set.Clients.IsMatch("example.com"u8, Address("198.18.0.1")));
        Assert.True(result.Set.Clients.IsMatch("unknown"u8, Address("192.0.2.7")));
        Assert.True(result.Set.Recipients.IsMatch("postmaster@example.org"u8));
    }

    [Fact]
    public void EachLoadReadsTheFilesAgainIntoANewSet()
    {
        string clients = _dir.Write("wl_clients", "example.com\n");
        var loader = new WhitelistLoader([clients], [], clientFilesAreDefaults: false, recipientFilesAreDefaults: false);
        var first = loader.Load().Set;
        _dir.Write("wl_clients", "example.org\n");
        var second = loader.Load().Set;
        Assert.NotSame(first, second);
        Assert.True(first.Clients.IsMatch("example.com"u8, Address("198.18.0.1")));
        Assert.False(second.Clients.IsMatch("example.com"u8, Address("198.18.0.1")));
        Assert.True(second.Clients.IsMatch("example.org"u8, Address("198.18.0.1")));
    }

    [Fact]
    public void AUtf8FileMatchesUtf8RequestsByteForByte()
    {
        string clients = _dir.File("wl_clients");
        File.WriteAllText(clients, "bücher.example\n", new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        string recipients = _dir.Write("wl_recipients", "müller@example.org\n/^jürgen@/\n");
        var set = new WhitelistLoader([clients], [recipients], clientFilesAreDefaults: false, recipientFilesAreDefaults: false).Load().Set;
        Assert.True(set.Clients.IsMatch(Encoding.UTF8.GetBytes("mx.bücher.example"), Address("198.18.0.1")));
        Assert.True(set.Clients.IsMatch(Encoding.UTF8.GetBytes("bücher.example"), Address("198.18.0.1")));
        Assert.True(set.Recipients.IsMatch(Encoding.UTF8.GetBytes("Müller@example.org")));
        Assert.True(set.Recipients.IsMatch(Encoding.UTF8.GetBytes("JÜRGEN@x.example")) == false);
        Assert.True(set.Recipients.IsMatch(Encoding.UTF8.GetBytes("Jürgen@x.example")));
    }
}
