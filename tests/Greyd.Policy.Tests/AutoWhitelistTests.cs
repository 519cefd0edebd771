namespace Greyd.Policy.Tests;

public class AutoWhitelistTests
{
    private const long T0 = TestRequests.T0;
    private const long Day = 86400;

    [Fact]
    public void CountWalksTheSection810Scenario()
    {
        // S18, --auto-whitelist-clients=2.
        var options = new GreylistOptions { AutoWhitelistClients = 2 };

        // V70b: the first pass creates 1,T0+300.
        var record = AutoWhitelist.Count(null, T0 + 300, options);
        Assert.Equal(new ClientRecord(1, T0 + 300), record);

        // V70c/d: not whitelisted yet; a second first-pass within the hour is not counted.
        Assert.False(AutoWhitelist.Check(record, T0 + 400, options, out var updated));
        Assert.Null(updated);
        Assert.Null(AutoWhitelist.Count(record, T0 + 700, options));
        Assert.Null(AutoWhitelist.Count(record, T0 + 3899, options));

        // V70: counted again after an hour; the count reaches N.
        record = AutoWhitelist.Count(record, T0 + 4300, options);
        Assert.Equal(new ClientRecord(2, T0 + 4300), record);

        // V71: whitelisted, and the record is not touched within the hour.
        Assert.True(AutoWhitelist.Check(record, T0 + 4301, options, out updated));
        Assert.Null(updated);
        Assert.True(AutoWhitelist.Check(record, T0 + 7899, options, out updated));
        Assert.Null(updated);

        // V72: an hour after the last count the check counts "for statistics".
        Assert.True(AutoWhitelist.Check(record, T0 + 7901, options, out updated));
        Assert.Equal(new ClientRecord(3, T0 + 7901), updated);
    }

    [Fact]
    public void CountCountsAtExactlyOneHour()
    {
        var options = new GreylistOptions();
        var record = new ClientRecord(1, T0);
        Assert.Null(AutoWhitelist.Count(record, T0 + 3599, options));
        Assert.Equal(new ClientRecord(2, T0 + 3600), AutoWhitelist.Count(record, T0 + 3600, options));
    }

    [Fact]
    public void CheckUpdatesAtOnceWhenTheLastCountLiesInTheFuture()
    {
        var options = new GreylistOptions { AutoWhitelistClients = 2 };
        Assert.True(AutoWhitelist.Check(new ClientRecord(2, T0 + 5000), T0 + 4400, options, out var updated));
        Assert.Equal(new ClientRecord(3, T0 + 4400), updated);
    }

    [Fact]
    public void CheckWhitelistsAfterOnePassWhenTheThresholdIsOne()
    {
        // V76.
        var options = new GreylistOptions { AutoWhitelistClients = 1 };
        Assert.False(AutoWhitelist.Check(null, T0, options, out _));
        var record = AutoWhitelist.Count(null, T0 + 300, options);
        Assert.Equal(new ClientRecord(1, T0 + 300), record);
        Assert.True(AutoWhitelist.Check(record, T0 + 301, options, out var updated));
        Assert.Null(updated);
    }

    [Fact]
    public void CheckNeverWhitelistsWhenTheAutoWhitelistIsOff()
    {
        // V75: --auto-whitelist-clients=0.
        var options = new GreylistOptions { AutoWhitelistClients = 0 };
        Assert.False(AutoWhitelist.Check(new ClientRecord(1000, T0), T0 + 7200, options, out var updated));
        Assert.Null(updated);
    }

    [Fact]
    public void CheckNeedsTheDefaultFivePasses()
    {
        // V74: the default threshold is 5.
        var options = new GreylistOptions();
        Assert.False(AutoWhitelist.Check(new ClientRecord(4, T0), T0 + 10, options, out _));
        Assert.True(AutoWhitelist.Check(new ClientRecord(5, T0), T0 + 10, options, out _));
    }

    [Fact]
    public void ClientsUnseenForLongerThanMaxAgeAreForgotten()
    {
        var options = new GreylistOptions { AutoWhitelistClients = 2 };
        var record = new ClientRecord(7, T0);

        Assert.False(AutoWhitelist.IsExpired(record, T0 + (35 * Day), options));
        Assert.True(AutoWhitelist.Check(record, T0 + (35 * Day), options, out var updated));
        Assert.Equal(new ClientRecord(8, T0 + (35 * Day)), updated);

        Assert.True(AutoWhitelist.IsExpired(record, T0 + (35 * Day) + 1, options));
        Assert.False(AutoWhitelist.Check(record, T0 + (35 * Day) + 1, options, out updated));
        Assert.Null(updated);
        Assert.Equal(new ClientRecord(1, T0 + (35 * Day) + 1), AutoWhitelist.Count(record, T0 + (35 * Day) + 1, options));
    }
}
