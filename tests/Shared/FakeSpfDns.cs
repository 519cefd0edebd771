using System.Collections.Concurrent;
using System.Net;
using Greyd.Spf;

namespace Greyd.Tests.Shared;

/// <summary>
/// An in-memory <see cref="ISpfDns"/> for tests: zones filled by hand (TXT, A, AAAA, MX, PTR), names that fail,
/// per-name delays and hangs, and a count of every query. Answers complete synchronously unless a delay or hang
/// is set, like a warm DNS cache. A name is NXDOMAIN unless some record (or <see cref="AddName"/>) created it.
/// </summary>
public sealed class FakeSpfDns : ISpfDns
{
    private readonly ConcurrentDictionary<string, byte> _names = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, DnsAnswer<string>> _txt = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, DnsAnswer<IPAddress>> _a = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, DnsAnswer<IPAddress>> _aaaa = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, DnsAnswer<string>> _mx = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, DnsAnswer<string>> _ptr = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, byte> _failures = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, TimeSpan> _delays = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, byte> _hangs = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, int> _queries = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<string> _log = new();

    /// <summary>Every query so far, in order, as "TYPE name" (PTR names are the address, e.g. "PTR 192.0.2.1").</summary>
    public IReadOnlyCollection<string> QueryLog => _log;

    /// <summary>All queries so far.</summary>
    public int TotalQueries => _log.Count;

    /// <summary>Queries of <paramref name="type"/> ("TXT", "A", "AAAA", "MX", "PTR") for <paramref name="name"/>.</summary>
    public int Queries(string type, string name) => _queries.TryGetValue(Key(type, Normalize(name)), out int count) ? count : 0;

    /// <summary>Makes <paramref name="name"/> exist (NOERROR) without records of any type.</summary>
    public FakeSpfDns AddName(string name)
    {
        _names[Normalize(name)] = 0;
        return this;
    }

    /// <summary>Adds TXT records, one per string.</summary>
    public FakeSpfDns AddTxt(string name, params string[] records)
    {
        Append(_txt, name, records);
        return this;
    }

    /// <summary>Adds one TXT record made of several character-strings, joined without separators as a resolver does.</summary>
    public FakeSpfDns AddTxtStrings(string name, params string[] characterStrings) => AddTxt(name, string.Concat(characterStrings));

    /// <summary>Adds A or AAAA records, by the family of each address.</summary>
    public FakeSpfDns AddAddress(string name, params string[] addresses)
    {
        List<IPAddress> v4 = [];
        List<IPAddress> v6 = [];
        foreach (string text in addresses)
        {
            IPAddress address = IPAddress.Parse(text);
            (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? v6 : v4).Add(address);
        }
        Append(_a, name, v4);
        Append(_aaaa, name, v6);
        return this;
    }

    /// <summary>Adds MX records (exchange host names, in preference order).</summary>
    public FakeSpfDns AddMx(string name, params string[] exchanges)
    {
        Append(_mx, name, exchanges);
        return this;
    }

    /// <summary>Adds PTR records for <paramref name="address"/>.</summary>
    public FakeSpfDns AddPtr(string address, params string[] names)
    {
        Append(_ptr, IPAddress.Parse(address).ToString(), names);
        return this;
    }

    /// <summary>Makes every query for <paramref name="name"/> (or only those of <paramref name="type"/>) answer Failure.</summary>
    public FakeSpfDns Fail(string name, string? type = null)
    {
        _failures[type is null ? Normalize(name) : Key(type, Normalize(name))] = 0;
        return this;
    }

    /// <summary>Makes queries for <paramref name="name"/> complete asynchronously after <paramref name="delay"/>.</summary>
    public FakeSpfDns Delay(string name, TimeSpan delay)
    {
        _delays[Normalize(name)] = delay;
        return this;
    }

    /// <summary>Makes queries for <paramref name="name"/> never complete until their token is cancelled.</summary>
    public FakeSpfDns Hang(string name)
    {
        _hangs[Normalize(name)] = 0;
        return this;
    }

    public ValueTask<DnsAnswer<string>> GetTxtAsync(string name, CancellationToken cancellationToken)
        => Answer("TXT", name, _txt, cancellationToken);

    public ValueTask<DnsAnswer<IPAddress>> GetAddressesAsync(string name, bool ipv6, CancellationToken cancellationToken)
        => Answer(ipv6 ? "AAAA" : "A", name, ipv6 ? _aaaa : _a, cancellationToken);

    public ValueTask<DnsAnswer<string>> GetMxAsync(string name, CancellationToken cancellationToken)
        => Answer("MX", name, _mx, cancellationToken);

    public ValueTask<DnsAnswer<string>> GetPtrAsync(IPAddress address, CancellationToken cancellationToken)
        => Answer("PTR", address.ToString(), _ptr, cancellationToken);

    private ValueTask<DnsAnswer<T>> Answer<T>(string type, string name, ConcurrentDictionary<string, DnsAnswer<T>> zone, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        name = Normalize(name);
        string key = Key(type, name);
        _queries.AddOrUpdate(key, 1, static (_, count) => count + 1);
        _log.Enqueue(key);
        DnsAnswer<T> answer;
        if (_failures.ContainsKey(name) || _failures.ContainsKey(key))
        {
            answer = new DnsAnswer<T>(DnsStatus.Failure, []);
        }
        else if (zone.TryGetValue(name, out DnsAnswer<T>? found))
        {
            answer = found;
        }
        else
        {
            answer = new DnsAnswer<T>(_names.ContainsKey(name) ? DnsStatus.Ok : DnsStatus.NameError, []);
        }
        if (_hangs.ContainsKey(name))
        {
            return HangAsync(answer, cancellationToken);
        }
        if (_delays.TryGetValue(name, out TimeSpan delay))
        {
            return DelayAsync(answer, delay, cancellationToken);
        }
        return new ValueTask<DnsAnswer<T>>(answer);
    }

    private static async ValueTask<DnsAnswer<T>> DelayAsync<T>(DnsAnswer<T> answer, TimeSpan delay, CancellationToken cancellationToken)
    {
        await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        return answer;
    }

    private static async ValueTask<DnsAnswer<T>> HangAsync<T>(DnsAnswer<T> answer, CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        return answer;
    }

    private void Append<T>(ConcurrentDictionary<string, DnsAnswer<T>> zone, string name, IEnumerable<T> records)
    {
        name = Normalize(name);
        _names[name] = 0;
        List<T> list = zone.TryGetValue(name, out DnsAnswer<T>? existing) ? [.. existing.Records] : [];
        list.AddRange(records);
        if (list.Count > 0)
        {
            // Built once, so every query hands out the same record instances, as a DNS cache does.
            zone[name] = new DnsAnswer<T>(DnsStatus.Ok, list.ToArray());
        }
    }

    private static string Normalize(string name) => name.EndsWith('.') ? name[..^1] : name;

    private static string Key(string type, string name) => type.ToUpperInvariant() + " " + name;
}
