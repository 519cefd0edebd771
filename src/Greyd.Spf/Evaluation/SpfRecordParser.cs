using System.Net;
using System.Net.Sockets;

namespace Greyd.Spf.Evaluation;

/// <summary>
/// Parses a whole SPF record (RFC 7208 sections 4.6 and 12's ABNF) before any of it is evaluated, so a syntax
/// error anywhere is a permerror even when an earlier mechanism would have matched.
/// </summary>
internal static class SpfRecordParser
{
    /// <summary>"v=spf1", the version section 4.5 selects records by.</summary>
    public const string Version = "v=spf1";

    /// <summary>Section 4.5: "v=spf1", any case, followed by a space or the end of the record.</summary>
    public static bool IsSpf1(string txt)
        => txt.StartsWith(Version, StringComparison.OrdinalIgnoreCase) && (txt.Length == Version.Length || txt[Version.Length] == ' ');

    /// <summary>Parses <paramref name="text"/>, which <see cref="IsSpf1"/> accepted; never throws.</summary>
    public static SpfRecord Parse(string text)
    {
        List<SpfDirective> directives = [];
        SpfMacroString? redirect = null;
        SpfMacroString? explanation = null;
        int position = Version.Length;
        while (position < text.Length)
        {
            if (text[position] == ' ')
            {
                position++;
                continue;
            }
            int end = text.IndexOf(' ', position);
            if (end < 0)
            {
                end = text.Length;
            }
            string term = text[position..end];
            position = end;
            string? error;
            if (IsModifier(term, out int equals))
            {
                string name = term[..equals];
                string value = term[(equals + 1)..];
                if (name.Equals("redirect", StringComparison.OrdinalIgnoreCase))
                {
                    if (redirect is not null)
                    {
                        return Error("more than one redirect");
                    }
                    redirect = SpfMacroString.TryParse(value, explanation: false, domainSpec: true, out error);
                }
                else if (name.Equals("exp", StringComparison.OrdinalIgnoreCase))
                {
                    if (explanation is not null)
                    {
                        return Error("more than one exp");
                    }
                    explanation = SpfMacroString.TryParse(value, explanation: false, domainSpec: true, out error);
                }
                else
                {
                    // Section 6: unknown modifiers are ignored, but their macro-string must still parse.
                    _ = SpfMacroString.TryParse(value, explanation: true, domainSpec: false, out error);
                }
                if (error is not null)
                {
                    return Error(error);
                }
                continue;
            }
            SpfDirective? directive = ParseDirective(term, out error);
            if (directive is null)
            {
                return Error(error!);
            }
            directives.Add(directive);
        }
        return new SpfRecord { Directives = [.. directives], Redirect = redirect, Explanation = explanation };
    }

    private static SpfRecord Error(string error) => new() { Error = SpfDomain.Printable(error) };

    /// <summary>modifier = name "=" macro-string, name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ).</summary>
    private static bool IsModifier(string term, out int equals)
    {
        equals = term.IndexOf('=');
        if (equals <= 0 || !char.IsAsciiLetter(term[0]))
        {
            return false;
        }
        for (int i = 1; i < equals; i++)
        {
            char c = term[i];
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return false;
            }
        }
        return true;
    }

    private static SpfDirective? ParseDirective(string term, out string? error)
    {
        SpfResult qualifier = SpfResult.Pass;
        int start = 0;
        switch (term[0])
        {
            case '+': qualifier = SpfResult.Pass; start = 1; break;
            case '-': qualifier = SpfResult.Fail; start = 1; break;
            case '~': qualifier = SpfResult.SoftFail; start = 1; break;
            case '?': qualifier = SpfResult.Neutral; start = 1; break;
        }
        int nameEnd = start;
        while (nameEnd < term.Length && term[nameEnd] is not (':' or '/'))
        {
            nameEnd++;
        }
        ReadOnlySpan<char> name = term.AsSpan(start, nameEnd - start);
        ReadOnlySpan<char> rest = term.AsSpan(nameEnd);
        error = null;
        if (name.Equals("all", StringComparison.OrdinalIgnoreCase))
        {
            return rest.IsEmpty ? new SpfDirective { Text = term, Qualifier = qualifier, Mechanism = SpfMechanism.All } : Fail(term, out error);
        }
        if (name.Equals("include", StringComparison.OrdinalIgnoreCase) || name.Equals("exists", StringComparison.OrdinalIgnoreCase))
        {
            SpfMechanism mechanism = name.Length == 7 ? SpfMechanism.Include : SpfMechanism.Exists;
            if (rest.Length < 2 || rest[0] != ':')
            {
                return Fail(term, out error);
            }
            SpfMacroString? spec = SpfMacroString.TryParse(rest[1..].ToString(), explanation: false, domainSpec: true, out error);
            return spec is null ? null : new SpfDirective { Text = term, Qualifier = qualifier, Mechanism = mechanism, DomainSpec = spec };
        }
        if (name.Equals("ptr", StringComparison.OrdinalIgnoreCase))
        {
            return ParseOptionalDomain(term, qualifier, SpfMechanism.Ptr, rest, 32, 128, out error);
        }
        if (name.Equals("a", StringComparison.OrdinalIgnoreCase) || name.Equals("mx", StringComparison.OrdinalIgnoreCase))
        {
            SpfMechanism mechanism = name.Length == 1 ? SpfMechanism.A : SpfMechanism.Mx;
            if (!TrySplitDualCidr(ref rest, out int ip4Cidr, out int ip6Cidr))
            {
                return Fail(term, out error);
            }
            return ParseOptionalDomain(term, qualifier, mechanism, rest, ip4Cidr, ip6Cidr, out error);
        }
        if (name.Equals("ip4", StringComparison.OrdinalIgnoreCase))
        {
            if (rest.Length < 2 || rest[0] != ':' || !TryParseIp4Network(rest[1..], out uint network, out int cidr))
            {
                return Fail(term, out error);
            }
            return new SpfDirective
            {
                Text = term, Qualifier = qualifier, Mechanism = SpfMechanism.Ip4,
                Ip4Cidr = cidr, Ip4Network = network & SpfDirective.Ip4Mask(cidr),
            };
        }
        if (name.Equals("ip6", StringComparison.OrdinalIgnoreCase))
        {
            if (rest.Length < 2 || rest[0] != ':' || !TryParseIp6Network(rest[1..], out UInt128 network, out int cidr))
            {
                return Fail(term, out error);
            }
            return new SpfDirective
            {
                Text = term, Qualifier = qualifier, Mechanism = SpfMechanism.Ip6,
                Ip6Cidr = cidr, Ip6Network = network & SpfDirective.Ip6Mask(cidr),
            };
        }
        error = "unknown mechanism '" + term + "'";
        return null;
    }

    private static SpfDirective? Fail(string term, out string? error)
    {
        error = "invalid term '" + term + "'";
        return null;
    }

    /// <summary>a, mx and ptr: nothing (the current domain) or ":" domain-spec.</summary>
    private static SpfDirective? ParseOptionalDomain(string term, SpfResult qualifier, SpfMechanism mechanism, ReadOnlySpan<char> rest, int ip4Cidr, int ip6Cidr, out string? error)
    {
        error = null;
        SpfMacroString? spec = null;
        if (!rest.IsEmpty)
        {
            if (rest.Length < 2 || rest[0] != ':')
            {
                return Fail(term, out error);
            }
            spec = SpfMacroString.TryParse(rest[1..].ToString(), explanation: false, domainSpec: true, out error);
            if (spec is null)
            {
                return null;
            }
        }
        return new SpfDirective
        {
            Text = term, Qualifier = qualifier, Mechanism = mechanism, DomainSpec = spec, Ip4Cidr = ip4Cidr, Ip6Cidr = ip6Cidr,
        };
    }

    /// <summary>dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ], taken off the end of the term.</summary>
    private static bool TrySplitDualCidr(ref ReadOnlySpan<char> rest, out int ip4Cidr, out int ip6Cidr)
    {
        ip4Cidr = 32;
        ip6Cidr = 128;
        int digits = TrailingDigits(rest);
        if (digits > 0 && rest.Length - digits >= 2 && rest[rest.Length - digits - 1] == '/' && rest[rest.Length - digits - 2] == '/')
        {
            if (!TryParseCidr(rest[^digits..], 128, out ip6Cidr))
            {
                return false;
            }
            rest = rest[..(rest.Length - digits - 2)];
            digits = TrailingDigits(rest);
        }
        if (digits > 0 && rest.Length - digits >= 1 && rest[rest.Length - digits - 1] == '/')
        {
            if (!TryParseCidr(rest[^digits..], 32, out ip4Cidr))
            {
                return false;
            }
            rest = rest[..(rest.Length - digits - 1)];
        }
        return true;
    }

    private static int TrailingDigits(ReadOnlySpan<char> text)
    {
        int count = 0;
        while (count < text.Length && char.IsAsciiDigit(text[text.Length - 1 - count]))
        {
            count++;
        }
        return count;
    }

    /// <summary>A CIDR length: "0" or a number without leading zeros, at most <paramref name="max"/>.</summary>
    private static bool TryParseCidr(ReadOnlySpan<char> digits, int max, out int cidr)
    {
        cidr = 0;
        if (digits.Length == 0 || digits.Length > 3 || (digits.Length > 1 && digits[0] == '0'))
        {
            return false;
        }
        foreach (char c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
            cidr = cidr * 10 + (c - '0');
        }
        return cidr <= max;
    }

    /// <summary>ip4-network [ ip4-cidr-length ]: a dotted quad of qnums (no leading zeros), then /0..32.</summary>
    private static bool TryParseIp4Network(ReadOnlySpan<char> text, out uint network, out int cidr)
    {
        network = 0;
        cidr = 32;
        int slash = text.IndexOf('/');
        if (slash >= 0)
        {
            if (!TryParseCidr(text[(slash + 1)..], 32, out cidr))
            {
                return false;
            }
            text = text[..slash];
        }
        for (int octet = 0; octet < 4; octet++)
        {
            int dot = text.IndexOf('.');
            ReadOnlySpan<char> part = octet < 3 ? (dot < 0 ? [] : text[..dot]) : text;
            if (part.Length == 0 || part.Length > 3 || (part.Length > 1 && part[0] == '0'))
            {
                return false;
            }
            int value = 0;
            foreach (char c in part)
            {
                if (!char.IsAsciiDigit(c))
                {
                    return false;
                }
                value = value * 10 + (c - '0');
            }
            if (value > 255)
            {
                return false;
            }
            network = (network << 8) | (uint)value;
            text = octet < 3 ? text[(dot + 1)..] : [];
        }
        return true;
    }

    /// <summary>ip6-network [ ip6-cidr-length ]: an RFC 4291 address (no zone, no brackets), then /0..128.</summary>
    private static bool TryParseIp6Network(ReadOnlySpan<char> text, out UInt128 network, out int cidr)
    {
        network = UInt128.Zero;
        cidr = 128;
        int slash = text.IndexOf('/');
        if (slash >= 0)
        {
            if (!TryParseCidr(text[(slash + 1)..], 128, out cidr))
            {
                return false;
            }
            text = text[..slash];
        }
        if (text.IsEmpty || !text.Contains(':'))
        {
            return false;
        }
        foreach (char c in text)
        {
            if (!char.IsAsciiHexDigit(c) && c is not (':' or '.'))
            {
                return false;
            }
        }
        if (!IPAddress.TryParse(text, out IPAddress? address) || address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return false;
        }
        network = SpfCheckContext.ToUInt128(address);
        return true;
    }
}
