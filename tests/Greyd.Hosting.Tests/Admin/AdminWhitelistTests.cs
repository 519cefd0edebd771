using Greyd.Hosting.Admin;

namespace Greyd.Hosting.Tests.Admin;

public sealed class AdminWhitelistTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("greyd-admin-wl-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void EntriesAreAddedOnceNotedAndRemovedWithTheirNote()
    {
        var whitelist = AdminWhitelist.In(_dir);
        Assert.True(whitelist.Add("192.0.2.0/24", "2026-11-28T01:00:00Z: partner"));
        Assert.False(whitelist.Add(" 192.0.2.0/24 ", "again"));
        Assert.True(whitelist.Add("mx.partner.example", "2026-11-28T01:01:00Z"));
        var entries = whitelist.Entries();
        Assert.Equal(["192.0.2.0/24", "mx.partner.example"], entries.Select(e => e.Entry));
        Assert.Equal("added 2026-11-28T01:00:00Z: partner", entries[0].Note);
        Assert.Equal("192.0.2.0/24", File.ReadAllLines(whitelist.Path!)[entries[0].Line - 1]);

        Assert.True(whitelist.Remove("192.0.2.0/24"));
        Assert.False(whitelist.Remove("192.0.2.0/24"));
        string text = File.ReadAllText(whitelist.Path!);
        Assert.DoesNotContain("partner\n", text);
        Assert.Contains("mx.partner.example", text);
        Assert.Equal(["mx.partner.example"], AdminWhitelist.In(_dir).Entries().Select(e => e.Entry));
    }

    [Theory]
    [InlineData("")]
    [InlineData("# a comment")]
    [InlineData("/unclosed(/")]
    [InlineData("192.0.2.1 192.0.2.2")]
    [InlineData("192.0.2.1\n198.51.100.1")]
    public void AnythingButOneWhitelistEntryIsRefused(string entry)
    {
        var whitelist = AdminWhitelist.In(_dir);
        var refusal = Assert.Throws<AdminException>(() => whitelist.Add(entry, "note"));
        Assert.StartsWith("not a client whitelist entry", refusal.Message);
        Assert.Empty(whitelist.Entries());
    }

    [Fact]
    public void WithoutAStoreDirectoryNothingCanBeKept()
    {
        Assert.Throws<AdminException>(() => AdminWhitelist.None.Add("192.0.2.1", "note"));
        Assert.Empty(AdminWhitelist.None.Entries());
    }
}
