using System.Diagnostics;
using System.Diagnostics.Metrics;
using Greyd.Hosting.Observers;
using Greyd.Policy;
using Greyd.Storage;

namespace Greyd.Hosting.Metrics;

/// <summary>
/// greyd's metrics: counts every decision and request as it happens (allocation-free, on the request path) and reads
/// the store's health when scraped. Served in Prometheus text format by <see cref="MetricsListener"/>.
/// </summary>
public sealed class GreydMetrics : IDecisionObserver, IDisposable
{
    /// <summary>10 µs to 1 s: a request answered from memory takes tens of microseconds, one that waits on a store more.</summary>
    public static readonly double[] DurationBuckets =
        [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

    /// <summary>1 minute to 2 days (the default retry window); finer near the default delay of 5 minutes.</summary>
    public static readonly long[] DelayBuckets =
        [60, 120, 300, 360, 420, 600, 900, 1200, 1800, 3600, 7200, 14400, 28800, 43200, 86400, 172800];

    private readonly Meter _meter = new("greyd", Cli.GreydCommandLine.Version);
    private readonly PrometheusExposition _exposition;
    private readonly IGreylistStore _store;
    private readonly TimeProvider _clock;
    private readonly Lock _gate = new();
    private readonly Counter<long> _requests;
    private readonly Counter<long> _errors;
    private readonly Counter<long>[] _decisions;
    private readonly Histogram<double> _duration;
    private readonly Histogram<long> _delay;
    private readonly Dictionary<string, Counter<long>> _poolChecks = [];
    private StoreHealth? _health;
    private DateTimeOffset _now;

    public GreydMetrics(IGreylistStore store, Func<int> connections, TimeProvider clock)
    {
        _store = store;
        _clock = clock;
        _exposition = new PrometheusExposition(_meter);
        _requests = _meter.CreateCounter<long>("greyd_requests_total", description: "Policy requests answered.");
        _errors = _meter.CreateCounter<long>("greyd_request_errors_total", description: "Requests answered DUNNO because of an internal fault.");
        var byLabels = new Dictionary<(string, string), Counter<long>>();
        _decisions = [.. Enum.GetValues<PolicyOutcome>().Select(o => Decision(Labels(o), byLabels))];
        _duration = _meter.CreateHistogram(
            "greyd_request_duration_seconds", unit: "s", description: "Time greyd took to answer a request.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _delay = _meter.CreateHistogram(
            "greyd_greylist_delay_seconds", unit: "s", description: "Delay suffered by greylisted mail that passed, from first sighting to the retry that passed.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = DelayBuckets });
        Gauge("greyd_store_triplets", "Triplets in the store.", h => h.Triplets);
        Gauge("greyd_store_awl_clients", "Clients counted by the auto-whitelist.", h => h.Clients);
        Gauge("greyd_store_disk_bytes", "Bytes the store directory uses.", h => h.DiskBytes);
        Gauge("greyd_store_checkpoint_age_seconds", "Seconds since the last completed checkpoint (absent before the first).",
            h => h.LastCheckpoint is { } at ? Math.Max(0, (long)(_now - at).TotalSeconds) : null);
        Gauge("greyd_store_persistent", "1 when the store is on disk, 0 when greyd greylists from memory only.", h => h.Mode == "faster" ? 1 : 0);
        Gauge("greyd_store_degraded", "1 while the last checkpoint or journal write failed.", h => h.Degraded ? 1 : 0);
        Counter("greyd_store_errors_total", "Failed journal writes and other store faults.", h => h.WriteErrors);
        Counter("greyd_store_checkpoint_errors_total", "Failed checkpoints.", h => h.CheckpointErrors);
        Gauge("greyd_shared_store_up", "1 while greyd greylists from the shared store, 0 while it answers from the local one (absent without --store).",
            h => h.Shared is { } s ? (s.Up ? 1 : 0) : null);
        Counter("greyd_shared_store_failures_total", "Shared store calls that failed or timed out (absent without --store).", h => h.Shared?.Failures);
        _meter.CreateObservableGauge("greyd_connections", () => (long)connections(), description: "Open policy connections.");
    }

    public void OnDecision(in DecisionEvent decision)
    {
        _decisions[(int)decision.Outcome].Add(1);
        if (decision.Outcome == PolicyOutcome.FirstPass)
        {
            _delay.Record(decision.Waited);
        }
    }

    public void OnPoolCheck(in SenderPools.PoolCheck check)
    {
        if (_poolChecks.TryGetValue(check.Label, out var counter))
        {
            counter.Add(1);
        }
    }

    public void OnRequestDone(long elapsedTicks, bool fault)
    {
        _requests.Add(1);
        if (fault)
        {
            _errors.Add(1);
        }

        _duration.Record((double)elapsedTicks / Stopwatch.Frequency);
    }

    /// <summary>
    /// Adds the --spf-pools metrics, before the first request: checks by result, and the resolver's queries sent,
    /// cache hits, failures and answers cached.
    /// </summary>
    public void WatchSenderPools(Greyd.Spf.Dns.SpfDnsResolver resolver)
    {
        foreach (string label in SenderPools.PoolCheck.Labels)
        {
            _poolChecks[label] = _meter.CreateCounter<long>(
                "greyd_spf_checks_total", unit: null, description: "SPF checks for --spf-pools by result (timeout: no answer within --spf-timeout; skipped: paused while DNS timed out).",
                tags: [new("result", label)]);
        }

        _meter.CreateObservableCounter("greyd_spf_dns_queries_total", () => resolver.Statistics.Queries, description: "DNS queries sent for SPF checks.");
        _meter.CreateObservableCounter("greyd_spf_dns_cache_hits_total", () => resolver.Statistics.CacheHits, description: "SPF lookups answered from greyd's DNS cache.");
        _meter.CreateObservableCounter("greyd_spf_dns_failures_total", () => resolver.Statistics.Failures, description: "DNS queries for SPF that failed (SERVFAIL, refused, timed out).");
        _meter.CreateObservableGauge("greyd_spf_dns_cache_entries", () => (long)resolver.Statistics.Entries, description: "Answers in greyd's DNS cache.");
    }

    /// <summary>The metrics in Prometheus text format, with the store's health read now.</summary>
    public string Render()
    {
        lock (_gate)
        {
            _health = _store is IStoreHealth h ? h.GetHealth() : null;
            _now = _clock.GetUtcNow();
            return _exposition.Collect();
        }
    }

    public void Dispose()
    {
        _exposition.Dispose();
        _meter.Dispose();
    }

    /// <summary>The label values of each outcome: action and reason as greyd's log lines say them.</summary>
    private static (string Action, string Reason) Labels(PolicyOutcome outcome) => outcome switch
    {
        PolicyOutcome.Unusable => ("dunno", "unusable"),
        PolicyOutcome.ClientWhitelist => ("pass", "client whitelist"),
        PolicyOutcome.RecipientWhitelist => ("pass", "recipient whitelist"),
        PolicyOutcome.ClientAwl => ("pass", "client AWL"),
        PolicyOutcome.GreylistNew => ("greylist", "new"),
        PolicyOutcome.GreylistEarlyRetry => ("greylist", "early-retry"),
        PolicyOutcome.FirstPass or PolicyOutcome.Pass => ("pass", "triplet found"),
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "an outcome without metric labels"),
    };

    // One instrument per (action, reason), shared by outcomes with the same labels (a first pass and a pass): the
    // labels are instrument tags, so counting looks nothing up.
    private Counter<long> Decision((string Action, string Reason) labels, Dictionary<(string, string), Counter<long>> made)
    {
        if (!made.TryGetValue(labels, out var counter))
        {
            counter = _meter.CreateCounter<long>(
                "greyd_decisions_total", unit: null, description: "Decisions by action and reason.",
                tags: [new("action", labels.Action), new("reason", labels.Reason)]);
            made.Add(labels, counter);
        }

        return counter;
    }

    private void Gauge(string name, string description, Func<StoreHealth, long?> value) =>
        _meter.CreateObservableGauge<long>(name, () => Observe(value), description: description);

    private void Counter(string name, string description, Func<StoreHealth, long?> value) =>
        _meter.CreateObservableCounter<long>(name, () => Observe(value), description: description);

    private Measurement<long>[] Observe(Func<StoreHealth, long?> value) =>
        _health is { } health && value(health) is long v ? [new Measurement<long>(v)] : [];
}
