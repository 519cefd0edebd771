using Greyd.Policy.Whitelists;

namespace Greyd.Hosting.Whitelists;

/// <summary>What one load of the whitelist files gave: the set, its problems, and a one-line summary.</summary>
public sealed class WhitelistLoadResult(WhitelistSet set, IReadOnlyList<string> warnings, IReadOnlyList<string> errors, string summary)
{
    public WhitelistSet Set { get; } = set;

    /// <summary>Lines skipped and files missing: logged, never a reason to refuse the set.</summary>
    public IReadOnlyList<string> Warnings { get; } = warnings;

    /// <summary>Bad regexes and unreadable files: a reload with errors keeps the previous set.</summary>
    public IReadOnlyList<string> Errors { get; } = errors;

    public string Summary { get; } = summary;
}
