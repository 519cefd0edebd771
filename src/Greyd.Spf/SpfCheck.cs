namespace Greyd.Spf;

/// <summary>The outcome of one check_host() evaluation.</summary>
/// <param name="Result">RFC 7208's result.</param>
/// <param name="Domain">The domain that was checked (the sender's domain).</param>
/// <param name="Reason">Why, in a few words: the mechanism that matched, or the error (for logs and explain).</param>
/// <param name="Lookups">DNS-querying terms evaluated (include, a, mx, ptr, exists, redirect), at most 10.</param>
public readonly record struct SpfCheck(SpfResult Result, string Domain, string Reason, int Lookups);
