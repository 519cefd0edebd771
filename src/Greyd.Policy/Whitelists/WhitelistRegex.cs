using System.Text;
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
        // Compiled over the pattern's UTF-8 bytes, as the values are given: non-ASCII text matches byte for byte.
        string bytes = ToByteChars(pattern);
        try
        {
            return new WhitelistRegex(pattern, new Regex(bytes, options | RegexOptions.NonBacktracking), false);
        }
        catch (NotSupportedException)
        {
            // Backreferences and lookarounds need backtracking: allowed, but never for longer than the timeout.
        }
        catch (OutOfMemoryException)
        {
            // A huge counted repeat ("a{2147483647}b") overflows the engine's tables: try the other engine.
        }
        catch (ArgumentException e)
        {
            error = e.Message;
            return null;
        }

        try
        {
            return new WhitelistRegex(pattern, new Regex(bytes, options, MatchTimeout), true);
        }
        catch (ArgumentException e)
        {
            error = e.Message;
            return null;
        }
        catch (OutOfMemoryException)
        {
            // Found by fuzzing: this escaped the parser and failed the whole whitelist load.
            error = "the pattern is too large";
            return null;
        }
    }

    /// <summary>
    /// The UTF-8 bytes of <paramref name="text"/>, one char each: the form in which values are matched (as Perl
    /// matches byte strings), so entries read from a file compare with the request's bytes exactly.
    /// </summary>
    internal static string ToByteChars(string text) => Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(text));

    /// <summary>Matches <paramref name="value"/>, given as bytes read one char each (see <see cref="ToByteChars"/>).</summary>
    public bool IsMatch(ReadOnlySpan<char> value)
    {
        bool timedOut = false;
        return IsMatch(value, ref timedOut);
    }

    /// <summary>
    /// Matches within a per-request budget: once one backtracking pattern has timed out for a value, the other
    /// backtracking patterns are not tried on it, so a request costs at most one timeout per list.
    /// </summary>
    public bool IsMatch(ReadOnlySpan<char> value, ref bool timedOut)
    {
        if (IsBacktracking && timedOut)
        {
            return false;
        }

        try
        {
            return _regex.IsMatch(value);
        }
        catch (RegexMatchTimeoutException)
        {
            Interlocked.Increment(ref _timeouts);
            timedOut = true;
            return false;
        }
    }
}
