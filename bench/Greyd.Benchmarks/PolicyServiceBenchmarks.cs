using System.Buffers;
using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Greyd.Hosting.Logging;
using Greyd.Hosting.Server;
using Greyd.Hosting.Whitelists;
using Greyd.Policy;
using Greyd.Protocol;
using Greyd.Storage.Faster;

namespace Greyd.Benchmarks;

/// <summary>
/// The whole answer to one parsed request without a socket (<see cref="PolicyService.HandleAsync"/>): whitelists,
/// FASTER store, decision, reply and the notice log line, in the steady state of each common case.
/// </summary>
[MemoryDiagnoser]
public class PolicyServiceBenchmarks
{
    private const int CounterDigits = 12;

    private readonly TempStoreDirectory _dir = new();
    private readonly GreylistOptions _options = new();
    private readonly PolicyScratch _scratch = new();
    private readonly ArrayBufferWriter<byte> _output = new(1024);
    private readonly PolicyRequest _earlyRetry = new();
    private readonly PolicyRequest _passed = new();
    private readonly PolicyRequest _new = new();
    private readonly PolicyRequest _whitelisted = new();
    private readonly PolicyRequest _firstPass = new();
    private readonly byte[] _sender = "new000000000000@example.net"u8.ToArray();
    private readonly byte[] _instance = "1a2b.000000000000.9d8e.0"u8.ToArray();
    private readonly byte[] _key = new byte[TripletKeyBuilder.MaxKeyLength];
    private GreydLog? _log;
    private WhitelistHolder? _whitelists;
    private FasterGreylistStore? _store;
    private PolicyService? _service;
    private ClientAddress _firstPassClient;
    private long _counter;

    [GlobalSetup]
    public void Setup()
    {
        // Notice is the default priority: the decision lines are formatted and written, here to nowhere.
        _log = new GreydLog(Stream.Null, LogPriority.Notice);
        string dist = Path.Combine(AppContext.BaseDirectory, "dist");
        var loader = new WhitelistLoader([Path.Combine(dist, "whitelist_clients")], [Path.Combine(dist, "whitelist_recipients")], false, false);
        if (loader.Load().Errors is [string error, ..])
        {
            throw new InvalidOperationException(error);
        }

        _whitelists = new WhitelistHolder(loader, _log, TimeSpan.Zero);
        // greyd's default store sizes; checkpoints and sweeps are background work, kept out of the measured requests.
        var settings = new FasterStoreOptions { Directory = _dir.Path, CheckpointInterval = TimeSpan.FromHours(1), SweepInterval = TimeSpan.FromHours(1) };
        _store = FasterGreylistStore.Open(settings, _options, _log);
        StoreFill.PastMemory(_store, settings.MemorySize, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        _service = new PolicyService(_options, _store, _whitelists, _log, TimeProvider.System);

        Parse(_earlyRetry, "192.0.2.10", "mail.example.net", "alice@example.net", "bob@example.org");
        Parse(_passed, "192.0.2.20", "mail.example.com", "carol@example.com", "dave@example.org");
        Parse(_new, "192.0.2.30", "mail.example.info", "new000000000000@example.net", "erin@example.org");
        Parse(_whitelisted, "40.107.22.69", "mail-am6eur05on2069.outbound.protection.outlook.com", "frank@example.com", "grace@example.org");
        Parse(_firstPass, "192.0.2.40", "mail.example.biz", "new000000000000@example.net", "heidi@example.org");
        _firstPassClient = ClientOf(_firstPass);

        // Early retry: seen once now. Passed: first seen ten minutes ago, then its first pass.
        long wall = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Expect(_earlyRetry, "action=DEFER_IF_PERMIT");
        int n = TripletKeyBuilder.WriteTripletKey(_passed, ClientOf(_passed), _options, _key);
        _store.ObserveTripletAsync(_key.AsSpan(0, n), wall - 600).AsTask().GetAwaiter().GetResult();
        Expect(_passed, "action=PREPEND X-Greylist:");

        Expect(_earlyRetry, "action=DEFER_IF_PERMIT");
        Expect(_passed, "action=DUNNO");
        Expect(_whitelisted, "action=DUNNO");
        PrepareNewTriplet();
        Expect(_new, "action=DEFER_IF_PERMIT");
        PrepareFirstPass();
        Expect(_firstPass, "action=PREPEND X-Greylist:");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _whitelists?.Dispose();
        _dir.Dispose();
    }

    /// <summary>(a) A known triplet retried inside the delay: store hit, greylisted (early retry).</summary>
    [Benchmark(Baseline = true)]
    public ValueTask<bool> EarlyRetry() => Handle(_earlyRetry);

    /// <summary>(b) A known triplet that passed long ago: store hit, DUNNO.</summary>
    [Benchmark]
    public ValueTask<bool> Passed() => Handle(_passed);

    /// <summary>(c) A triplet never seen before: store miss, greylisted (new).</summary>
    [Benchmark]
    public ValueTask<bool> NewTriplet()
    {
        PrepareNewTriplet();
        return Handle(_new);
    }

    /// <summary>(d) A client on the shipped client whitelist: no store access, DUNNO.</summary>
    [Benchmark]
    public ValueTask<bool> ClientWhitelisted() => Handle(_whitelisted);

    /// <summary>
    /// A triplet's first pass (X-Greylist header): a new triplet is stored as first seen ten minutes ago and then
    /// asked for with a new message instance, so this costs one store update more than the answer itself.
    /// </summary>
    [Benchmark]
    public ValueTask<bool> FirstPass()
    {
        PrepareFirstPass();
        return Handle(_firstPass);
    }

    private ValueTask<bool> Handle(PolicyRequest request)
    {
        _output.ResetWrittenCount();
        return _service!.HandleAsync(request, _scratch, _output);
    }

    private void PrepareNewTriplet()
    {
        NextCounter(_sender, 3);
        _new.Set(PolicyAttribute.Sender, _sender);
    }

    private void PrepareFirstPass()
    {
        NextCounter(_sender, 3);
        _firstPass.Set(PolicyAttribute.Sender, _sender);
        _counter.TryFormat(_instance.AsSpan(5, CounterDigits), out _, "D12", CultureInfo.InvariantCulture);
        _firstPass.Set(PolicyAttribute.Instance, _instance);
        int n = TripletKeyBuilder.WriteTripletKey(_firstPass, _firstPassClient, _options, _key);
        long tenMinutesAgo = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds() - 600;
        var seen = _store!.ObserveTripletAsync(_key.AsSpan(0, n), tenMinutesAgo);
        if (!seen.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("the store answered asynchronously");
        }
    }

    // A counter never used before, written into a preallocated value, keeps every triplet new.
    private void NextCounter(byte[] value, int at) =>
        (++_counter).TryFormat(value.AsSpan(at, CounterDigits), out _, "D12", CultureInfo.InvariantCulture);

    private void Expect(PolicyRequest request, string reply)
    {
        var answered = Handle(request);
        if (!answered.IsCompletedSuccessfully || !answered.Result)
        {
            throw new InvalidOperationException("no synchronous answer");
        }

        string text = Encoding.ASCII.GetString(_output.WrittenSpan);
        if (!text.StartsWith(reply, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"expected '{reply}...', got '{text}'");
        }
    }

    private static ClientAddress ClientOf(PolicyRequest request) =>
        ClientAddress.TryParse(request.Get(PolicyAttribute.ClientAddress), out var client) ? client : throw new InvalidOperationException("bad benchmark address");

    // A request as Postfix 3.7 sends it at RCPT time.
    private static void Parse(PolicyRequest request, string address, string name, string sender, string recipient)
    {
        string[] lines =
        [
            "request=smtpd_access_policy", "protocol_state=RCPT", "protocol_name=ESMTP", "helo_name=" + name, "queue_id=",
            "sender=" + sender, "recipient=" + recipient, "recipient_count=0", "client_address=" + address,
            "client_name=" + name, "reverse_client_name=" + name, "instance=1a2b.5f3c1e.9d8e.0", "sasl_method=",
            "sasl_username=", "sasl_sender=", "size=0", "ccert_subject=", "ccert_issuer=", "ccert_fingerprint=",
            "encryption_protocol=TLSv1.3", "encryption_cipher=TLS_AES_256_GCM_SHA384", "encryption_keysize=256",
            "etrn_domain=", "stress=", "client_port=54321", "policy_context=", "server_address=192.0.2.1", "server_port=25",
        ];
        var text = Encoding.ASCII.GetBytes(string.Join('\n', lines) + "\n\n");
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(text));
        if (!PolicyRequestReader.TryRead(ref reader, request))
        {
            throw new InvalidOperationException("benchmark request does not parse");
        }
    }
}
