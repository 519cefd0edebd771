namespace Greyd.Policy.Tests;

/// <summary>Section 2.3's verified sender table and M01: raw sender, normalised and lower-cased.</summary>
public static class SenderVectors
{
    public static TheoryData<string, string> Verified => new()
    {
        { "", "" },
        { "Alice+news@EXAMPLE.net", "alice@example.net" },
        { "bounce-123-456@lists.example", "bounce-#-#@lists.example" },
        { "prvs=1234567890=carl@example.net", "carl@example.net" },
        { "prvs=dave=0123abcdef@example.net", "dave@example.net" },
        { "prvs=ABCDEF1234=eve@example.com", "eve@example.com" },
        { "prvs=abc=def@example.com", "def@example.com" },
        { "prvs=1234567890=bob+tag-99@example.com", "bob@example.com" },
        { "prvs=1234567890=alice=x@example.com", "prvs=#=alice=x@example.com" },
        { "user123@example.com", "user123@example.com" },
        { "a.1.b_2@Example.COM", "a.#.b_2@example.com" },
        { "12345678901234567890@d.example", "#@d.example" },
        { "0@example.com", "#@example.com" },
        { "123@example.com", "#@example.com" },
        { "list-12-34+foo+bar@example.com", "list-#-#@example.com" },
        { "x@1.2.example", "x@1.2.example" },
        { "SRS0=HhHh=TT=example.org=alice@fwd.example", "srs0=hhhh=tt=example.org=alice@fwd.example" },
        { "MAILER-DAEMON", "mailer-daemon" },
        { "user@host@domain", "user@host@domain" },
        { "btv1==1234567890=alice@example.com", "btv1==#=alice@example.com" },
        { "x-2024.01.05@example.com", "x-#.#.#@example.com" },
        { "1a2-33@example.com", "1a2-#@example.com" },
        { "noatsign", "noatsign" },
    };
}
