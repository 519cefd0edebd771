using System.Text;
using Greyd.Hosting.Admin;

namespace Greyd.Hosting.Tests.Admin;

public sealed class KeyTextTests
{
    [Theory]
    [InlineData("192.0.2.0/alice@example.net/bob@example.org", "192.0.2.0/alice@example.net/bob@example.org")]
    [InlineData("192.0.2.0/\u00e9l\u00e8ve@example.fr/bob@example.org", "192.0.2.0/\u00e9l\u00e8ve@example.fr/bob@example.org")]
    [InlineData("a\\b", "a\\\\b")]
    [InlineData("a\u001b[31mred", "a\\x1b[31mred")]
    [InlineData("line\nbreak\u007f", "line\\x0abreak\\x7f")]
    public void DisplaysPrintableTextAsItIsAndEscapesTheRest(string key, string shown)
    {
        Assert.Equal(shown, KeyText.Display(Encoding.UTF8.GetBytes(key)));
    }

    [Fact]
    public void InvalidUtf8AndC1ControlsAreEscapedByte()
    {
        Assert.Equal("x\\xe9y", KeyText.Display([(byte)'x', 0xe9, (byte)'y']));
        Assert.Equal("\\xc2\\x85", KeyText.Display([0xc2, 0x85]));
    }

    [Fact]
    public void EveryKeyReadsBackExactly()
    {
        var random = new Random(7);
        for (int i = 0; i < 2000; i++)
        {
            var key = new byte[random.Next(0, 40)];
            random.NextBytes(key);
            string shown = KeyText.Display(key);
            Assert.DoesNotContain(shown, char.IsControl);
            Assert.Equal(key, KeyText.Parse(shown));
        }
    }

    [Theory]
    [InlineData("trailing\\")]
    [InlineData("bad\\xzz")]
    [InlineData("short\\x4")]
    [InlineData("other\\n")]
    public void BadEscapesAreRefused(string text)
    {
        Assert.Null(KeyText.Parse(text));
    }
}
