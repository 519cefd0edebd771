namespace Greyd.Policy;

/// <summary>The greylisting settings, with postgrey's defaults. Validated by the command line before use.</summary>
public sealed class GreylistOptions
{
    public const string DefaultGreylistText = "Greylisted by greyd, try again later";
    public const string DefaultXGreylistHeader = "X-Greylist: delayed %t seconds by greyd-%v at %h; %d";

    /// <summary>Seconds a new triplet is greylisted (<c>--delay</c>).</summary>
    public int Delay { get; init; } = 300;

    /// <summary>Days after its last sighting that a triplet or AWL client is forgotten (<c>--max-age</c>).</summary>
    public int MaxAgeDays { get; init; } = 35;

    /// <summary>Seconds from first sighting in which a retry must come (<c>--retry-window</c>, default 2 days).</summary>
    public long RetryWindow { get; init; } = 2 * 86400;

    public string GreylistAction { get; init; } = "DEFER_IF_PERMIT";

    public string GreylistText { get; init; } = DefaultGreylistText;

    public string XGreylistHeader { get; init; } = DefaultXGreylistHeader;

    /// <summary>Key triplets by the whole client address instead of its network (<c>--lookup-by-host</c>).</summary>
    public bool LookupByHost { get; init; }

    public int IPv4Cidr { get; init; } = 24;

    public int IPv6Cidr { get; init; } = 64;

    /// <summary>Store SHA-1 digests instead of addresses (<c>--privacy</c>).</summary>
    public bool Privacy { get; init; }

    /// <summary>Substituted for <c>%h</c> in the X-Greylist header.</summary>
    public string Hostname { get; init; } = "localhost";

    /// <summary>Passes a client needs before it is auto-whitelisted; 0 turns the AWL off.</summary>
    public int AutoWhitelistClients { get; init; } = 5;

    /// <summary>Honour the <c>policy_test_time</c> attribute (testing only: any client could whitelist any triplet).</summary>
    public bool AllowPolicyTestTime { get; init; }

    public long MaxAge => MaxAgeDays * 86400L;
}
