namespace Greyd.Spf.Evaluation;

/// <summary>Domain-name rules of RFC 7208 sections 4.3 and 7.3, and making names safe to log.</summary>
internal static class SpfDomain
{
    /// <summary>RFC 1035's longest name, without the trailing dot.</summary>
    public const int MaxNameLength = 253;

    /// <summary>RFC 1035's longest label.</summary>
    public const int MaxLabelLength = 63;

    /// <summary>
    /// <paramref name="name"/> without one trailing dot when it is a usable multi-label name (section 4.3), else
    /// null. Returns the same instance when there is no dot to strip, so a warm check allocates nothing.
    /// </summary>
    public static string? Normalize(string name)
    {
        int length = name.Length;
        if (length > 0 && name[length - 1] == '.')
        {
            length--;
        }
        if (!IsValid(name.AsSpan(0, length)))
        {
            return null;
        }
        return length == name.Length ? name : name[..length];
    }

    /// <summary>Multi-label, labels 1..63 visible ASCII characters, at most 253 in all, top label not all digits.</summary>
    public static bool IsValid(ReadOnlySpan<char> name)
    {
        if (name.Length == 0 || name.Length > MaxNameLength)
        {
            return false;
        }
        int labels = 0;
        int labelStart = 0;
        bool labelAllDigits = true;
        for (int i = 0; i <= name.Length; i++)
        {
            if (i == name.Length || name[i] == '.')
            {
                int labelLength = i - labelStart;
                if (labelLength == 0 || labelLength > MaxLabelLength)
                {
                    return false;
                }
                labels++;
                if (i == name.Length && labelAllDigits)
                {
                    // An all-numeric top label is an address literal, not a domain.
                    return false;
                }
                labelStart = i + 1;
                labelAllDigits = true;
                continue;
            }
            char c = name[i];
            if (c <= ' ' || c > '~')
            {
                return false;
            }
            if (c is < '0' or > '9')
            {
                labelAllDigits = false;
            }
        }
        return labels >= 2;
    }

    /// <summary>Section 7.3: drops leading labels of an expanded name until it fits in 253 characters.</summary>
    public static string Truncate(string name)
    {
        if (name.Length > 0 && name[^1] == '.')
        {
            name = name[..^1];
        }
        int start = 0;
        while (name.Length - start > MaxNameLength)
        {
            int dot = name.IndexOf('.', start);
            if (dot < 0)
            {
                return string.Empty;
            }
            start = dot + 1;
        }
        return start == 0 ? name : name[start..];
    }

    /// <summary>True when <paramref name="name"/> is <paramref name="domain"/> or one of its subdomains, ignoring case.</summary>
    public static bool IsSameOrSubdomain(string name, string domain)
    {
        if (name.Length == domain.Length)
        {
            return string.Equals(name, domain, StringComparison.OrdinalIgnoreCase);
        }
        return name.Length > domain.Length
            && name[name.Length - domain.Length - 1] == '.'
            && name.EndsWith(domain, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Log-safe text: anything outside visible ASCII (0x21..0x7e) becomes '?'.</summary>
    public static string Printable(string text)
    {
        int i = 0;
        while (i < text.Length && text[i] is > ' ' and <= '~')
        {
            i++;
        }
        if (i == text.Length)
        {
            return text;
        }
        return string.Create(text.Length, text, static (span, source) =>
        {
            for (int j = 0; j < span.Length; j++)
            {
                char c = source[j];
                span[j] = c is > ' ' and <= '~' ? c : '?';
            }
        });
    }
}
