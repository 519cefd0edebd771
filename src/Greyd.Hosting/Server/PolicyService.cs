using System.Buffers;
using Greyd.Hosting.Cli;
using Greyd.Hosting.Logging;
using Greyd.Hosting.Observers;
using Greyd.Hosting.SenderPools;
using Greyd.Hosting.Whitelists;
using Greyd.Policy;
using Greyd.Protocol;
using Greyd.Storage;

namespace Greyd.Hosting.Server;

/// <summary>
/// Answers one policy request: reads the clock, asks the store, lets the pure engine decide, writes the reply
/// and postgrey's log line. Any internal fault answers DUNNO (fail open) and is logged.
/// </summary>
public sealed class PolicyService : IPolicyHandler
{
    private static readonly byte[] s_version = System.Text.Encoding.ASCII.GetBytes(GreydCommandLine.Version);

    private readonly GreylistOptions _options;
    private readonly IGreylistStore _store;
    private readonly GreydLog _log;
    private readonly TimeProvider _clock;
    private readonly WhitelistHolder _whitelists;
    private readonly RecentInstances _instances = new();
    private readonly HeaderDate _headerDate = new();
    private readonly ReplyTemplate _greylistText;
    private readonly ReplyTemplate _header;
    private readonly byte[] _greylistAction;
    private readonly byte[] _hostname;
    private readonly RateLimitedLog _faults;
    private readonly IDecisionObserver? _observer;
    private readonly SenderPoolChecker? _pools;
    private long _faultCount;

    /// <summary>Requests answered DUNNO because of an internal fault (usually the store) since the start.</summary>
    public long FaultCount => Interlocked.Read(ref _faultCount);

    public PolicyService(
        GreylistOptions options, IGreylistStore store, WhitelistHolder whitelists, GreydLog log, TimeProvider clock,
        IDecisionObserver? observer = null, SenderPoolChecker? pools = null)
    {
        _observer = observer;
        _pools = pools;
        _options = options;
        _whitelists = whitelists;
        _store = store;
        _log = log;
        _clock = clock;
        _faults = new RateLimitedLog(log, LogPriority.Error, "internal error, answering DUNNO");
        _greylistText = ReplyTemplate.Compile(options.GreylistText, "sr");
        _header = ReplyTemplate.Compile(options.XGreylistHeader, "tvdh");
        _greylistAction = System.Text.Encoding.UTF8.GetBytes(options.GreylistAction);
        _hostname = System.Text.Encoding.UTF8.GetBytes(options.Hostname);
    }

    /// <inheritdoc/>
    public async ValueTask<bool> HandleAsync(PolicyRequest request, PolicyScratch scratch, IBufferWriter<byte> output)
    {
        if (!request.Get(PolicyAttribute.Request).SequenceEqual("smtpd_access_policy"u8))
        {
            LogValue(LogPriority.Error, "unrecognized request type: '"u8, request.Get(PolicyAttribute.Request), "'"u8, scratch);
            return false;
        }

        if (request.GarbageLines > 0)
        {
            LogValue(LogPriority.Warning, "ignoring garbage: <"u8, request.FirstGarbage, ">"u8, scratch);
        }

        long started = _observer is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
        bool fault = false;
        var reply = scratch.Reply;
        reply.ResetWrittenCount();
        try
        {
            await DecideAsync(request, scratch, reply).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Fail open: any fault answers DUNNO, as Postfix would with default_action=DUNNO.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogFault(e);
            fault = true;
            reply.ResetWrittenCount();
            reply.Write("DUNNO"u8);
        }

        _observer?.OnRequestDone(System.Diagnostics.Stopwatch.GetTimestamp() - started, fault);

        PolicyResponse.Write(output, reply.WrittenSpan);
        return true;
    }

    private async ValueTask DecideAsync(PolicyRequest request, PolicyScratch scratch, ArrayBufferWriter<byte> reply)
    {
        long now = GreylistPolicy.RequestTime(request, _clock.GetUtcNow().ToUnixTimeSeconds(), _options);
        var missing = GreylistPolicy.CheckRequest(request, out var client, out bool addressOk);
        if (missing is { } attribute)
        {
            LogValue(LogPriority.Warning, "attribute missing: "u8, AttributeName(attribute), default, scratch);
            Observe(PolicyOutcome.Unusable, now, request);
            reply.Write("DUNNO"u8);
            return;
        }

        if (!addressOk)
        {
            LogValue(LogPriority.Warning, "client_address is not an IP address, answering DUNNO: '"u8, request.Get(PolicyAttribute.ClientAddress), "'"u8, scratch);
            Observe(PolicyOutcome.Unusable, now, request);
            reply.Write("DUNNO"u8);
            return;
        }

        // One snapshot per request: a reload in between never gives this request half of each set.
        var whitelists = _whitelists.Current;
        if (whitelists.Clients.IsMatch(request.Get(PolicyAttribute.ClientName), client))
        {
            LogAction(request, "pass"u8, "client whitelist"u8, default, scratch);
            Observe(PolicyOutcome.ClientWhitelist, now, request);
            reply.Write("DUNNO"u8);
            return;
        }

        if (whitelists.Recipients.IsMatch(request.Get(PolicyAttribute.Recipient)))
        {
            LogAction(request, "pass"u8, "recipient whitelist"u8, default, scratch);
            Observe(PolicyOutcome.RecipientWhitelist, now, request);
            reply.Write("DUNNO"u8);
            return;
        }

        bool awl = _options.AutoWhitelistClients > 0;
        int clientKeyLength = awl ? TripletKeyBuilder.WriteClientKey(client, _options, scratch.ClientKey) : 0;
        var pool = await CheckPoolAsync(request, client, clientKeyLength, now, scratch).ConfigureAwait(false);
        int keyLength = pool is { UsesPool: true } p
            ? WritePoolKey(p.Domain, request, scratch.TripletKey)
            : TripletKeyBuilder.WriteTripletKey(request, client, _options, scratch.TripletKey);
        var found = await _store.ObserveRequestAsync(
            scratch.ClientKey.AsMemory(0, clientKeyLength), scratch.TripletKey.AsMemory(0, keyLength), now).ConfigureAwait(false);
        if (found.ClientWhitelisted)
        {
            LogAction(request, "pass"u8, "client AWL"u8, default, scratch);
            Observe(PolicyOutcome.ClientAwl, now, request);
            reply.Write("DUNNO"u8);
            return;
        }

        var observation = found.Triplet;
        bool pooled = pool is { UsesPool: true };
        if (pooled && GreylistPolicy.PoolTripletYields(observation, now, _options))
        {
            int networkLength = TripletKeyBuilder.WriteTripletKey(request, client, _options, scratch.TripletKey);
            if (_store is IStoreAdmin admin
                && await admin.PeekTripletAsync(scratch.TripletKey.AsMemory(0, networkLength), now).ConfigureAwait(false) is not null)
            {
                found = await _store.ObserveRequestAsync(
                    scratch.ClientKey.AsMemory(0, clientKeyLength), scratch.TripletKey.AsMemory(0, networkLength), now).ConfigureAwait(false);
                observation = found.Triplet;
                pooled = false;
            }
        }

        if (observation.CorrectedFutureFirstSeen)
        {
            Log(LogPriority.Warning, "correcting date for first seen in the future!"u8, scratch);
        }

        var decision = GreylistPolicy.Decide(observation, now, _options);
        _observer?.OnDecision(new DecisionEvent(decision.Outcome, now, request.Get(PolicyAttribute.Sender), observation.FirstSeen, decision.Waited, observation.FirstRetry));
        if (awl && found.ClientCount == _options.AutoWhitelistClients)
        {
            LogWhitelisted(request, client, scratch);
        }

        Span<byte> fields = stackalloc byte[PoolFieldsLength];
        int fieldsLength = pool is { } checkedPool ? WritePoolFields(checkedPool, pooled, fields) : 0;
        switch (decision.Outcome)
        {
            case PolicyOutcome.GreylistNew:
            case PolicyOutcome.GreylistEarlyRetry:
                WriteGreylist(request, decision.Missing, reply);
                Span<byte> reason = stackalloc byte[48];
                int reasonLength = decision.Outcome == PolicyOutcome.GreylistNew ? Copy("new"u8, reason) : EarlyRetry(decision.Missing, reason);
                LogAction(request, "greylist"u8, reason[..reasonLength], fields[..fieldsLength], scratch);
                break;
            case PolicyOutcome.FirstPass when _instances.IsNew(request.Get(PolicyAttribute.Instance), request.Has(PolicyAttribute.Instance)):
                reply.Write("PREPEND "u8);
                _header.Write(reply, new HeaderValues(decision.Waited, _clock.GetUtcNow().ToUnixTimeSeconds(), _hostname, _headerDate));
                Span<byte> extra = stackalloc byte[32 + PoolFieldsLength];
                int extraLength = Copy("delay="u8, extra);
                decision.Waited.TryFormat(extra[extraLength..], out int written);
                extraLength += written;
                if (fieldsLength > 0)
                {
                    extraLength += Copy(", "u8, extra[extraLength..]);
                    extraLength += Copy(fields[..fieldsLength], extra[extraLength..]);
                }

                LogAction(request, "pass"u8, "triplet found"u8, extra[..extraLength], scratch);
                break;
            default:
                reply.Write("DUNNO"u8);
                LogAction(request, "pass"u8, "triplet found"u8, fields[..fieldsLength], scratch);
                break;
        }
    }

    // "spf=softfail" or "spf=pass, pool=example.com": the domain is at most 253 bytes.
    private const int PoolFieldsLength = 32 + TripletKeyBuilder.MaxPoolDomainLength;

    /// <summary>
    /// With --spf-pools, the SPF check that picks the key; null when none is made (no sender domain), or when the
    /// answer needs DNS and the AWL passes the client anyway: its mail never waits on DNS, and the lookups go on to
    /// warm the cache. A check answered from the cache costs no look at the AWL (one store call less).
    /// </summary>
    private async ValueTask<PoolCheck?> CheckPoolAsync(PolicyRequest request, ClientAddress client, int clientKeyLength, long now, PolicyScratch scratch)
    {
        if (_pools is null || SenderPoolChecker.SenderDomain(request.Get(PolicyAttribute.Sender)) is not { } domain)
        {
            return null;
        }

        var pending = _pools.CheckAsync(client, domain, request.Get(PolicyAttribute.Sender), request.Get(PolicyAttribute.HeloName));
        if (!pending.IsCompleted && clientKeyLength > 0 && _store is IStoreAdmin admin)
        {
            var record = await admin.PeekClientAsync(scratch.ClientKey.AsMemory(0, clientKeyLength), now).ConfigureAwait(false);
            if (AutoWhitelist.Check(record, now, _options, out _))
            {
                return null;
            }
        }

        var check = await pending.ConfigureAwait(false);
        _observer?.OnPoolCheck(check);
        return check;
    }

    private int WritePoolKey(string domain, PolicyRequest request, byte[] destination)
    {
        Span<byte> bytes = stackalloc byte[domain.Length];
        for (int i = 0; i < domain.Length; i++)
        {
            bytes[i] = (byte)domain[i];
        }

        return TripletKeyBuilder.WritePoolTripletKey(bytes, request, _options, destination);
    }

    private static int WritePoolFields(PoolCheck check, bool pooled, Span<byte> destination)
    {
        int n = Copy("spf="u8, destination);
        foreach (char c in check.Label)
        {
            destination[n++] = (byte)c;
        }

        if (pooled)
        {
            n += Copy(", pool="u8, destination[n..]);
            foreach (char c in check.Domain)
            {
                // SenderDomain admits only letters, digits, '-', '_' and '.', so nothing here can forge a log line.
                destination[n++] = (byte)c;
            }
        }

        return n;
    }

    private void Observe(PolicyOutcome outcome, long now, PolicyRequest request) =>
        _observer?.OnDecision(new DecisionEvent(outcome, now, request.Get(PolicyAttribute.Sender), 0, 0, false));

    private void WriteGreylist(PolicyRequest request, long missing, ArrayBufferWriter<byte> reply)
    {
        reply.Write(_greylistAction);
        reply.Write(" "u8);
        // postgrey adds an RFC 3463 code for Postfix >= 2.3 (which sends etrn_domain) unless the text has one.
        if (request.Has(PolicyAttribute.EtrnDomain) && !_greylistText.StartsWithDigit)
        {
            reply.Write("4.2.0 "u8);
        }

        var recipient = request.Get(PolicyAttribute.Recipient);
        int at = recipient.LastIndexOf((byte)'@');
        _greylistText.Write(reply, new GreylistValues(missing, at >= 0 ? recipient[(at + 1)..] : recipient));
    }

    private void LogAction(PolicyRequest request, ReadOnlySpan<byte> action, ReadOnlySpan<byte> reason, ReadOnlySpan<byte> extra, PolicyScratch scratch)
    {
        if (_log.IsEnabled(LogPriority.Notice))
        {
            int n = ActionLogLine.Write(scratch.LogLine, request, action, reason, extra);
            Log(LogPriority.Notice, scratch.LogLine.AsSpan(0, n), scratch);
        }
    }

    private void LogWhitelisted(PolicyRequest request, ClientAddress client, PolicyScratch scratch)
    {
        var line = scratch.LogLine.AsSpan();
        int n = Copy("whitelisted: "u8, line);
        var name = request.Get(PolicyAttribute.ClientName);
        if (!name.IsEmpty)
        {
            n += LogEscaper.Escape(name, line[n..]);
            line[n++] = (byte)'[';
        }

        n += client.WriteText(line[n..]);
        if (!name.IsEmpty)
        {
            line[n++] = (byte)']';
        }

        Log(LogPriority.Warning, line[..n], scratch);
    }

    private void LogValue(LogPriority priority, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> value, ReadOnlySpan<byte> suffix, PolicyScratch scratch)
    {
        var line = scratch.LogLine.AsSpan();
        int n = Copy(prefix, line);
        n += LogEscaper.Escape(value, line[n..]);
        n += Copy(suffix, line[n..]);
        Log(priority, line[..n], scratch);
    }

    private void Log(LogPriority priority, ReadOnlySpan<byte> line, PolicyScratch scratch)
    {
        if (scratch.PendingLog is { } pending)
        {
            _log.Append(pending, priority, line);
        }
        else
        {
            _log.Write(priority, line);
        }
    }

    // One line per burst: a broken store must not flood the log with one error per request.
    private void LogFault(Exception e)
    {
        Interlocked.Increment(ref _faultCount);
        _faults.Write($"internal error, answering DUNNO: {e.GetType().Name}: {e.Message}");
    }

    private static int EarlyRetry(long missing, Span<byte> destination)
    {
        int n = Copy("early-retry ("u8, destination);
        missing.TryFormat(destination[n..], out int written);
        n += written;
        return n + Copy("s missing)"u8, destination[n..]);
    }

    private static int Copy(ReadOnlySpan<byte> text, Span<byte> destination)
    {
        text.CopyTo(destination);
        return text.Length;
    }

    private static ReadOnlySpan<byte> AttributeName(PolicyAttribute attribute) => attribute switch
    {
        PolicyAttribute.ClientAddress => "client_address"u8,
        PolicyAttribute.ClientName => "client_name"u8,
        PolicyAttribute.Sender => "sender"u8,
        PolicyAttribute.Recipient => "recipient"u8,
        _ => System.Text.Encoding.ASCII.GetBytes(attribute.ToString()),
    };

    private readonly ref struct GreylistValues(long missing, ReadOnlySpan<byte> domain) : ITemplateValues
    {
        private readonly ReadOnlySpan<byte> _domain = domain;

        public void Write(char token, IBufferWriter<byte> output)
        {
            if (token == 's')
            {
                var span = output.GetSpan(20);
                missing.TryFormat(span, out int written);
                output.Advance(written);
                return;
            }

            // The domain comes from the client: keep control bytes out of the reply line.
            var target = output.GetSpan(_domain.Length);
            for (int i = 0; i < _domain.Length; i++)
            {
                byte b = _domain[i];
                target[i] = b is < 0x20 or 0x7f ? (byte)'?' : b;
            }

            output.Advance(_domain.Length);
        }
    }

    private readonly ref struct HeaderValues(long waited, long wallClock, byte[] hostname, HeaderDate date) : ITemplateValues
    {
        public void Write(char token, IBufferWriter<byte> output)
        {
            var span = output.GetSpan(64);
            int n = 0;
            switch (token)
            {
                case 't':
                    waited.TryFormat(span, out n);
                    break;
                case 'v':
                    n = Copy(s_version, span);
                    break;
                case 'd':
                    n = date.Write(wallClock, span);
                    break;
                case 'h':
                    output.Write(hostname);
                    return;
            }

            output.Advance(n);
        }
    }
}
