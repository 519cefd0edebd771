using System.Text;

namespace Greyd.Policy.Whitelists;

/// <summary>
/// The recipient whitelist, postgrey's line forms: <c>user@domain</c> (with or without <c>+extension</c>, exact
/// domain), <c>user@</c> (any domain), <c>domain</c> (and its subdomains), <c>@domain</c> (any user at exactly that
/// domain) and <c>/regex/</c> against the raw recipient. All comparisons ignore ASCII case.
/// </summary>
public sealed class RecipientWhitelist
{
    public static readonly RecipientWhitelist Empty = new Builder().Build();

    private readonly (byte[] User, byte[] Domain)[] _addresses;
    private readonly byte[][] _users;
    private readonly byte[][] _domains;
    private readonly byte[][] _exactDomains;
    private readonly WhitelistRegex[] _regexes;
    private readonly WhitelistRegexSet _regexSet;

    private RecipientWhitelist(Builder builder)
    {
        _addresses = [.. builder.Addresses];
        _users = [.. builder.Users];
        _domains = [.. builder.Domains];
        _exactDomains = [.. builder.ExactDomains];
        _regexes = [.. builder.Regexes];
        _regexSet = new WhitelistRegexSet(_regexes);
        Count = _addresses.Length + _users.Length + _domains.Length + _exactDomains.Length + _regexes.Length;
    }

    public int Count { get; }

    public IReadOnlyList<WhitelistRegex> Regexes => _regexes;

    public bool IsMatch(ReadOnlySpan<byte> recipient)
    {
        foreach (var (user, domain) in _addresses)
        {
            if (StartsWithUser(recipient, user, out int at) && EqualsIgnoreCase(recipient[(at + 1)..], domain))
            {
                return true;
            }
        }

        foreach (byte[] user in _users)
        {
            if (StartsWithUser(recipient, user, out _))
            {
                return true;
            }
        }

        foreach (byte[] domain in _domains)
        {
            // "(?:\@|\.)domain$": the domain itself after the '@', or any subdomain of it.
            int start = recipient.Length - domain.Length;
            if (start > 0 && recipient[start - 1] is (byte)'@' or (byte)'.' && EqualsIgnoreCase(recipient[start..], domain))
            {
                return true;
            }
        }

        foreach (byte[] domain in _exactDomains)
        {
            int start = recipient.Length - domain.Length;
            if (start > 0 && recipient[start - 1] == (byte)'@' && EqualsIgnoreCase(recipient[start..], domain))
            {
                return true;
            }
        }

        if (_regexes.Length > 0)
        {
            Span<char> value = stackalloc char[recipient.Length];
            for (int i = 0; i < recipient.Length; i++)
            {
                value[i] = (char)recipient[i];
            }

            if (_regexSet.IsMatch(value))
            {
                return true;
            }
        }

        return false;
    }

    // "^user(?:\+[^@]+)?\@": the local part, an optional non-empty +extension, then '@' (returned in at).
    private static bool StartsWithUser(ReadOnlySpan<byte> recipient, byte[] user, out int at)
    {
        at = -1;
        if (recipient.Length <= user.Length || !EqualsIgnoreCase(recipient[..user.Length], user))
        {
            return false;
        }

        var rest = recipient[user.Length..];
        if (rest[0] == (byte)'@')
        {
            at = user.Length;
            return true;
        }

        if (rest[0] != (byte)'+')
        {
            return false;
        }

        int next = rest.IndexOf((byte)'@');
        if (next <= 1)
        {
            return false;
        }

        at = user.Length + next;
        return true;
    }

    // Perl's /i on byte strings: ASCII letters fold, every other byte must be equal.
    private static bool EqualsIgnoreCase(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (int i = 0; i < a.Length; i++)
        {
            int x = a[i] | 0x20;
            if (a[i] != b[i] && (x != (b[i] | 0x20) || x is < 'a' or > 'z'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Collects entries while files are parsed.</summary>
    public sealed class Builder
    {
        internal List<(byte[], byte[])> Addresses { get; } = [];

        internal List<byte[]> Users { get; } = [];

        internal List<byte[]> Domains { get; } = [];

        internal List<byte[]> ExactDomains { get; } = [];

        internal List<WhitelistRegex> Regexes { get; } = [];

        public void AddAddress(string user, string domain) => Addresses.Add((Encoding.UTF8.GetBytes(user), Encoding.UTF8.GetBytes(domain)));

        public void AddUser(string user) => Users.Add(Encoding.UTF8.GetBytes(user));

        public void AddDomain(string domain) => Domains.Add(Encoding.UTF8.GetBytes(domain));

        public void AddExactDomain(string domain) => ExactDomains.Add(Encoding.UTF8.GetBytes(domain));

        public void AddRegex(WhitelistRegex regex) => Regexes.Add(regex);

        public RecipientWhitelist Build() => new(this);
    }
}
