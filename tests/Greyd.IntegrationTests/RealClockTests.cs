using System.Globalization;
using System.Text.RegularExpressions;
using Greyd.IntegrationTests.Harness;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;

namespace Greyd.IntegrationTests;

/// <summary>
/// greyd on the real clock, moved with libfaketime (Debian package faketime): without --allow-policy-test-time the
/// policy_test_time attribute is ignored.
/// </summary>
public sealed class RealClockTests
{
    private const string LibFaketime = ExternalTool.LibFaketime;

    [Fact]
    public void Greyd_uses_the_real_clock_and_ignores_policy_test_time_without_the_option()
    {
        Assert.True(File.Exists(LibFaketime), $"{LibFaketime} is missing: install the Debian package 'faketime' (apt-get install -y faketime).");
        using var dir = new TempDir();
        string clockFile = dir.File("faketime.rc");
        File.WriteAllText(clockFile, "+0\n");
        var environment = new Dictionary<string, string>
        {
            ["LD_PRELOAD"] = LibFaketime,
            ["FAKETIME_TIMESTAMP_FILE"] = clockFile,
            ["FAKETIME_NO_CACHE"] = "1",
        };
        using var greyd = GreydInstance.StartWithEnvironment(environment, "--greylist-text=" + PostgreyGreylistText, "--hostname=test.host");

        var real = DWithoutTime();
        Step("real clock, first sight", GT(), greyd.AskOnce(real));

        // A far-future (or past) policy_test_time must not let a triplet pass: it is ignored.
        long future = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + (10 * 86400);
        var forged = real.With("recipient", "forged@example.org");
        Step("forged, first sight", GT(), greyd.AskOnce(forged.With("policy_test_time", (T0 - 86400).ToString(CultureInfo.InvariantCulture))));
        Step("policy_test_time 10 days ahead is ignored", GT(), greyd.AskOnce(forged.With("policy_test_time", future.ToString(CultureInfo.InvariantCulture))));
        Step("still within the delay on the real clock", GT(), greyd.AskOnce(real));

        File.WriteAllText(clockFile, "+10m\n");
        string reply = greyd.AskOnce(real);
        var match = Regex.Match(reply, $"^action=PREPEND X-Greylist: delayed (\\d+) seconds by greyd-{VersionPattern} at test\\.host; {DatePattern}$");
        Assert.True(match.Success, $"10 minutes later the triplet must pass with a header, got '{reply}'");
        long delayed = long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(delayed, 600, 700);
        Step("and then DUNNO", Dunno, greyd.AskOnce(real));
        StepMatches("the forged triplet passes on the real clock too", new Regex("^action=PREPEND X-Greylist: delayed 6[0-9][0-9] seconds "), greyd.AskOnce(forged));
    }
}
