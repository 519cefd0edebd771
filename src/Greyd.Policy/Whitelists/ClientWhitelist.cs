using System.Collections.Frozen;

namespace Greyd.Policy.Whitelists;

/// <summary>
/// The client whitelist: host-name suffixes and regexes matched against Postfix's verified <c>client_name</c>, and
/// addresses and networks matched against the client's IP. Immutable once built, so it can be swapped on reload.
/// </summary>
public sealed class ClientWhitelist
{
    public static readonly ClientWhitelist Empty = new Builder().Build();

    private readonly FrozenSet<string> _suffixes;
    private readonly FrozenSet<string> _subdomainSuffixes;
    private readonly WhitelistRegex[] _regexes;
    private readonly WhitelistRegexSet _regexSet;
    private readonly (UInt128 Network, int Prefix, bool IsIPv6)[] _networks;

    private ClientWhitelist(Builder builder)
    {
        _suffixes = builder.Suffixes.ToFrozenSet(StringComparer.Ordinal);
        _subdomainSuffixes = builder.SubdomainSuffixes.ToFrozenSet(StringComparer.Ordinal);
        _regexes = [.. builder.Regexes];
        _regexSet = new WhitelistRegexSet(_regexes);
        _networks = [.. builder.Networks];
        Count = _suffixes.Count + _subdomainSuffixes.Count + _regexes.Length + _networks.Length;
    }

    public int Count { get; }

    public IReadOnlyList<WhitelistRegex> Regexes => _regexes;

    /// <summary>True when the client name or the client address is whitelisted (postgrey's steps 3 and 4).</summary>
    public bool IsMatch(ReadOnlySpan<byte> clientName, ClientAddress address)
    {
        // An empty name still meets the regexes, as in postgrey (an entry such as /^$/ matches it).
        return IsNameMatch(clientName) || IsAddressMatch(address);
    }

    private bool IsNameMatch(ReadOnlySpan<byte> clientName)
    {
        // Bytes are read as Latin-1, one char each, as Perl reads a byte string.
        Span<char> name = stackalloc char[clientName.Length];
        for (int i = 0; i < clientName.Length; i++)
        {
            name[i] = (char)clientName[i];
        }

        if (_regexSet.IsMatch(name))
        {
            return true;
        }

        if (_suffixes.Count == 0 && _subdomainSuffixes.Count == 0)
        {
            return false;
        }

        for (int i = 0; i < name.Length; i++)
        {
            if (name[i] is >= 'A' and <= 'Z')
            {
                name[i] = (char)(name[i] + 32);
            }
        }

        var suffixes = _suffixes.GetAlternateLookup<ReadOnlySpan<char>>();
        var subdomains = _subdomainSuffixes.GetAlternateLookup<ReadOnlySpan<char>>();
        if (suffixes.Contains(name))
        {
            return true;
        }

        for (int i = 0; i < name.Length; i++)
        {
            if (name[i] == '.' && (suffixes.Contains(name[(i + 1)..]) || subdomains.Contains(name[(i + 1)..])))
            {
                return true;
            }
        }

        return false;
    }

    private bool IsAddressMatch(ClientAddress address)
    {
        foreach (var (network, prefix, isIPv6) in _networks)
        {
            if (isIPv6 == address.IsIPv6 && address.Network(prefix).Value == network)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Collects entries while files are parsed.</summary>
    public sealed class Builder
    {
        internal HashSet<string> Suffixes { get; } = new(StringComparer.Ordinal);

        internal HashSet<string> SubdomainSuffixes { get; } = new(StringComparer.Ordinal);

        internal List<WhitelistRegex> Regexes { get; } = [];

        internal List<(UInt128, int, bool)> Networks { get; } = [];

        /// <summary>A host name: matches the name itself and every name below it.</summary>
        public void AddSuffix(string suffix) => Suffixes.Add(ToMatchForm(suffix));

        /// <summary>A <c>*.domain</c> entry: matches every name below the domain, not the domain itself.</summary>
        public void AddSubdomainSuffix(string domain) => SubdomainSuffixes.Add(ToMatchForm(domain));

        public void AddRegex(WhitelistRegex regex) => Regexes.Add(regex);

        /// <summary>An address or network; host bits are ignored, so the entry covers the whole enclosing network.</summary>
        public void AddNetwork(ClientAddress address, int prefix) =>
            Networks.Add((address.Network(prefix).Value, prefix, address.IsIPv6));

        public ClientWhitelist Build() => new(this);

        // The UTF-8 bytes one char each with ASCII letters lowered: the form IsNameMatch compares client names in.
        private static string ToMatchForm(string name)
        {
            char[] chars = WhitelistRegex.ToByteChars(name).ToCharArray();
            for (int i = 0; i < chars.Length; i++)
            {
                if (chars[i] is >= 'A' and <= 'Z')
                {
                    chars[i] = (char)(chars[i] + 32);
                }
            }

            return new string(chars);
        }
    }
}
