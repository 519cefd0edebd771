using System.Text.RegularExpressions;

namespace Greyd.Policy.Whitelists;

/// <summary>
/// A <c>/regex/</c> whitelist entry, matched case-insensitively and unanchored as postgrey does. It runs on .NET's
/// non-backtracking engine, which is linear in the input; a pattern that engine cannot run (backreferences,
/// lookarounds) falls back to backtracking with a short timeout, and a timeout counts as no match.
/// </summary>
public sealed class WhitelistRegex
{
    /// <summary>The longest a backtracking pattern may run on one value.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(20);

    private readonly Regex _regex;
    private long _timeouts;

    private WhitelistRegex(string pattern, Regex regex, bool isBacktracking)
    {
        Pattern = pattern;
        _regex = regex;
        IsBacktracking = isBacktracking;
    }

    public string Pattern { get; }

    /// <summary>True when the pattern needed the backtracking engine (and so runs under a timeout).</summary>
    public bool IsBacktracking { get; }

    /// <summary>How often a match was cut off by the timeout.</summary>
    public long Timeouts => Interlocked.Read(ref _timeouts);

    /// <summary>Compiles a pattern; returns null and the reason when it is not a valid regular expression.</summary>
    public static WhitelistRegex? TryCreate(string pattern, out string? error)
    {
        error = null;
        const RegexOptions options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant;
        try
        {
            return new WhitelistRegex(pattern, new Regex(pattern, options | RegexOptions.NonBacktracking), false);
        }
        catch (NotSupportedException)
        {
            // Backreferences and lookarounds need backtracking: allowed, but never for longer than the timeout.
        }
        catch (ArgumentException e)
        {
            error = e.Message;
            return null;
        }

        try
        {
            return new WhitelistRegex(pattern, new Regex(pattern, options, MatchTimeout), true);
        }
        catch (ArgumentException e)
        {
            error = e.Message;
            return null;
        }
    }

    public bool IsMatch(ReadOnlySpan<char> value)
    {
        try
        {
            return _regex.IsMatch(value);
        }
        catch (RegexMatchTimeoutException)
        {
            Interlocked.Increment(ref _timeouts);
            return false;
        }
    }
}
