namespace Greyd.Spf;

/// <summary>The outcome of one check_host() evaluation.</summary>
/// <param name="Result">RFC 7208's result.</param>
/// <param name="Domain">The domain that was checked (the sender's domain).</param>
/// <param name="Reason">Why, in a few words: the mechanism that matched, or the error (for logs and explain).</param>
/// <param name="Lookups">DNS-querying terms evaluated (include, a, mx, ptr, exists, redirect), at most 10.</param>
/// <param name="PassesAnyAddress">
/// A pass that came from a term matching a large part of all addresses (<c>+all</c>, <c>ip4:0.0.0.0/1</c>): the record
/// authorises everyone, so it names no pool of servers.
/// </param>
public readonly record struct SpfCheck(SpfResult Result, string Domain, string Reason, int Lookups, bool PassesAnyAddress = false);
