using System.Collections.Concurrent;
using System.Net;
using System.Runtime.CompilerServices;
using DnsClient;
using DnsClient.Protocol;

namespace Greyd.Spf.Dns;

/// <summary>
/// <see cref="ISpfDns"/> over DnsClient: answers cached by TTL (negative answers by the SOA minimum, failures
/// briefly), one query in flight per name and type however many requests ask, a bounded cache.
/// </summary>
/// <remarks>
/// DnsClient's own cache is off: this one keeps finished <see cref="DnsAnswer{T}"/> objects, so a hit is a
/// completed <see cref="ValueTask{TResult}"/> with no allocation and no thread hop. A query, once sent, runs to
/// the end whoever asked for it and cancels their wait; its answer fills the cache for the next request.
/// TTLs run on the <see cref="TimeProvider"/> given; the wire's timeouts run on real time (QueryTimeout per try,
/// QueryTimeout × (Attempts + ¼) for a whole lookup, TCP fallback included). Names that DnsClient cannot encode (a label
/// over 63 octets) come back as <see cref="DnsStatus.Failure"/> like any other trouble: callers check names first.
/// </remarks>
public sealed class SpfDnsResolver : ISpfDns, IDisposable
{
    private static readonly DnsAnswer<string> TextFailure = new(DnsStatus.Failure, []);
    private static readonly DnsAnswer<string> TextNameError = new(DnsStatus.NameError, []);
    private static readonly DnsAnswer<string> TextNoData = new(DnsStatus.Ok, []);
    private static readonly DnsAnswer<IPAddress> AddressFailure = new(DnsStatus.Failure, []);
    private static readonly DnsAnswer<IPAddress> AddressNameError = new(DnsStatus.NameError, []);
    private static readonly DnsAnswer<IPAddress> AddressNoData = new(DnsStatus.Ok, []);

    private readonly LookupClient _client;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _deadline;
    private readonly TimeSpan _maxTtl;
    private readonly TimeSpan _negativeTtl;
    private readonly TimeSpan _failureTtl;
    private readonly int _maxEntries;
    private readonly ConcurrentDictionary<CacheKey, Entry> _cache = new(CacheKeyComparer.Instance);
    private readonly ConcurrentDictionary<CacheKey, Task<object>> _inflight = new(CacheKeyComparer.Instance);
    private readonly Lock _sweepLock = new();
    private readonly CancellationTokenSource _disposed = new();
    private int _count;
    private long _sequence;
    private long _queries;
    private long _hits;
    private long _joined;
    private long _failures;
    private long _evictions;

    public SpfDnsResolver(SpfDnsOptions options, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.QueryTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Attempts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxEntries, 1);

        _clock = clock;
        _maxEntries = options.MaxEntries;
        _maxTtl = options.MaxTtl;
        _negativeTtl = options.NegativeTtl;
        _failureTtl = options.FailureTtl;
        // A quarter of a try to spare, so a first try that started late does not cut the last one short.
        _deadline = (options.QueryTimeout * options.Attempts) + (options.QueryTimeout / 4);

        var servers = options.Servers.Count > 0 ? options.Servers.ToArray() : SystemServers();
        Servers = servers;

        // DnsClient tries each server (Retries + 1) times; spread the attempts over the servers, so that a dead first
        // server leaves time for the next. The deadline above bounds the whole, TCP fallback included.
        var perServer = (options.Attempts + servers.Length - 1) / servers.Length;
        _client = new LookupClient(new LookupClientOptions(servers)
        {
            AutoResolveNameServers = false,
            UseCache = false,
            ThrowDnsErrors = false,
            ContinueOnDnsError = true,
            ContinueOnEmptyResponse = false,
            UseRandomNameServer = false,
            UseTcpFallback = true,
            Recursion = true,
            Timeout = options.QueryTimeout,
            Retries = perServer - 1,
            EnableAuditTrail = false,
        });
    }

    /// <summary>The resolvers asked, in order.</summary>
    public IReadOnlyList<IPEndPoint> Servers { get; }

    /// <summary>What the resolver did so far: for metrics and tests.</summary>
    public SpfDnsStatistics Statistics => new(
        Interlocked.Read(ref _queries),
        Interlocked.Read(ref _hits),
        Interlocked.Read(ref _joined),
        Interlocked.Read(ref _failures),
        Interlocked.Read(ref _evictions),
        Volatile.Read(ref _count));

    public ValueTask<DnsAnswer<string>> GetTxtAsync(string name, CancellationToken cancellationToken)
        => GetAsync<string>(new CacheKey(QueryType.TXT, name, null), cancellationToken);

    public ValueTask<DnsAnswer<IPAddress>> GetAddressesAsync(string name, bool ipv6, CancellationToken cancellationToken)
        => GetAsync<IPAddress>(new CacheKey(ipv6 ? QueryType.AAAA : QueryType.A, name, null), cancellationToken);

    public ValueTask<DnsAnswer<string>> GetMxAsync(string name, CancellationToken cancellationToken)
        => GetAsync<string>(new CacheKey(QueryType.MX, name, null), cancellationToken);

    public ValueTask<DnsAnswer<string>> GetPtrAsync(IPAddress address, CancellationToken cancellationToken)
        => GetAsync<string>(new CacheKey(QueryType.PTR, null, address), cancellationToken);

    public void Dispose()
    {
        if (!_disposed.IsCancellationRequested)
        {
            _disposed.Cancel();
        }
    }

    private static IPEndPoint[] SystemServers()
    {
        try
        {
            var found = NameServer.ResolveNameServers(skipIPv6SiteLocal: true, fallbackToGooglePublicDns: false);
            if (found.Count > 0)
            {
                return [.. found.Select(server => new IPEndPoint(IPAddress.Parse(server.Address), server.Port))];
            }
        }
        catch (InvalidOperationException)
        {
        }

        // What the C library does with no nameserver line in resolv.conf.
        return [new IPEndPoint(IPAddress.Loopback, 53)];
    }

    private ValueTask<DnsAnswer<T>> GetAsync<T>(CacheKey key, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(key, out var entry) && entry.Expires > _clock.GetTimestamp())
        {
            Interlocked.Increment(ref _hits);
            return new ValueTask<DnsAnswer<T>>(Unsafe.As<DnsAnswer<T>>(entry.Answer));
        }

        return MissAsync<T>(key.Normalized(), cancellationToken);
    }

    private async ValueTask<DnsAnswer<T>> MissAsync<T>(CacheKey key, CancellationToken cancellationToken)
    {
        // A caller that has already given up sends no query.
        cancellationToken.ThrowIfCancellationRequested();
        Task<object> flight;
        while (true)
        {
            if (_inflight.TryGetValue(key, out var running))
            {
                Interlocked.Increment(ref _joined);
                flight = running;
                break;
            }

            var source = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_inflight.TryAdd(key, source.Task))
            {
                flight = source.Task;

                // The query that just finished may have filled the cache between our look and our TryAdd.
                if (_cache.TryGetValue(key, out var entry) && entry.Expires > _clock.GetTimestamp())
                {
                    _inflight.TryRemove(new KeyValuePair<CacheKey, Task<object>>(key, flight));
                    source.SetResult(entry.Answer);
                    Interlocked.Increment(ref _hits);
                    return Unsafe.As<DnsAnswer<T>>(entry.Answer);
                }

                // Not awaited here: it runs to its end even when this caller stops waiting.
                _ = RunAsync(key, source);
                break;
            }
        }

        var answer = await flight.WaitAsync(cancellationToken).ConfigureAwait(false);
        return Unsafe.As<DnsAnswer<T>>(answer);
    }

    private async Task RunAsync(CacheKey key, TaskCompletionSource<object> flight)
    {
        Interlocked.Increment(ref _queries);
        object answer;
        TimeSpan ttl;
        try
        {
            (answer, ttl) = await QueryAsync(key).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // DnsResponseException (timeouts, no server reachable), socket errors, a malformed answer, our deadline.
            (answer, ttl) = (Failure(key.Type), _failureTtl);
        }

        if (ReferenceEquals(answer, TextFailure) || ReferenceEquals(answer, AddressFailure))
        {
            Interlocked.Increment(ref _failures);
        }

        if (!_disposed.IsCancellationRequested)
        {
            Store(key, answer, ttl);
        }

        _inflight.TryRemove(new KeyValuePair<CacheKey, Task<object>>(key, flight.Task));
        flight.SetResult(answer);
    }

    private async Task<(object Answer, TimeSpan Ttl)> QueryAsync(CacheKey key)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_disposed.Token);
        deadline.CancelAfter(_deadline);

        var response = key.Address is { } address
            ? await _client.QueryReverseAsync(address, deadline.Token).ConfigureAwait(false)
            : await _client.QueryAsync(key.Name!, key.Type, QueryClass.IN, deadline.Token).ConfigureAwait(false);

        switch (response.Header.ResponseCode)
        {
            case DnsHeaderResponseCode.NoError:
                break;
            case DnsHeaderResponseCode.NotExistentDomain:
                return (NameError(key.Type), NegativeTtl(response));
            default:
                return (Failure(key.Type), _failureTtl);
        }

        var answers = response.Answers;
        object? answer = key.Type switch
        {
            QueryType.TXT => Collect(answers, static (TxtRecord txt) => string.Concat(txt.Text)),
            QueryType.MX => Collect(answers, static (MxRecord mx) => WithoutDot(mx.Exchange.Value)),
            QueryType.PTR => Collect(answers, static (PtrRecord ptr) => WithoutDot(ptr.PtrDomainName.Value)),
            QueryType.A => Collect(answers, static (ARecord a) => a.Address),
            QueryType.AAAA => Collect(answers, static (AaaaRecord aaaa) => aaaa.Address),
            _ => throw new InvalidOperationException("not a query type SPF makes"),
        };

        if (answer is null)
        {
            // NODATA: the name exists without records of this type (a CNAME alone counts as none).
            return (NoData(key.Type), NegativeTtl(response));
        }

        var ttl = int.MaxValue;
        foreach (var record in answers)
        {
            ttl = Math.Min(ttl, record.InitialTimeToLive);
        }

        return (answer, Clamp(TimeSpan.FromSeconds(Math.Max(ttl, 0))));
    }

    // Only records of the type asked for: the resolver may put the CNAMEs it followed before them.
    private static DnsAnswer<T>? Collect<TRecord, T>(IReadOnlyList<DnsResourceRecord> answers, Func<TRecord, T> value)
        where TRecord : DnsResourceRecord
    {
        List<T>? records = null;
        foreach (var record in answers)
        {
            if (record is TRecord typed)
            {
                (records ??= []).Add(value(typed));
            }
        }

        return records is null ? null : new DnsAnswer<T>(DnsStatus.Ok, records.ToArray());
    }

    private static string WithoutDot(string name) => name.EndsWith('.') ? name[..^1] : name;

    /// <summary>RFC 2308 section 5: the smaller of the SOA record's TTL and its MINIMUM field.</summary>
    private TimeSpan NegativeTtl(IDnsQueryResponse response)
    {
        foreach (var record in response.Authorities)
        {
            if (record is SoaRecord soa)
            {
                var seconds = Math.Min((long)Math.Max(soa.InitialTimeToLive, 0), soa.Minimum);
                return Clamp(TimeSpan.FromSeconds(seconds));
            }
        }

        return Clamp(_negativeTtl);
    }

    private TimeSpan Clamp(TimeSpan ttl)
    {
        if (ttl < TimeSpan.FromSeconds(1))
        {
            ttl = TimeSpan.FromSeconds(1);
        }

        return ttl > _maxTtl ? _maxTtl : ttl;
    }

    private static object Failure(QueryType type) => IsAddress(type) ? AddressFailure : TextFailure;

    private static object NameError(QueryType type) => IsAddress(type) ? AddressNameError : TextNameError;

    private static object NoData(QueryType type) => IsAddress(type) ? AddressNoData : TextNoData;

    private static bool IsAddress(QueryType type) => type is QueryType.A or QueryType.AAAA;

    private void Store(CacheKey key, object answer, TimeSpan ttl)
    {
        if (ttl <= TimeSpan.Zero)
        {
            return;
        }

        var now = _clock.GetTimestamp();
        var entry = new Entry(answer, now + (long)(ttl.TotalSeconds * _clock.TimestampFrequency), Interlocked.Increment(ref _sequence));
        while (true)
        {
            if (_cache.TryGetValue(key, out var old))
            {
                if (_cache.TryUpdate(key, entry, old))
                {
                    return;
                }
            }
            else
            {
                if (Volatile.Read(ref _count) >= _maxEntries)
                {
                    Sweep(now);
                }

                if (_cache.TryAdd(key, entry))
                {
                    Interlocked.Increment(ref _count);
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Makes room when the cache is full: drops the expired answers, then, if that freed less than a tenth, the
    /// oldest ones down to nine tenths. Each sweep is one pass over the cache and frees a tenth of it, so its cost
    /// spread over the inserts that filled that tenth is constant.
    /// </summary>
    private void Sweep(long now)
    {
        lock (_sweepLock)
        {
            if (Volatile.Read(ref _count) < _maxEntries)
            {
                return;
            }

            foreach (var pair in _cache)
            {
                if (pair.Value.Expires <= now)
                {
                    Remove(pair);
                }
            }

            var keep = _maxEntries - Math.Max(1, _maxEntries / 10);
            if (Volatile.Read(ref _count) > keep)
            {
                // Sequence numbers are unique, so at most `keep` entries are newer than this.
                var cutoff = Interlocked.Read(ref _sequence) - keep;
                foreach (var pair in _cache)
                {
                    if (pair.Value.Sequence <= cutoff)
                    {
                        Remove(pair);
                    }
                }
            }
        }
    }

    private void Remove(KeyValuePair<CacheKey, Entry> pair)
    {
        if (_cache.TryRemove(pair))
        {
            Interlocked.Decrement(ref _count);
            Interlocked.Increment(ref _evictions);
        }
    }

    private sealed class Entry(object answer, long expires, long sequence)
    {
        public object Answer { get; } = answer;
        public long Expires { get; } = expires;
        public long Sequence { get; } = sequence;
    }

    /// <summary>(type, name) or, for PTR, (type, address). Names compare without case and without a trailing dot.</summary>
    private readonly struct CacheKey(QueryType type, string? name, IPAddress? address)
    {
        public QueryType Type { get; } = type;
        public string? Name { get; } = name;
        public IPAddress? Address { get; } = address;

        public ReadOnlySpan<char> Trimmed => Name is null ? default : Name.EndsWith('.') ? Name.AsSpan(0, Name.Length - 1) : Name.AsSpan();

        /// <summary>The key as stored: lower case, no trailing dot (allocates only when the name needs it).</summary>
        public CacheKey Normalized()
        {
            if (Name is null)
            {
                return this;
            }

            var trimmed = Trimmed;
            foreach (var c in trimmed)
            {
                if (char.IsAsciiLetterUpper(c) || c > '\x7f')
                {
                    return new CacheKey(Type, trimmed.ToString().ToLowerInvariant(), Address);
                }
            }

            return trimmed.Length == Name.Length ? this : new CacheKey(Type, trimmed.ToString(), Address);
        }
    }

    private sealed class CacheKeyComparer : IEqualityComparer<CacheKey>
    {
        public static readonly CacheKeyComparer Instance = new();

        public bool Equals(CacheKey x, CacheKey y)
        {
            if (x.Type != y.Type)
            {
                return false;
            }

            if (x.Address is not null || y.Address is not null)
            {
                return x.Address is not null && x.Address.Equals(y.Address);
            }

            return x.Trimmed.Equals(y.Trimmed, StringComparison.OrdinalIgnoreCase);
        }

        public int GetHashCode(CacheKey key) => key.Address is { } address
            ? HashCode.Combine(key.Type, address)
            : HashCode.Combine(key.Type, string.GetHashCode(key.Trimmed, StringComparison.OrdinalIgnoreCase));
    }
}
