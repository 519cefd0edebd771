using System.Collections.Concurrent;
using System.Text;

namespace Greyd.Hosting.Reporting;

/// <summary>
/// The counts of one UTC day of first sightings, per sender domain. At most <c>cap</c> domains; later ones are
/// counted as <see cref="SenderDomain.Other"/> and the day is marked capped, so random spam domains bound memory.
/// </summary>
internal sealed class LedgerDay
{
    private static readonly byte[] s_otherKey = Encoding.ASCII.GetBytes(SenderDomain.Other);

    private readonly ConcurrentDictionary<byte[], DomainCounts> _domains = new(DomainKeyComparer.Instance);
    private readonly ConcurrentDictionary<byte[], DomainCounts>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private readonly int _cap;
    private int _count;
    private int _capped;
    private int _dirty;
    private DomainCounts? _other;

    public LedgerDay(int day, int cap, bool loaded)
    {
        Day = day;
        _cap = cap;
        Loaded = loaded;
        _lookup = _domains.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    /// <summary>Days since 1970-01-01 (UTC).</summary>
    public int Day { get; }

    /// <summary>True once the day's file (if any) has been added in; a day made by a request starts false.</summary>
    public bool Loaded { get; set; }

    /// <summary>True when some domains of the day were counted as <see cref="SenderDomain.Other"/>.</summary>
    public bool Capped => Volatile.Read(ref _capped) != 0;

    public IEnumerable<KeyValuePair<byte[], DomainCounts>> Domains => _domains;

    /// <summary>The counts of a domain key, made on first use (allocates only then).</summary>
    public DomainCounts Counts(ReadOnlySpan<byte> key)
    {
        if (_lookup.TryGetValue(key, out var counts))
        {
            return counts;
        }

        if (key.SequenceEqual(s_otherKey))
        {
            return Other();
        }

        if (Interlocked.Increment(ref _count) > _cap)
        {
            Interlocked.Decrement(ref _count);
            MarkCapped();
            return Other();
        }

        counts = new DomainCounts();
        if (_lookup.TryAdd(key, counts))
        {
            return counts;
        }

        // Another request added it first.
        Interlocked.Decrement(ref _count);
        return _lookup.TryGetValue(key, out var added) ? added : counts;
    }

    // Kept in a field: past the cap every new domain lands here, and must not allocate.
    private DomainCounts Other()
    {
        var other = Volatile.Read(ref _other);
        if (other is null)
        {
            other = _domains.GetOrAdd(s_otherKey, static _ => new DomainCounts());
            Volatile.Write(ref _other, other);
        }

        return other;
    }

    public void MarkCapped() => Volatile.Write(ref _capped, 1);

    /// <summary>Called after counting; the read first keeps the hot path from writing a shared line every time.</summary>
    public void MarkDirty()
    {
        if (Volatile.Read(ref _dirty) == 0)
        {
            Volatile.Write(ref _dirty, 1);
        }
    }

    /// <summary>True when counts changed since the last call: the caller writes them now.</summary>
    public bool TakeDirty() => Interlocked.Exchange(ref _dirty, 0) != 0;

    /// <summary>Adds another copy of this day (its file) into this one.</summary>
    public void Add(LedgerDay other)
    {
        foreach (var (key, counts) in other._domains)
        {
            Counts(key).Add(counts);
        }

        if (other.Capped)
        {
            MarkCapped();
        }
    }
}
