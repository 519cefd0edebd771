namespace Greyd.Spf.Dns;

/// <summary>What an <see cref="SpfDnsResolver"/> did since it started.</summary>
/// <param name="Queries">Queries sent (one per cache miss that no other request had already sent).</param>
/// <param name="CacheHits">Lookups answered from the cache.</param>
/// <param name="Joined">Lookups that waited for a query another request had sent.</param>
/// <param name="Failures">Queries that ended in SERVFAIL, another error or a timeout.</param>
/// <param name="Evictions">Answers dropped to keep the cache within its bound.</param>
/// <param name="Entries">Answers in the cache now.</param>
public readonly record struct SpfDnsStatistics(long Queries, long CacheHits, long Joined, long Failures, long Evictions, int Entries);
