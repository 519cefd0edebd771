using System.Text;
using Greyd.Hosting.Logging;
using Greyd.Protocol;

namespace Greyd.Hosting.Tests;

public class ActionLogLineTests
{
    private static PolicyRequest Request(string sender = "alice@example.net", string recipient = "bob@example.org", string queueId = "")
    {
        var request = new PolicyRequest();
        request.Set(PolicyAttribute.ClientName, "mail.example.net"u8);
        request.Set(PolicyAttribute.ClientAddress, "192.0.2.10"u8);
        request.Set(PolicyAttribute.Sender, Encoding.UTF8.GetBytes(sender));
        request.Set(PolicyAttribute.Recipient, Encoding.UTF8.GetBytes(recipient));
        request.Set(PolicyAttribute.QueueId, Encoding.UTF8.GetBytes(queueId));
        return request;
    }

    private static string Line(PolicyRequest request, string action, string reason, string extra = "")
    {
        var buffer = new byte[ActionLogLine.MaxLength];
        int n = ActionLogLine.Write(buffer, request, Encoding.ASCII.GetBytes(action), Encoding.ASCII.GetBytes(reason), Encoding.ASCII.GetBytes(extra));
        return Encoding.UTF8.GetString(buffer, 0, n);
    }

    [Fact]
    public void GreylistLineIsPostgreysByteForByte() => Assert.Equal(
        "action=greylist, reason=new, client_name=mail.example.net, client_address=192.0.2.10, sender=alice@example.net, recipient=bob@example.org",
        Line(Request(), "greylist", "new"));

    [Fact]
    public void FirstPassLineCarriesTheDelay() => Assert.Equal(
        "action=pass, reason=triplet found, delay=300, client_name=mail.example.net, client_address=192.0.2.10, sender=alice@example.net, recipient=bob@example.org",
        Line(Request(), "pass", "triplet found", "delay=300"));

    [Fact]
    public void QueueIdPrefixesTheLineWhenPresent() =>
        Assert.StartsWith("ABC123: action=greylist, reason=new, ", Line(Request(queueId: "ABC123"), "greylist", "new"));

    [Fact]
    public void EmptyAndZeroValuesAreLeftOutAsPerlTruthWould()
    {
        Assert.Equal(
            "action=greylist, reason=new, client_name=mail.example.net, client_address=192.0.2.10, recipient=bob@example.org",
            Line(Request(sender: ""), "greylist", "new"));
        Assert.DoesNotContain("sender=", Line(Request(sender: "0"), "greylist", "new"));
    }

    [Fact]
    public void ControlCharactersAndPercentAreEscapedSoNoClientCanForgeALine()
    {
        string line = Line(Request(sender: "a%b%s@c", recipient: "tab\tx@d\r\n<3>action=pass"), "greylist", "new");
        Assert.Contains("sender=a%%b%%s@c, recipient=tab%09x@d%0D%0A<3>action=pass", line);
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain('\r', line);
    }

    [Fact]
    public void NonAsciiBytesAreWrittenAsHexAsPostgreyDoesOnStderr() =>
        Assert.Contains("sender=%C3%A9123@example.com", Line(Request(sender: "é123@example.com"), "greylist", "new"));
}
