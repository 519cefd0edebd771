using System.Buffers;
using System.Text;

namespace Greyd.Policy.Tests;

public class ReplyTemplateTests
{
    private readonly struct Values(string s = "", string r = "", string t = "", string v = "", string d = "", string h = "") : ITemplateValues
    {
        public void Write(char token, IBufferWriter<byte> output)
        {
            string value = token switch
            {
                's' => s,
                'r' => r,
                't' => t,
                'v' => v,
                'd' => d,
                'h' => h,
                _ => throw new InvalidOperationException($"unexpected token %{token}"),
            };
            output.Write(Encoding.UTF8.GetBytes(value));
        }
    }

    private static string Render(ReplyTemplate template, Values values)
    {
        var output = new ArrayBufferWriter<byte>();
        template.Write(output, values);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    [Fact]
    public void WriteReplacesOnlyTheFirstSAndRAndKeepsDoublePercent()
    {
        // V24/V25 text.
        var template = ReplyTemplate.Compile("Wait %ss for %r (%s %r) 100%% %t", "sr");
        Assert.Equal("Wait 60s for sub.example.org (%s %r) 100%% %t", Render(template, new Values(s: "60", r: "sub.example.org")));
        Assert.Equal("Wait 50s for sub.example.org (%s %r) 100%% %t", Render(template, new Values(s: "50", r: "sub.example.org")));
        Assert.Equal(['s', 'r'], template.Tokens.ToArray());
    }

    [Fact]
    public void WriteReplacesHeaderTokensOnceEachInOutputOrder()
    {
        // V26 header, order %t %v %d %h.
        var template = ReplyTemplate.Compile("X-Test: %t %t %v %h %d %s %%", "tvdh");
        Assert.Equal(
            "X-Test: 60 %t <v> <h> <d> %s %%",
            Render(template, new Values(t: "60", v: "<v>", d: "<d>", h: "<h>")));
        Assert.Equal(['t', 'v', 'h', 'd'], template.Tokens.ToArray());
    }

    [Fact]
    public void WriteFillsTheDefaultHeader()
    {
        var template = ReplyTemplate.Compile(GreylistOptions.DefaultXGreylistHeader, "tvdh");
        Assert.Equal(
            "X-Greylist: delayed 300 seconds by greyd-0.1.0 at test.host; Tue, 14 Nov 2023 22:18:20 UTC",
            Render(template, new Values(t: "300", v: "0.1.0", d: "Tue, 14 Nov 2023 22:18:20 UTC", h: "test.host")));
    }

    [Fact]
    public void WriteAsksForTokensInTheOrderTheyAppear()
    {
        var template = ReplyTemplate.Compile("%r first, then %s", "sr");
        Assert.Equal(['r', 's'], template.Tokens.ToArray());
        Assert.Equal("example.org first, then 60", Render(template, new Values(s: "60", r: "example.org")));
    }

    [Fact]
    public void WriteFillsAnEmptyRecipientDomain()
    {
        // V30.
        var template = ReplyTemplate.Compile("Greylisted, see http://postgrey.schweikert.ch/help/%r.html", "sr");
        Assert.Equal("Greylisted, see http://postgrey.schweikert.ch/help/.html", Render(template, new Values(s: "300", r: "")));
    }

    [Theory]
    [InlineData("100%%s", "100%60")]
    [InlineData("%%", "%%")]
    [InlineData("%", "%")]
    [InlineData("ends with %", "ends with %")]
    [InlineData("%x %S %R", "%x %S %R")]
    [InlineData("%s%s%r%r", "60%sdom%r")]
    [InlineData("no tokens", "no tokens")]
    [InlineData("", "")]
    [InlineData("Grüße %s", "Grüße 60")]
    public void WriteTreatsPercentSequencesAsPostgreyDoes(string text, string expected)
    {
        var template = ReplyTemplate.Compile(text, "sr");
        Assert.Equal(expected, Render(template, new Values(s: "60", r: "dom")));
    }

    [Fact]
    public void WriteIgnoresTokensThatAreNotInTheOrder()
    {
        var template = ReplyTemplate.Compile("%s %r %t", "s");
        Assert.Equal("60 %r %t", Render(template, new Values(s: "60")));
        Assert.Equal(['s'], template.Tokens.ToArray());
    }

    [Fact]
    public void WriteCanBeCalledRepeatedlyOnOneTemplate()
    {
        var template = ReplyTemplate.Compile("a %s b %r c", "sr");
        var output = new ArrayBufferWriter<byte>();
        template.Write(output, new Values(s: "1", r: "x"));
        template.Write(output, new Values(s: "2", r: "y"));
        Assert.Equal("a 1 b x ca 2 b y c", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Theory]
    [InlineData("4.7.1 Try later", true)]
    [InlineData("451 busy", true)]
    [InlineData("0", true)]
    [InlineData("Greylisted, see http://postgrey.schweikert.ch/help/%r.html", false)]
    [InlineData(GreylistOptions.DefaultGreylistText, false)]
    [InlineData("%s seconds to go", false)]
    [InlineData(" 4.7.1 leading blank", false)]
    [InlineData("", false)]
    public void StartsWithDigitLooksAtTheTextBeforeSubstitution(string text, bool expected)
    {
        // V31: a text starting with a digit gets no "4.2.0 " prefix.
        Assert.Equal(expected, ReplyTemplate.Compile(text, "sr").StartsWithDigit);
    }
}
