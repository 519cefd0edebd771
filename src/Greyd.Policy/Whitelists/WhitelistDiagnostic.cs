namespace Greyd.Policy.Whitelists;

/// <summary>A problem with one whitelist line: a warning for a line that is skipped, an error for a bad regex.</summary>
public readonly record struct WhitelistDiagnostic(string File, int Line, bool IsError, string Message)
{
    /// <summary>The log text, naming file and line as postgrey does: <c>FILE line N: ...</c>.</summary>
    public override string ToString() => $"{File} line {Line}: {Message}";
}
