using System.Buffers;
using System.Text;

namespace Greyd.Protocol.Tests;

public class PolicyResponseTests
{
    [Theory]
    [InlineData("DUNNO")]
    [InlineData("DEFER_IF_PERMIT 4.2.0 Greylisted, see http://postgrey.schweikert.ch/help/example.org.html")]
    [InlineData("PREPEND X-Greylist: delayed 300 seconds by postgrey-1.37 at test.host; Tue, 14 Nov 2023 22:18:20 UTC")]
    [InlineData("")]
    public void WriteGivesExactlyActionAndAnEmptyLineWithLfOnly(string action)
    {
        var output = new ArrayBufferWriter<byte>();
        PolicyResponse.Write(output, Encoding.UTF8.GetBytes(action));
        Assert.Equal("action=" + action + "\n\n", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void WriteAppendsAfterEarlierReplies()
    {
        var output = new ArrayBufferWriter<byte>(1);
        PolicyResponse.Write(output, "DUNNO"u8);
        PolicyResponse.Write(output, Encoding.ASCII.GetBytes("451 " + new string('x', 3000)));
        Assert.Equal("action=DUNNO\n\naction=451 " + new string('x', 3000) + "\n\n", Encoding.ASCII.GetString(output.WrittenSpan));
    }

    [Fact]
    public void DunnoIsTheDunnoReply()
    {
        var output = new ArrayBufferWriter<byte>();
        PolicyResponse.Write(output, "DUNNO"u8);
        Assert.True(PolicyResponse.Dunno.SequenceEqual(output.WrittenSpan));
        Assert.Equal("action=DUNNO\n\n", Encoding.ASCII.GetString(PolicyResponse.Dunno));
    }
}
