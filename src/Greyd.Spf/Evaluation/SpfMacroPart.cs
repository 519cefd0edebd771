namespace Greyd.Spf.Evaluation;

/// <summary>One piece of a macro-string (RFC 7208 section 7.1): literal text, or a macro-expand with its transformers.</summary>
internal readonly struct SpfMacroPart
{
    /// <summary>Literal text (with %%, %_ and %- already turned into "%", " " and "%20"); null for a macro.</summary>
    public string? Literal { get; init; }

    /// <summary>The macro-letter, lower case (s, l, o, d, i, p, h, c, r, t, v).</summary>
    public char Letter { get; init; }

    /// <summary>The DIGIT transformer: how many right-hand parts to keep; 0 keeps all.</summary>
    public int Digits { get; init; }

    /// <summary>The "r" transformer: reverse the parts before keeping the right-hand ones.</summary>
    public bool Reverse { get; init; }

    /// <summary>The delimiters to split on; null means ".".</summary>
    public string? Delimiters { get; init; }

    /// <summary>An upper-case macro-letter: URL-escape the expansion.</summary>
    public bool Escape { get; init; }
}
