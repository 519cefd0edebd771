using Greyd.IntegrationTests.Harness;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;

namespace Greyd.IntegrationTests;

/// <summary>
/// postgrey-behaviour.md §8.3 (S02: V13-V17) and M01. The stored key is not visible from outside, so each sender is
/// greylisted at t=0 and a differently written sender with the same expected key is sent at t=300: it must pass.
/// </summary>
public sealed class SenderNormalisationTests
{
    [Fact]
    public void Numbers_BATV_tags_and_the_empty_sender_normalise_as_postgrey_does()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();

        Step("V13a", GT(), client.Ask(D(0).With("sender", "bounce-123-456@lists.example")));
        StepXG("V13", 300, client.Ask(D(300).With("sender", "bounce-789-1@lists.example")));

        Step("V14a", GT(), client.Ask(D(0).With("sender", "prvs=1234567890=carl@example.net")));
        StepXG("V14", 300, client.Ask(D(300).With("sender", "carl@example.net")));

        Step("V15a", GT(), client.Ask(D(0).With("sender", "prvs=dave=0123abcdef@example.net")));
        StepXG("V15 (key dave@example.net)", 300, client.Ask(D(300).With("sender", "dave@example.net")));

        int mark = greyd.Process.StderrLineCount;
        Step("V16a", GT(), client.Ask(D(0).With("sender", "")));
        greyd.ExpectLogLine(
            "V16a (no sender= field for the empty sender)",
            "<5>action=greylist, reason=new, client_name=mail.example.net, client_address=192.0.2.10, recipient=bob@example.org",
            mark);
        StepXG("V16", 300, client.Ask(D(300).With("sender", "")));
    }

    [Theory]
    [InlineData("V17a", "user123@example.com", "user123@Example.COM", "user124@example.com")]
    [InlineData("V17b", "a.1.b_2@Example.COM", "a.9.b_2@example.com", "a.1.b_3@example.com")]
    [InlineData("V17c", "SRS0=HhHh=TT=example.org=alice@fwd.example", "srs0=hhhh=tt=example.org=alice@fwd.example", "SRS0=HhHx=TT=example.org=alice@fwd.example")]
    [InlineData("V17d", "MAILER-DAEMON", "mailer-daemon", "MAILER-DAEMON@example.com")]
    [InlineData("V17e", "prvs=ABCDEF1234=eve@example.com", "eve@example.com", "ABCDEF1234@example.com")]
    [InlineData("V17f", "x@1.2.example", "X@1.2.EXAMPLE", "x@1.3.example")]
    [InlineData("V17g", "\u00e9123@example.com", "\u00e9456@example.com", "\u00e9123x@example.com")]
    [InlineData("M01 prvs=abc=def", "prvs=abc=def@example.com", "def@example.com", "abc@example.com")]
    [InlineData("M01 4 fields", "prvs=1234567890=alice=x@example.com", "prvs=99=alice=x@example.com", "alice@example.com")]
    [InlineData("M01 btv1", "btv1==1234567890=alice@example.com", "btv1==5=alice@example.com", "alice@example.com")]
    [InlineData("M01 long number", "12345678901234567890@d.example", "7@d.example", "x7@d.example")]
    [InlineData("M01 date", "x-2024.01.05@example.com", "x-1.2.3@example.com", "x-1.2@example.com")]
    [InlineData("M01 mixed", "1a2-33@example.com", "1a2-7@example.com", "1a3-33@example.com")]
    [InlineData("M01 list", "list-12-34+foo+bar@example.com", "list-1-2@example.com", "list-1@example.com")]
    [InlineData("M01 two @", "user@host@domain", "USER@HOST@DOMAIN", "user@host")]
    [InlineData("M01 no @", "noatsign", "NoAtSign", "noatsign@x")]
    [InlineData("prvs with ext", "prvs=1234567890=bob+tag-99@example.com", "bob@example.com", "bob-#@example.com")]
    [InlineData("domain digits kept", "x@mx1.example.com", "X@MX1.example.com", "x@mx2.example.com")]
    public void A_sender_is_keyed_by_its_normalised_form(string id, string sender, string sameKey, string otherKey)
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        Step(id + " first sight", GT(), client.Ask(D(0).With("sender", sender)));
        Step(id + " a different key is new", GT(), client.Ask(D(300).With("sender", otherKey)));
        StepXG(id + " the same key passes", 300, client.Ask(D(300).With("sender", sameKey)));
    }
}
