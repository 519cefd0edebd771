using System.Diagnostics;
using Greyd.Hosting.Whitelists;
using Greyd.Policy;
using Greyd.Policy.Whitelists;

namespace Greyd.Hosting.Tests.Whitelists;

public sealed class WhitelistHolderTests : IDisposable
{
    private readonly TempWhitelistDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly ClientAddress s_other = Address("198.18.0.1");

    private static ClientAddress Address(string text)
    {
        Assert.True(ClientAddress.TryParse(text, out var address));
        return address;
    }

    private WhitelistHolder Holder(string clients, string recipients, TimeSpan poll) =>
        new(new WhitelistLoader([clients], [recipients], clientFilesAreDefaults: false, recipientFilesAreDefaults: false), _dir.Log, poll);

    private static bool Passes(WhitelistSet set, string clientName) => set.Clients.IsMatch(System.Text.Encoding.UTF8.GetBytes(clientName), s_other);

    private static async Task<bool> WaitForAsync(Func<bool> condition, int milliseconds = 5000)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.ElapsedMilliseconds > milliseconds)
            {
                return false;
            }

            await Task.Delay(10);
        }

        return true;
    }

    [Fact]
    public void AFixedSetIsKeptAndReloadDoesNothing()
    {
        var set = new WhitelistSet(ClientWhitelist.Empty, RecipientWhitelist.Empty);
        using var holder = new WhitelistHolder(set);
        Assert.Same(set, holder.Current);
        Assert.True(holder.Reload());
        Assert.Same(set, holder.Current);
    }

    [Fact]
    public void StartUpLoadsTheFilesAndLogsTheSummary()
    {
        string clients = _dir.Write("wl_clients", "example.com\n");
        string recipients = _dir.Write("wl_recipients", "postmaster@\nbad entry\n");
        using var holder = Holder(clients, recipients, TimeSpan.Zero);
        Assert.True(Passes(holder.Current, "example.com"));
        Assert.True(holder.Current.Recipients.IsMatch("postmaster@example.org"u8));
        Assert.Equal(
            $"<4>{recipients} line 2: doesn't look like an address\n" +
            $"<5>whitelists loaded: clients {clients} (1 entry); recipients {recipients} (1 entry)\n",
            _dir.LogText);
    }

    [Fact]
    public void AtStartUpABadRegexIsLoggedAndTheRestOfTheFileIsUsed()
    {
        string clients = _dir.Write("wl_clients", "example.com\n/(unclosed/\n192.0.2.7\n");
        string recipients = _dir.Write("wl_recipients", "postmaster@\n");
        using var holder = Holder(clients, recipients, TimeSpan.Zero);
        Assert.True(Passes(holder.Current, "example.com"));
        Assert.True(holder.Current.Clients.IsMatch("unknown"u8, Address("192.0.2.7")));
        Assert.True(holder.Current.Recipients.IsMatch("postmaster@example.org"u8));
        string log = _dir.LogText;
        Assert.StartsWith($"<3>{clients} line 2: invalid regular expression: ", log, StringComparison.Ordinal);
        Assert.EndsWith($"<5>whitelists loaded: clients {clients} (2 entries); recipients {recipients} (1 entry)\n", log, StringComparison.Ordinal);
        Assert.DoesNotContain("not reloaded", log, StringComparison.Ordinal);
    }

    [Fact]
    public void ReloadSwapsInTheNewSet()
    {
        string clients = _dir.Write("wl_clients", "example.com\n");
        string recipients = _dir.Write("wl_recipients", "postmaster@\n");
        using var holder = Holder(clients, recipients, TimeSpan.Zero);
        var before = holder.Current;
        _dir.Write("wl_clients", "example.org\n192.0.2.0/24\n");
        _dir.Write("wl_recipients", "abuse@\n");
        Assert.True(holder.Reload());
        var after = holder.Current;
        Assert.NotSame(before, after);
        Assert.False(Passes(after, "example.com"));
        Assert.True(Passes(after, "example.org"));
        Assert.True(after.Clients.IsMatch("unknown"u8, Address("192.0.2.9")));
        Assert.False(after.Recipients.IsMatch("postmaster@example.org"u8));
        Assert.True(after.Recipients.IsMatch("abuse@example.org"u8));

        // The old set is untouched: a request that took it before the swap finishes with it.
        Assert.True(Passes(before, "example.com"));
        Assert.EndsWith($"<5>whitelists loaded: clients {clients} (2 entries); recipients {recipients} (1 entry)\n", _dir.LogText, StringComparison.Ordinal);
    }

    [Fact]
    public void AReloadWithABadRegexKeepsThePreviousSet()
    {
        string clients = _dir.Write("wl_clients", "example.com\n");
        string recipients = _dir.Write("wl_recipients", "postmaster@\n");
        using var holder = Holder(clients, recipients, TimeSpan.Zero);
        var before = holder.Current;
        _dir.Write("wl_clients", "example.org\n\n/(unclosed/\n");
        int logged = _dir.LogText.Length;
        Assert.False(holder.Reload());
        Assert.Same(before, holder.Current);
        Assert.True(Passes(holder.Current, "example.com"));
        Assert.False(Passes(holder.Current, "example.org"));
        string log = _dir.LogText[logged..];
        var lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith($"<3>{clients} line 3: invalid regular expression: ", lines[0], StringComparison.Ordinal);
        Assert.Equal("<3>whitelists not reloaded, the previous ones stay in force", lines[1]);

        // Once the file is fixed the next reload goes through.
        _dir.Write("wl_clients", "example.org\n");
        Assert.True(holder.Reload());
        Assert.True(Passes(holder.Current, "example.org"));
    }

    [Fact]
    public void AReloadWithAnUnreadableFileKeepsThePreviousSet()
    {
        string clients = _dir.Write("wl_clients", "example.com\n");
        string recipients = _dir.Write("wl_recipients", "postmaster@\n");
        using var holder = Holder(clients, recipients, TimeSpan.Zero);
        var before = holder.Current;
        File.Delete(recipients);
        Directory.CreateDirectory(recipients);
        Assert.False(holder.Reload());
        Assert.Same(before, holder.Current);
        Assert.Contains($"<3>can't open {recipients}: ", _dir.LogText, StringComparison.Ordinal);
        Assert.EndsWith("<3>whitelists not reloaded, the previous ones stay in force\n", _dir.LogText, StringComparison.Ordinal);
    }

    [Fact]
    public void AReloadWithOnlyWarningsGoesThrough()
    {
        string clients = _dir.Write("wl_clients", "example.com\n");
        string recipients = _dir.Write("wl_recipients", "postmaster@\n");
        using var holder = Holder(clients, recipients, TimeSpan.Zero);
        _dir.Write("wl_clients", "example.org\nbad line\n999.1.1.1\n");
        File.Delete(recipients);
        Assert.True(holder.Reload());
        Assert.True(Passes(holder.Current, "example.org"));
        Assert.Equal(0, holder.Current.Recipients.Count);
        string log = _dir.LogText;
        Assert.Contains($"<4>{clients} line 2: doesn't look like a hostname\n", log, StringComparison.Ordinal);
        Assert.Contains($"<4>{clients} line 3: not a valid IP address\n", log, StringComparison.Ordinal);
        Assert.Contains($"<4>can't open {recipients}: No such file or directory\n", log, StringComparison.Ordinal);
        Assert.EndsWith($"<5>whitelists loaded: clients {clients} (1 entry); recipients {recipients} (missing)\n", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AChangedFileIsPickedUpByPolling()
    {
        string clients = _dir.Write("wl_clients", "example.com\n");
        string recipients = _dir.Write("wl_recipients", "postmaster@\n");
        using var holder = Holder(clients, recipients, TimeSpan.FromMilliseconds(50));
        var before = holder.Current;
        await Task.Delay(120);
        Assert.Same(before, holder.Current);

        _dir.Write("wl_clients", "example.com\nexample.org\n");
        Assert.True(await WaitForAsync(() => Passes(holder.Current, "example.org")), "the change was not picked up");
        Assert.True(await WaitForAsync(() => _dir.LogText.Contains("(2 entries)", StringComparison.Ordinal)));
        Assert.Contains("<5>whitelist file changed: reloading whitelists...\n", _dir.LogText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFileThatAppearsIsPickedUpByPolling()
    {
        string clients = _dir.File("wl_clients");
        string recipients = _dir.Write("wl_recipients", "postmaster@\n");
        using var holder = Holder(clients, recipients, TimeSpan.FromMilliseconds(50));
        Assert.Equal(0, holder.Current.Clients.Count);
        _dir.Write("wl_clients", "example.org\n");
        Assert.True(await WaitForAsync(() => Passes(holder.Current, "example.org")), "the new file was not picked up");
    }

    [Fact]
    public async Task APolledChangeWithABadRegexKeepsThePreviousSet()
    {
        string clients = _dir.Write("wl_clients", "example.com\n");
        string recipients = _dir.Write("wl_recipients", "postmaster@\n");
        using var holder = Holder(clients, recipients, TimeSpan.FromMilliseconds(50));
        var before = holder.Current;
        _dir.Write("wl_clients", "example.org\n/(unclosed/\n");
        Assert.True(await WaitForAsync(() => _dir.LogText.Contains("whitelists not reloaded", StringComparison.Ordinal)), "the change was not seen");
        Assert.Same(before, holder.Current);
        Assert.Contains($"<3>{clients} line 2: invalid regular expression: ", _dir.LogText, StringComparison.Ordinal);

        // The broken state is not retried on every poll: one report, until the files change again.
        await Task.Delay(300);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(_dir.LogText, "whitelists not reloaded"));
        _dir.Write("wl_clients", "example.org\n");
        Assert.True(await WaitForAsync(() => Passes(holder.Current, "example.org")), "the fix was not picked up");
    }

    [Fact]
    public async Task NoPollingWithAZeroInterval()
    {
        string clients = _dir.Write("wl_clients", "example.com\n");
        string recipients = _dir.Write("wl_recipients", "postmaster@\n");
        using var holder = Holder(clients, recipients, TimeSpan.Zero);
        var before = holder.Current;
        _dir.Write("wl_clients", "example.org\n");
        await Task.Delay(200);
        Assert.Same(before, holder.Current);
    }
}
