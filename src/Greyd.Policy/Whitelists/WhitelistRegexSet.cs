using System.Text.RegularExpressions;

namespace Greyd.Policy.Whitelists;

/// <summary>
/// The regexes of one whitelist, matched as one: the patterns the non-backtracking engine runs are joined into a
/// single alternation, so a value is scanned once rather than once per entry; the backtracking ones run after it,
/// in order, within the list's one-timeout budget.
/// </summary>
public sealed class WhitelistRegexSet
{
    private readonly Regex? _combined;
    private readonly WhitelistRegex[] _oneByOne;

    public WhitelistRegexSet(IReadOnlyList<WhitelistRegex> regexes)
    {
        ArgumentNullException.ThrowIfNull(regexes);
        var linear = regexes.Where(r => !r.IsBacktracking).ToList();
        _combined = linear.Count > 1 ? TryCombine(linear) : null;
        _oneByOne = [.. _combined is null ? regexes : regexes.Where(r => r.IsBacktracking)];
    }

    /// <summary>True when no regex is set.</summary>
    public bool IsEmpty => _combined is null && _oneByOne.Length == 0;

    /// <summary>Matches <paramref name="value"/>, given as bytes read one char each, against every regex of the list.</summary>
    public bool IsMatch(ReadOnlySpan<char> value)
    {
        if (_combined is not null && _combined.IsMatch(value))
        {
            return true;
        }

        bool timedOut = false;
        foreach (var regex in _oneByOne)
        {
            if (regex.IsMatch(value, ref timedOut))
            {
                return true;
            }
        }

        return false;
    }

    // Each pattern in its own group keeps its anchors, alternatives and inline options to itself. A join that does
    // not compile (a pattern whose comment would swallow the rest) leaves the patterns to run one by one.
    private static Regex? TryCombine(List<WhitelistRegex> linear)
    {
        string joined = string.Join('|', linear.Select(r => "(?:" + WhitelistRegex.ToByteChars(r.Pattern) + ")"));
        try
        {
            return new Regex(joined, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or OutOfMemoryException)
        {
            return null;
        }
    }
}
