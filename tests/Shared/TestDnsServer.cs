using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;

namespace Greyd.Tests.Shared;

/// <summary>
/// A DNS server on 127.0.0.1 (UDP and TCP, one random free port) that tests program while it runs: records with
/// TTLs, zones it is authoritative for (NXDOMAIN and NODATA with their SOA), names that answer SERVFAIL or another
/// error, names whose queries it drops or answers late, answers truncated over UDP, and a count of the queries
/// it was sent per type and name. It answers like a recursive resolver: CNAME chains it holds are followed.
/// Built on ARSoft.Tools.Net's DnsServer; test-only.
/// </summary>
public sealed class TestDnsServer : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<DnsRecordBase>> _records = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SoaRecord> _zones = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ReturnCode> _errors = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dropped = new(StringComparer.Ordinal);
    private readonly HashSet<string> _truncated = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TimeSpan> _delays = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(RecordType, string), int> _udpQueries = new();
    private readonly ConcurrentDictionary<(RecordType, string), int> _tcpQueries = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly DnsServer _server;
    private readonly IServerTransport[] _transports;
    private int _total;

    private TestDnsServer(DnsServer server, IPEndPoint endPoint, params IServerTransport[] transports)
    {
        _server = server;
        _transports = transports;
        EndPoint = endPoint;
        _server.QueryReceived += OnQueryAsync;
    }

    /// <summary>Where it listens: 127.0.0.1 and a port, the same for UDP and TCP.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Every query received, over either transport.</summary>
    public int TotalQueries => Volatile.Read(ref _total);

    /// <summary>Starts a server on 127.0.0.1 on a port free for both UDP and TCP (tries again on a clash).</summary>
    public static TestDnsServer Start()
    {
        for (var attempt = 1; ; attempt++)
        {
            int port;
            using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
            {
                probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                port = ((IPEndPoint)probe.LocalEndPoint!).Port;
            }

            var endPoint = new IPEndPoint(IPAddress.Loopback, port);
            var udp = new UdpServerTransport(endPoint);
            var tcp = new TcpServerTransport(endPoint);
            var server = new DnsServer(udp, tcp);
            var result = new TestDnsServer(server, endPoint, udp, tcp);
            try
            {
                server.Start();
                return result;
            }
            catch (SocketException) when (attempt < 50)
            {
                udp.Dispose();
                tcp.Dispose();
            }
        }
    }

    /// <summary>
    /// Makes the server authoritative for <paramref name="zone"/>: an unknown name under it answers NXDOMAIN, a
    /// known name without the type asked answers NODATA, both with the zone's SOA (TTL <paramref name="soaTtl"/>,
    /// MINIMUM <paramref name="negativeTtl"/>) in the authority section. Names outside every zone answer NXDOMAIN
    /// or NODATA without an SOA.
    /// </summary>
    public void AddZone(string zone, int negativeTtl = 300, int soaTtl = 3600)
    {
        var name = Key(zone);
        var apex = DomainName.Parse(name);
        var soa = new SoaRecord(apex, soaTtl, DomainName.Parse("ns." + name), DomainName.Parse("hostmaster." + name), 1, 3600, 600, 86400, negativeTtl);
        lock (_lock)
        {
            _zones[name] = soa;
        }
    }

    /// <summary>A TXT record made of one or more character-strings (each at most 255 bytes).</summary>
    public void AddTxt(string name, int ttl, params string[] strings) => Add(name, n => new TxtRecord(n, ttl, strings));

    public void AddA(string name, int ttl, IPAddress address) => Add(name, n => new ARecord(n, ttl, address));

    public void AddAaaa(string name, int ttl, IPAddress address) => Add(name, n => new AaaaRecord(n, ttl, address));

    public void AddMx(string name, int ttl, ushort preference, string exchange)
        => Add(name, n => new MxRecord(n, ttl, preference, DomainName.Parse(exchange)));

    /// <summary>A PTR record for <paramref name="address"/> (its in-addr.arpa or ip6.arpa name).</summary>
    public void AddPtr(IPAddress address, int ttl, string target) => AddPtr(ReverseName(address), ttl, target);

    public void AddPtr(string name, int ttl, string target) => Add(name, n => new PtrRecord(n, ttl, DomainName.Parse(target)));

    public void AddCname(string name, int ttl, string target) => Add(name, n => new CNameRecord(n, ttl, DomainName.Parse(target)));

    /// <summary>Forgets every record of <paramref name="name"/> (it becomes unknown: NXDOMAIN under a zone).</summary>
    public void Remove(string name)
    {
        lock (_lock)
        {
            _records.Remove(Key(name));
        }
    }

    /// <summary>
    /// Queries for <paramref name="name"/> (any type) answer <paramref name="code"/>, SERVFAIL by default;
    /// <see cref="ReturnCode.NoError"/> makes the name answer from its records again.
    /// </summary>
    public void SetError(string name, ReturnCode code = ReturnCode.ServerFailure)
    {
        lock (_lock)
        {
            if (code == ReturnCode.NoError)
            {
                _errors.Remove(Key(name));
            }
            else
            {
                _errors[Key(name)] = code;
            }
        }
    }

    /// <summary>Queries for <paramref name="name"/> are never answered: the client times out.</summary>
    public void SetDropped(string name, bool dropped = true)
    {
        lock (_lock)
        {
            _ = dropped ? _dropped.Add(Key(name)) : _dropped.Remove(Key(name));
        }
    }

    /// <summary>Answers for <paramref name="name"/> leave <paramref name="delay"/> after the query came.</summary>
    public void SetDelay(string name, TimeSpan delay)
    {
        lock (_lock)
        {
            _delays[Key(name)] = delay;
        }
    }

    /// <summary>Over UDP, <paramref name="name"/> answers with no records and the TC bit: the client must ask over TCP.</summary>
    public void SetTruncatedOverUdp(string name, bool truncated = true)
    {
        lock (_lock)
        {
            _ = truncated ? _truncated.Add(Key(name)) : _truncated.Remove(Key(name));
        }
    }

    /// <summary>Queries received for (<paramref name="type"/>, <paramref name="name"/>) over UDP and TCP.</summary>
    public int QueryCount(RecordType type, string name) => UdpQueryCount(type, name) + TcpQueryCount(type, name);

    public int UdpQueryCount(RecordType type, string name) => _udpQueries.GetValueOrDefault((type, Key(name)));

    public int TcpQueryCount(RecordType type, string name) => _tcpQueries.GetValueOrDefault((type, Key(name)));

    /// <summary>The PTR query count of <paramref name="address"/>.</summary>
    public int PtrQueryCount(IPAddress address) => QueryCount(RecordType.Ptr, ReverseName(address));

    public static string ReverseName(IPAddress address) => Key(address.GetReverseLookupDomain().ToString());

    public void Dispose()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _stopping.Cancel();
        _server.QueryReceived -= OnQueryAsync;
        try
        {
            _server.Stop();
        }
        catch (AggregateException)
        {
            // Stop() waits for its accept loops' start tasks, which are cancelled when they had not started yet.
        }
        finally
        {
            foreach (var transport in _transports)
            {
                transport.Close();
                transport.Dispose();
            }
        }
    }

    private static string Key(string name) => name.TrimEnd('.').ToLowerInvariant();

    private void Add(string name, Func<DomainName, DnsRecordBase> create)
    {
        var key = Key(name);
        var record = create(DomainName.Parse(key));
        lock (_lock)
        {
            if (!_records.TryGetValue(key, out var list))
            {
                _records[key] = list = [];
            }

            list.Add(record);
        }
    }

    private async Task OnQueryAsync(object sender, QueryReceivedEventArgs e)
    {
        if (e.Query is not DnsMessage query || query.Questions.Count != 1)
        {
            return;
        }

        var question = query.Questions[0];
        var name = Key(question.Name.ToString());
        var counts = e.TransportProtocol == TransportProtocol.Tcp ? _tcpQueries : _udpQueries;
        counts.AddOrUpdate((question.RecordType, name), 1, (_, n) => n + 1);
        Interlocked.Increment(ref _total);

        bool dropped;
        TimeSpan delay;
        lock (_lock)
        {
            dropped = _dropped.Contains(name);
            delay = _delays.GetValueOrDefault(name);
        }

        try
        {
            if (dropped)
            {
                await Task.Delay(Timeout.Infinite, _stopping.Token);
            }

            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, _stopping.Token);
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }

        e.Response = Answer(query, question, name, e.TransportProtocol == TransportProtocol.Udp);
    }

    private DnsMessage Answer(DnsMessage query, DnsQuestion question, string name, bool udp)
    {
        var response = query.CreateResponseInstance();
        response.IsAuthoritiveAnswer = true;
        response.IsRecursionAllowed = true;

        lock (_lock)
        {
            if (_errors.TryGetValue(name, out var code))
            {
                response.ReturnCode = code;
                return response;
            }

            if (udp && _truncated.Contains(name))
            {
                response.IsTruncated = true;
                return response;
            }

            // Follow CNAMEs as a recursive resolver would, at most 8 deep.
            var current = name;
            for (var depth = 0; depth < 8; depth++)
            {
                if (!_records.TryGetValue(current, out var records))
                {
                    var soa = ZoneOf(current);
                    response.ReturnCode = ReturnCode.NxDomain;
                    if (soa is not null)
                    {
                        response.AuthorityRecords.Add(soa);
                    }

                    return response;
                }

                var matching = records.Where(r => r.RecordType == question.RecordType).ToList();
                if (matching.Count > 0)
                {
                    response.AnswerRecords.AddRange(matching);
                    return response;
                }

                var cname = records.OfType<CNameRecord>().FirstOrDefault();
                if (cname is null || question.RecordType == RecordType.CName)
                {
                    break;
                }

                response.AnswerRecords.Add(cname);
                current = Key(cname.CanonicalName.ToString());
            }

            // NODATA.
            response.ReturnCode = ReturnCode.NoError;
            if (ZoneOf(current) is { } zoneSoa)
            {
                response.AuthorityRecords.Add(zoneSoa);
            }

            return response;
        }
    }

    private SoaRecord? ZoneOf(string name)
    {
        for (var suffix = name; ; suffix = suffix[(suffix.IndexOf('.') + 1)..])
        {
            if (_zones.TryGetValue(suffix, out var soa))
            {
                return soa;
            }

            if (!suffix.Contains('.'))
            {
                return null;
            }
        }
    }
}
