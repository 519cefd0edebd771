namespace Greyd.Spf.Evaluation;

/// <summary>A parsed SPF record (RFC 7208 section 4.6), or the syntax error that makes it a permerror.</summary>
internal sealed class SpfRecord
{
    public SpfDirective[] Directives { get; init; } = [];

    /// <summary>redirect=; null when absent.</summary>
    public SpfMacroString? Redirect { get; init; }

    /// <summary>exp=; parsed for syntax only, since greyd uses the result and never the explanation.</summary>
    public SpfMacroString? Explanation { get; init; }

    /// <summary>Why the record is a permerror; null when it parsed.</summary>
    public string? Error { get; init; }
}
