namespace Greyd.Spf.Evaluation;

/// <summary>
/// One parsed directive (RFC 7208 section 4.6.2): qualifier, mechanism, domain-spec and networks, the networks
/// already masked so matching an ip4/ip6 term is two integer operations.
/// </summary>
internal sealed class SpfDirective
{
    private Reason? _reason;

    public required string Text { get; init; }

    /// <summary>The qualifier as the result it gives on a match: Pass, Fail, SoftFail or Neutral.</summary>
    public required SpfResult Qualifier { get; init; }

    public required SpfMechanism Mechanism { get; init; }

    /// <summary>include/exists target, or a/mx/ptr's explicit domain; null means the current domain.</summary>
    public SpfMacroString? DomainSpec { get; init; }

    /// <summary>ip4-cidr-length for ip4, a and mx.</summary>
    public int Ip4Cidr { get; init; } = 32;

    /// <summary>ip6-cidr-length for ip6, a and mx.</summary>
    public int Ip6Cidr { get; init; } = 128;

    /// <summary>ip4's network, masked.</summary>
    public uint Ip4Network { get; init; }

    /// <summary>ip6's network, masked.</summary>
    public UInt128 Ip6Network { get; init; }

    /// <summary>True when the directive is a DNS-querying term (section 4.6.4).</summary>
    public bool QueriesDns => Mechanism is SpfMechanism.Include or SpfMechanism.A or SpfMechanism.Mx or SpfMechanism.Ptr or SpfMechanism.Exists;

    /// <summary>
    /// The term matches a large part of the whole address space (all, or a prefix shorter than /8 or /16): a pass
    /// by it says nothing about who the sender's servers are.
    /// </summary>
    public bool MatchesAnyAddress => Mechanism switch
    {
        SpfMechanism.All => true,
        SpfMechanism.Ip4 => Ip4Cidr < 8,
        SpfMechanism.Ip6 => Ip6Cidr < 16,
        SpfMechanism.A or SpfMechanism.Mx => Ip4Cidr < 8 || Ip6Cidr < 16,
        _ => false,
    };

    public static uint Ip4Mask(int cidr) => cidr == 0 ? 0 : uint.MaxValue << (32 - cidr);

    public static UInt128 Ip6Mask(int cidr) => cidr == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - cidr);

    /// <summary>"term in domain", kept for the last domain so a warm check does not build it again.</summary>
    public string ReasonIn(string domain)
    {
        Reason? reason = _reason;
        if (reason is null || !string.Equals(reason.Domain, domain, StringComparison.Ordinal))
        {
            reason = new Reason(domain, Text + " in " + SpfDomain.Printable(domain));
            _reason = reason;
        }
        return reason.Text;
    }

    /// <summary>An immutable pair, so threads swapping the cached reason never see a torn one.</summary>
    private sealed record Reason(string Domain, string Text);
}
