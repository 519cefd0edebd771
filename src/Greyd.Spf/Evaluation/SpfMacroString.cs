using System.Text;

namespace Greyd.Spf.Evaluation;

/// <summary>
/// A parsed macro-string or domain-spec (RFC 7208 section 7). Parsed once with its record; one without macros
/// keeps its text ready, so expanding it allocates nothing.
/// </summary>
internal sealed class SpfMacroString
{
    // RFC 7208 section 7.3 allows capping the DIGIT transformer at 128 or more.
    private const int MaxDigits = 128;

    private readonly SpfMacroPart[] _parts;

    private SpfMacroString(string text, SpfMacroPart[] parts, string? literal)
    {
        Text = text;
        _parts = parts;
        Literal = literal;
    }

    /// <summary>The macro-string as written in the record.</summary>
    public string Text { get; }

    /// <summary>The expansion when there are no macro-letters (a domain-spec: already without a trailing dot).</summary>
    public string? Literal { get; }

    /// <summary>
    /// Parses a macro-string; <paramref name="explanation"/> allows the exp-only letters c, r and t;
    /// <paramref name="domainSpec"/> also checks domain-end (a top label or a macro last) and drops a trailing dot.
    /// </summary>
    public static SpfMacroString? TryParse(string text, bool explanation, bool domainSpec, out string? error)
    {
        List<SpfMacroPart> parts = [];
        StringBuilder literal = new();
        int tailStart = 0;
        bool hasMacro = false;
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (c != '%')
            {
                if (c <= ' ' || c > '~')
                {
                    error = "invalid character in '" + text + "'";
                    return null;
                }
                literal.Append(c);
                i++;
                continue;
            }
            if (i + 1 >= text.Length)
            {
                error = "'%' at the end of '" + text + "'";
                return null;
            }
            char next = text[i + 1];
            switch (next)
            {
                case '%':
                    literal.Append('%');
                    i += 2;
                    tailStart = i;
                    continue;
                case '_':
                    literal.Append(' ');
                    i += 2;
                    tailStart = i;
                    continue;
                case '-':
                    literal.Append("%20");
                    i += 2;
                    tailStart = i;
                    continue;
                case '{':
                    break;
                default:
                    error = "invalid macro in '" + text + "'";
                    return null;
            }
            int close = text.IndexOf('}', i + 2);
            if (close < 0 || !TryParseExpand(text.AsSpan(i + 2, close - i - 2), explanation, out SpfMacroPart part))
            {
                error = "invalid macro in '" + text + "'";
                return null;
            }
            if (literal.Length > 0)
            {
                parts.Add(new SpfMacroPart { Literal = literal.ToString() });
                literal.Clear();
            }
            parts.Add(part);
            hasMacro = true;
            i = close + 1;
            tailStart = i;
        }
        if (literal.Length > 0)
        {
            parts.Add(new SpfMacroPart { Literal = literal.ToString() });
        }
        if (domainSpec)
        {
            if (text.Length == 0)
            {
                error = "empty domain-spec";
                return null;
            }
            if (tailStart < text.Length && !IsDomainEnd(text.AsSpan(tailStart)))
            {
                error = "invalid domain-spec '" + text + "'";
                return null;
            }
        }
        error = null;
        string? expanded = null;
        if (!hasMacro)
        {
            expanded = parts.Count == 0 ? string.Empty : parts[0].Literal!;
            if (domainSpec)
            {
                expanded = SpfDomain.Truncate(expanded);
            }
        }
        return new SpfMacroString(text, [.. parts], expanded);
    }

    /// <summary>Expands the macros for <paramref name="context"/> with &lt;domain&gt; = <paramref name="domain"/> (section 7.3).</summary>
    public string Expand(SpfCheckContext context, string domain)
    {
        if (Literal is not null)
        {
            return Literal;
        }
        StringBuilder result = new();
        foreach (SpfMacroPart part in _parts)
        {
            if (part.Literal is not null)
            {
                result.Append(part.Literal);
                continue;
            }
            string value = part.Letter switch
            {
                's' => context.SenderAddress,
                'l' => context.LocalPart,
                'o' => context.SenderDomain,
                'd' => domain,
                'i' => context.ClientDotted,
                // A validated PTR name would need lookups for every macro use; RFC 7208 section 7.3 allows "unknown".
                'p' => "unknown",
                'v' => context.IsIPv6 ? "ip6" : "in-addr",
                'h' => context.Helo,
                'c' => context.Client.ToString(),
                'r' => "unknown",
                't' => context.Timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => string.Empty,
            };
            AppendTransformed(result, value, part);
        }
        return result.ToString();
    }

    /// <summary>Expands a domain-spec: the expansion, trailing dot dropped, leading labels dropped to fit 253.</summary>
    public string ExpandDomain(SpfCheckContext context, string domain)
        => Literal ?? SpfDomain.Truncate(Expand(context, domain));

    private static bool TryParseExpand(ReadOnlySpan<char> body, bool explanation, out SpfMacroPart part)
    {
        part = default;
        if (body.Length == 0)
        {
            return false;
        }
        char letter = char.ToLowerInvariant(body[0]);
        bool escape = body[0] is >= 'A' and <= 'Z';
        switch (letter)
        {
            case 's' or 'l' or 'o' or 'd' or 'i' or 'p' or 'h' or 'v':
                break;
            case 'c' or 'r' or 't' when explanation:
                break;
            default:
                return false;
        }
        int i = 1;
        int digits = 0;
        bool hasDigits = false;
        while (i < body.Length && body[i] is >= '0' and <= '9')
        {
            hasDigits = true;
            digits = Math.Min(digits * 10 + (body[i] - '0'), 100_000);
            i++;
        }
        if (hasDigits && digits == 0)
        {
            // Section 7.3: a DIGIT transformer must be nonzero.
            return false;
        }
        bool reverse = false;
        if (i < body.Length && body[i] is 'r' or 'R')
        {
            reverse = true;
            i++;
        }
        ReadOnlySpan<char> delimiters = body[i..];
        foreach (char d in delimiters)
        {
            if (d is not ('.' or '-' or '+' or ',' or '/' or '_' or '='))
            {
                return false;
            }
        }
        part = new SpfMacroPart
        {
            Letter = letter,
            Digits = Math.Min(digits, MaxDigits),
            Reverse = reverse,
            Delimiters = delimiters.Length == 0 || delimiters is "." ? null : delimiters.ToString(),
            Escape = escape,
        };
        return true;
    }

    private static void AppendTransformed(StringBuilder result, string value, SpfMacroPart part)
    {
        string transformed = value;
        if (part.Digits != 0 || part.Reverse || part.Delimiters is not null)
        {
            string[] pieces = part.Delimiters is null ? value.Split('.') : value.Split(part.Delimiters.ToCharArray());
            if (part.Reverse)
            {
                Array.Reverse(pieces);
            }
            int keep = part.Digits == 0 ? pieces.Length : Math.Min(part.Digits, pieces.Length);
            transformed = string.Join('.', pieces, pieces.Length - keep, keep);
        }
        if (!part.Escape)
        {
            result.Append(transformed);
            return;
        }
        // Section 7.3: upper-case letters URL-escape all but RFC 3986's unreserved characters.
        Span<byte> utf8 = stackalloc byte[4];
        foreach (Rune rune in transformed.EnumerateRunes())
        {
            int value32 = rune.Value;
            if (value32 < 0x80 && (char.IsAsciiLetterOrDigit((char)value32) || value32 is '-' or '.' or '_' or '~'))
            {
                result.Append((char)value32);
                continue;
            }
            int length = rune.EncodeToUtf8(utf8);
            for (int k = 0; k < length; k++)
            {
                result.Append('%').Append(utf8[k].ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }

    /// <summary>domain-end's literal form: "." toplabel [ "." ] (section 7.1).</summary>
    private static bool IsDomainEnd(ReadOnlySpan<char> tail)
    {
        if (tail.Length > 0 && tail[^1] == '.')
        {
            tail = tail[..^1];
        }
        int dot = tail.LastIndexOf('.');
        if (dot < 0)
        {
            return false;
        }
        ReadOnlySpan<char> top = tail[(dot + 1)..];
        if (top.Length == 0 || top[0] == '-' || top[^1] == '-')
        {
            return false;
        }
        bool hasLetter = false;
        foreach (char c in top)
        {
            if (char.IsAsciiLetter(c))
            {
                hasLetter = true;
            }
            else if (!char.IsAsciiDigit(c) && c != '-')
            {
                return false;
            }
        }
        // toplabel's second form allows an all-alphanumeric label with a hyphen, e.g. "1-2"; all digits is not.
        return hasLetter || top.Contains('-');
    }
}
