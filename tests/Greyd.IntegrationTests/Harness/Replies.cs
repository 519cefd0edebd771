using System.Text.RegularExpressions;

namespace Greyd.IntegrationTests.Harness;

/// <summary>The expected replies of postgrey-behaviour.md §8.1 (GT, XG) as greyd gives them, and step checks.</summary>
public static class Replies
{
    public const string Dunno = "action=DUNNO";

    /// <summary>postgrey's default text, passed to greyd so that GT matches postgrey's vectors.</summary>
    public const string PostgreyGreylistText = "Greylisted, see http://postgrey.schweikert.ch/help/%r.html";

    /// <summary>The header date: strftime("%a, %d %b %Y %T %Z") in the C locale.</summary>
    public const string DatePattern =
        @"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [A-Za-z0-9+\-]{1,6}";

    /// <summary>greyd's version in <c>%v</c>.</summary>
    public const string VersionPattern = @"[0-9]+(\.[0-9]+)*";

    public static string GT(string domain = "example.org") => $"action=DEFER_IF_PERMIT Greylisted, see http://postgrey.schweikert.ch/help/{domain}.html";

    public static Regex XGPattern(long seconds, string host = "test.host") =>
        new($"^action=PREPEND X-Greylist: delayed {seconds} seconds by greyd-{VersionPattern} at {Regex.Escape(host)}; {DatePattern}$");

    /// <summary>Asserts <paramref name="actual"/> equals <paramref name="expected"/>, naming the vector.</summary>
    public static void Step(string id, string expected, string actual)
    {
        if (!string.Equals(expected, actual, StringComparison.Ordinal))
        {
            Assert.Fail($"{id}: expected '{GreydProcess.Visible(expected)}'\n{new string(' ', id.Length)}       got '{GreydProcess.Visible(actual)}'");
        }
    }

    /// <summary>Asserts the reply is XG(<paramref name="seconds"/>).</summary>
    public static void StepXG(string id, long seconds, string actual, string host = "test.host") => StepMatches(id, XGPattern(seconds, host), actual);

    public static void StepMatches(string id, Regex pattern, string actual)
    {
        if (!pattern.IsMatch(actual))
        {
            Assert.Fail($"{id}: expected a reply matching /{pattern}/\n{new string(' ', id.Length)}       got '{GreydProcess.Visible(actual)}'");
        }
    }
}
