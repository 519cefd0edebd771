using System.Net;
using System.Runtime.CompilerServices;

namespace Greyd.Spf.Evaluation;

/// <summary>
/// RFC 7208's check_host(): fetches and evaluates the domain's SPF record over <see cref="ISpfDns"/>, with the
/// RFC's limits (10 DNS-querying terms, 2 void lookups, 10 MX or PTR names). Thread-safe; a check whose lookups
/// are all cached completes synchronously.
/// </summary>
public sealed class SpfEvaluator(ISpfDns dns)
{
    /// <summary>RFC 7208 section 4.6.4: terms that cause DNS queries.</summary>
    public const int MaxLookups = 10;

    /// <summary>RFC 7208 section 4.6.4: lookups answering NXDOMAIN or no records.</summary>
    public const int MaxVoidLookups = 2;

    /// <summary>RFC 7208 section 4.6.4: MX names looked up by one mx, PTR names considered by one ptr.</summary>
    internal const int MaxNameLookups = 10;

    private const string TooManyLookups = "too many DNS lookups";
    private const string TooManyVoidLookups = "too many void lookups";

    // Keyed on the TXT string instance the DNS cache hands out, so a warm check never parses and entries go with the answer.
    private readonly ConditionalWeakTable<string, SpfRecord> _records = new();

    /// <summary>
    /// check_host(<paramref name="client"/>, <paramref name="domain"/>, <paramref name="sender"/>), with
    /// <paramref name="helo"/> for the %{h} macro. Never throws for DNS trouble or a bad record (those are
    /// temperror and permerror); only cancellation throws.
    /// </summary>
    public async ValueTask<SpfCheck> CheckHostAsync(IPAddress client, string domain, string sender, string helo, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(domain);
        cancellationToken.ThrowIfCancellationRequested();
        string? name = SpfDomain.Normalize(domain);
        if (name is null)
        {
            // Section 4.3: a malformed or single-label domain is "none", without a query.
            return new SpfCheck(SpfResult.None, domain, "not a valid domain: " + SpfDomain.Printable(domain), 0);
        }
        SpfCheckContext context = new(client, sender ?? string.Empty, helo ?? string.Empty, name);
        SpfOutcome outcome = await CheckDomainAsync(context, name, nested: false, cancellationToken).ConfigureAwait(false);
        return new SpfCheck(outcome.Result, domain, outcome.Reason!, context.Lookups, outcome.Result == SpfResult.Pass && context.PassedAnyAddress);
    }

    /// <summary>Parses (or finds already parsed) a record selected by <see cref="SpfRecordParser.IsSpf1"/>.</summary>
    internal SpfRecord GetRecord(string text) => _records.GetValue(text, static t => SpfRecordParser.Parse(t));

    /// <summary>check_host() proper on a valid, normalized <paramref name="domain"/>: sections 4.4 to 6.</summary>
    private async ValueTask<SpfOutcome> CheckDomainAsync(SpfCheckContext context, string domain, bool nested, CancellationToken cancellationToken)
    {
        DnsAnswer<string> txt = await dns.GetTxtAsync(domain, cancellationToken).ConfigureAwait(false);
        if (txt.Status == DnsStatus.Failure)
        {
            return new SpfOutcome(SpfResult.TempError, "DNS error looking up TXT of " + SpfDomain.Printable(domain));
        }
        if (nested && txt.IsVoid && ++context.VoidLookups > MaxVoidLookups)
        {
            return new SpfOutcome(SpfResult.PermError, TooManyVoidLookups);
        }
        if (txt.Status == DnsStatus.NameError)
        {
            return new SpfOutcome(SpfResult.None, "domain does not exist");
        }
        string? text = null;
        IReadOnlyList<string> records = txt.Records;
        for (int i = 0; i < records.Count; i++)
        {
            if (SpfRecordParser.IsSpf1(records[i]))
            {
                if (text is not null)
                {
                    return new SpfOutcome(SpfResult.PermError, "more than one SPF record in " + SpfDomain.Printable(domain));
                }
                text = records[i];
            }
        }
        if (text is null)
        {
            return new SpfOutcome(SpfResult.None, "no SPF record");
        }
        SpfRecord record = GetRecord(text);
        if (record.Error is not null)
        {
            return new SpfOutcome(SpfResult.PermError, "syntax error in " + SpfDomain.Printable(domain) + ": " + record.Error);
        }

        SpfDirective[] directives = record.Directives;
        for (int i = 0; i < directives.Length; i++)
        {
            SpfDirective directive = directives[i];
            bool matched;
            switch (directive.Mechanism)
            {
                case SpfMechanism.All:
                    matched = true;
                    break;
                case SpfMechanism.Ip4:
                    matched = !context.IsIPv6 && (context.ClientV4 & SpfDirective.Ip4Mask(directive.Ip4Cidr)) == directive.Ip4Network;
                    break;
                case SpfMechanism.Ip6:
                    matched = context.IsIPv6 && (context.ClientV6 & SpfDirective.Ip6Mask(directive.Ip6Cidr)) == directive.Ip6Network;
                    break;
                default:
                    if (context.Lookups >= MaxLookups)
                    {
                        return new SpfOutcome(SpfResult.PermError, TooManyLookups);
                    }
                    context.Lookups++;
                    SpfOutcome outcome = await MatchDnsAsync(context, directive, domain, cancellationToken).ConfigureAwait(false);
                    if (outcome.IsNoMatch)
                    {
                        continue;
                    }
                    if (outcome.Result is SpfResult.TempError or SpfResult.PermError)
                    {
                        return outcome;
                    }
                    if (outcome.Reason is null)
                    {
                        context.PassedAnyAddress = directive.MatchesAnyAddress;
                    }
                    // A matching include: its qualifier, with the reason the included record gave.
                    return new SpfOutcome(directive.Qualifier, outcome.Reason ?? directive.ReasonIn(domain));
            }
            if (matched)
            {
                context.PassedAnyAddress = directive.MatchesAnyAddress;
                return new SpfOutcome(directive.Qualifier, directive.ReasonIn(domain));
            }
        }

        if (record.Redirect is null)
        {
            return new SpfOutcome(SpfResult.Neutral, "no match in " + SpfDomain.Printable(domain));
        }
        // Section 6.1: redirect is a DNS-querying term, and the target's result is this record's result.
        if (context.Lookups >= MaxLookups)
        {
            return new SpfOutcome(SpfResult.PermError, TooManyLookups);
        }
        context.Lookups++;
        string target = record.Redirect.ExpandDomain(context, domain);
        if (!SpfDomain.IsValid(target))
        {
            return new SpfOutcome(SpfResult.PermError, "invalid redirect target " + SpfDomain.Printable(target) + " in " + SpfDomain.Printable(domain));
        }
        SpfOutcome redirected = await CheckDomainAsync(context, target, nested: true, cancellationToken).ConfigureAwait(false);
        if (redirected.Result == SpfResult.None)
        {
            return new SpfOutcome(SpfResult.PermError, "no SPF record at redirect target " + SpfDomain.Printable(target));
        }
        return redirected;
    }

    /// <summary>
    /// The DNS-querying mechanisms (section 5): no match, a match (the include's reason, or Pass with a null reason
    /// meaning "use the directive's"), or a temperror/permerror that ends the evaluation.
    /// </summary>
    private async ValueTask<SpfOutcome> MatchDnsAsync(SpfCheckContext context, SpfDirective directive, string domain, CancellationToken cancellationToken)
    {
        string target = directive.DomainSpec is null ? domain : directive.DomainSpec.ExpandDomain(context, domain);
        if (directive.Mechanism == SpfMechanism.Include)
        {
            return await MatchIncludeAsync(context, target, domain, cancellationToken).ConfigureAwait(false);
        }
        if (directive.Mechanism == SpfMechanism.Ptr)
        {
            return await MatchPtrAsync(context, target, cancellationToken).ConfigureAwait(false);
        }
        if (!SpfDomain.IsValid(target))
        {
            // A name no DNS server could answer counts as the void lookup it would have been.
            return CountVoid(context);
        }
        switch (directive.Mechanism)
        {
            case SpfMechanism.A:
            {
                DnsAnswer<IPAddress> addresses = await dns.GetAddressesAsync(target, context.IsIPv6, cancellationToken).ConfigureAwait(false);
                if (addresses.Status == DnsStatus.Failure)
                {
                    return DnsError(context.IsIPv6 ? "AAAA" : "A", target);
                }
                if (addresses.IsVoid)
                {
                    return CountVoid(context);
                }
                return AnyMatches(context, addresses.Records, directive) ? Matched : SpfOutcome.NoMatch;
            }
            case SpfMechanism.Mx:
            {
                DnsAnswer<string> exchanges = await dns.GetMxAsync(target, cancellationToken).ConfigureAwait(false);
                if (exchanges.Status == DnsStatus.Failure)
                {
                    return DnsError("MX", target);
                }
                if (exchanges.IsVoid)
                {
                    return CountVoid(context);
                }
                IReadOnlyList<string> names = exchanges.Records;
                if (names.Count > MaxNameLookups)
                {
                    return new SpfOutcome(SpfResult.PermError, "more than 10 MX names for " + SpfDomain.Printable(target));
                }
                for (int i = 0; i < names.Count; i++)
                {
                    string exchange = names[i];
                    if (exchange.Length == 0 || exchange == ".")
                    {
                        // A null MX (RFC 7505) names no host.
                        continue;
                    }
                    // Address lookups of exchanges are not void lookups: a v4-only MX host seen by a v6 client is normal.
                    DnsAnswer<IPAddress> addresses = await dns.GetAddressesAsync(exchange, context.IsIPv6, cancellationToken).ConfigureAwait(false);
                    if (addresses.Status == DnsStatus.Failure)
                    {
                        return DnsError(context.IsIPv6 ? "AAAA" : "A", exchange);
                    }
                    if (AnyMatches(context, addresses.Records, directive))
                    {
                        return Matched;
                    }
                }
                return SpfOutcome.NoMatch;
            }
            default:
            {
                // exists: always an A query, whatever the client's address family (section 5.7).
                DnsAnswer<IPAddress> addresses = await dns.GetAddressesAsync(target, ipv6: false, cancellationToken).ConfigureAwait(false);
                if (addresses.Status == DnsStatus.Failure)
                {
                    return DnsError("A", target);
                }
                return addresses.IsVoid ? CountVoid(context) : Matched;
            }
        }
    }

    /// <summary>Section 5.2: Pass matches; Fail, SoftFail and Neutral do not; None is a permerror.</summary>
    private async ValueTask<SpfOutcome> MatchIncludeAsync(SpfCheckContext context, string target, string domain, CancellationToken cancellationToken)
    {
        if (!SpfDomain.IsValid(target))
        {
            return new SpfOutcome(SpfResult.PermError, "invalid include target " + SpfDomain.Printable(target) + " in " + SpfDomain.Printable(domain));
        }
        SpfOutcome included = await CheckDomainAsync(context, target, nested: true, cancellationToken).ConfigureAwait(false);
        if (included.Result != SpfResult.Pass)
        {
            // The included record's match did not decide: the evaluation goes on, or ends without a pass.
            context.PassedAnyAddress = false;
        }

        return included.Result switch
        {
            SpfResult.Pass => included,
            SpfResult.Fail or SpfResult.SoftFail or SpfResult.Neutral => SpfOutcome.NoMatch,
            SpfResult.None => new SpfOutcome(SpfResult.PermError, "no SPF record at include target " + SpfDomain.Printable(target)),
            _ => included,
        };
    }

    /// <summary>
    /// Section 5.5: the client's PTR names (at most 10), each validated by a forward lookup that must give the
    /// client back; matches when a validated name is the target or under it. Only names that would match are
    /// validated, which saves queries and gives the same answer.
    /// </summary>
    private async ValueTask<SpfOutcome> MatchPtrAsync(SpfCheckContext context, string target, CancellationToken cancellationToken)
    {
        DnsAnswer<string> names = await dns.GetPtrAsync(context.Client, cancellationToken).ConfigureAwait(false);
        if (names.Status == DnsStatus.Failure)
        {
            // Section 5.5: a DNS error on the PTR lookup makes the mechanism not match.
            return SpfOutcome.NoMatch;
        }
        if (names.IsVoid)
        {
            return CountVoid(context);
        }
        int count = Math.Min(names.Records.Count, MaxNameLookups);
        for (int i = 0; i < count; i++)
        {
            string name = names.Records[i];
            if (name.EndsWith('.'))
            {
                name = name[..^1];
            }
            if (!SpfDomain.IsSameOrSubdomain(name, target))
            {
                continue;
            }
            DnsAnswer<IPAddress> addresses = await dns.GetAddressesAsync(name, context.IsIPv6, cancellationToken).ConfigureAwait(false);
            // Section 5.5: a DNS error on a forward lookup skips that name.
            IReadOnlyList<IPAddress> records = addresses.Records;
            for (int j = 0; j < records.Count; j++)
            {
                if (context.Matches(records[j], 32, 128))
                {
                    return Matched;
                }
            }
        }
        return SpfOutcome.NoMatch;
    }

    /// <summary>A match whose reason is the directive's own.</summary>
    private static SpfOutcome Matched => new(SpfResult.Pass, null);

    private static bool AnyMatches(SpfCheckContext context, IReadOnlyList<IPAddress> addresses, SpfDirective directive)
    {
        for (int i = 0; i < addresses.Count; i++)
        {
            if (context.Matches(addresses[i], directive.Ip4Cidr, directive.Ip6Cidr))
            {
                return true;
            }
        }
        return false;
    }

    private static SpfOutcome CountVoid(SpfCheckContext context)
        => ++context.VoidLookups > MaxVoidLookups ? new SpfOutcome(SpfResult.PermError, TooManyVoidLookups) : SpfOutcome.NoMatch;

    private static SpfOutcome DnsError(string type, string name)
        => new(SpfResult.TempError, "DNS error looking up " + type + " of " + SpfDomain.Printable(name));
}
