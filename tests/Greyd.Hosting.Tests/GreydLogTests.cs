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

    [Fact]
    public void BatchedDecisionLinesAreWrittenSoonAndBeforeAnyLaterLine()
    {
        using var output = new SyncStream();
        var log = new GreydLog(output, LogPriority.Notice);
        var batch = new System.Buffers.ArrayBufferWriter<byte>();
        log.Append(batch, LogPriority.Notice, "action=greylist, reason=new"u8);
        log.Append(batch, LogPriority.Info, "not shown"u8);
        log.Append(batch, LogPriority.Notice, "action=pass, reason=triplet found"u8);
        log.WriteBatch(batch.WrittenSpan);
        string expected = "<5>action=greylist, reason=new\n<5>action=pass, reason=triplet found\n";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Text(output) != expected && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(1);
        }

        Assert.Equal(expected, Text(output));
        log.WriteBatch("<5>action=greylist, reason=early-retry\n"u8);
        log.Write(LogPriority.Warning, "greyd stopping");
        Assert.Equal(expected + "<5>action=greylist, reason=early-retry\n<4>greyd stopping\n", Text(output));
    }

    private static string Text(SyncStream output)
    {
        lock (output)
        {
            return Encoding.UTF8.GetString(output.ToArray());
        }
    }

    // The log's writer thread writes while the test reads.
    private sealed class SyncStream : MemoryStream
    {
        public override void Write(ReadOnlySpan<byte> buffer) => Write(buffer.ToArray(), 0, buffer.Length);

        public override void Write(byte[] buffer, int offset, int count)
        {
            lock (this)
            {
                base.Write(buffer, offset, count);
            }
        }
    }
}
