using System.Text;
using Greyd.Hosting.Logging;

namespace Greyd.Hosting.Tests;

public class GreydLogTests
{
    [Fact]
    public void EachLineCarriesItsSyslogPriorityPrefix()
    {
        using var output = new MemoryStream();
        var log = new GreydLog(output, LogPriority.Notice);
        log.Write(LogPriority.Notice, "action=greylist"u8);
        log.Write(LogPriority.Warning, "attribute missing: sender");
        Assert.Equal("<5>action=greylist\n<4>attribute missing: sender\n", Encoding.UTF8.GetString(output.ToArray()));
    }

    [Fact]
    public void QuietHidesNoticesButKeepsWarnings()
    {
        using var output = new MemoryStream();
        var log = new GreydLog(output, LogPriority.Warning);
        log.Write(LogPriority.Notice, "action=greylist"u8);
        log.Write(LogPriority.Info, "connect");
        log.Write(LogPriority.Warning, "whitelisted: 192.0.2.10");
        Assert.Equal("<4>whitelisted: 192.0.2.10\n", Encoding.UTF8.GetString(output.ToArray()));
    }

    [Fact]
    public void OwnMessagesWithLineBreaksStayOnOneLine()
    {
        using var output = new MemoryStream();
        new GreydLog(output, LogPriority.Info).Write(LogPriority.Error, "fatal: bad\nthing");
        Assert.Equal("<3>fatal: bad%0Athing\n", Encoding.UTF8.GetString(output.ToArray()));
    }
}
