using System.Text;

namespace Greyd.Protocol.Tests;

public class PolicyRequestTests
{
    [Fact]
    public void NewRequestHasNoAttributes()
    {
        var request = new PolicyRequest();
        foreach (var attribute in Enum.GetValues<PolicyAttribute>())
        {
            Assert.False(request.Has(attribute));
            Assert.Equal(0, request.Get(attribute).Length);
        }

        Assert.Equal(0, request.GarbageLines);
    }

    [Fact]
    public void SetCutsTheValueAtFiveHundredTwelveBytesAndKeepsAttributesApart()
    {
        var request = new PolicyRequest();
        request.Set(PolicyAttribute.Sender, Encoding.ASCII.GetBytes(new string('s', 600)));
        request.Set(PolicyAttribute.Recipient, "r@example.org"u8);

        Assert.Equal(new string('s', 512), Encoding.ASCII.GetString(request.Get(PolicyAttribute.Sender)));
        Assert.Equal("r@example.org", Encoding.ASCII.GetString(request.Get(PolicyAttribute.Recipient)));
    }

    [Fact]
    public void RemoveMakesAnAttributeAbsentAndResetClearsEverything()
    {
        var request = new PolicyRequest();
        request.Set(PolicyAttribute.Sender, "a"u8);
        request.Set(PolicyAttribute.Instance, "i"u8);
        request.AddGarbage("junk"u8);

        request.Remove(PolicyAttribute.Sender);
        Assert.False(request.Has(PolicyAttribute.Sender));
        Assert.True(request.Has(PolicyAttribute.Instance));

        request.Reset();
        Assert.False(request.Has(PolicyAttribute.Instance));
        Assert.Equal(0, request.GarbageLines);
        Assert.Equal(0, request.FirstGarbage.Length);
    }
}
