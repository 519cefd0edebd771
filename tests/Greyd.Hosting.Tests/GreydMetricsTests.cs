using System.Diagnostics;
using Greyd.Hosting.Metrics;
using Greyd.Hosting.Observers;
using Greyd.Policy;
using Greyd.Storage;
using Greyd.Tests.Shared;

namespace Greyd.Hosting.Tests;

public sealed class GreydMetricsTests : IDisposable
{
    private static readonly DateTimeOffset s_now = DateTimeOffset.FromUnixTimeSeconds(1_750_000_000);

    private readonly HealthStore _store = new();
    private readonly GreydMetrics _metrics;
    private int _connections;

    public GreydMetricsTests() => _metrics = new GreydMetrics(_store, () => _connections, new FixedClock());

    public void Dispose() => _metrics.Dispose();

    private sealed class FixedClock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => s_now;
    }

    private sealed class HealthStore : IGreylistStore, IStoreHealth
    {
        public StoreHealth Health { get; set; } = new("faster", 0, 0, 0, null, 0, 0, Degraded: false);

        public StoreHealth GetHealth() => Health;

        public ValueTask<RequestObservation> ObserveRequestAsync(ReadOnlyMemory<byte> clientKey, ReadOnlyMemory<byte> tripletKey, long now) =>
            throw new NotSupportedException();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private PrometheusText Scrape() => PrometheusText.Parse(_metrics.Render());

    private void Decide(PolicyOutcome outcome, long waited = 0) =>
        _metrics.OnDecision(new DecisionEvent(outcome, s_now.ToUnixTimeSeconds(), "a@example.net"u8, 0, waited, false));

    [Fact]
    public void Every_metric_is_there_from_the_start_with_its_type()
    {
        var scrape = Scrape();
        var expected = new Dictionary<string, string>
        {
            ["greyd_requests_total"] = "counter",
            ["greyd_request_errors_total"] = "counter",
            ["greyd_decisions_total"] = "counter",
            ["greyd_request_duration_seconds"] = "histogram",
            ["greyd_greylist_delay_seconds"] = "histogram",
            ["greyd_store_triplets"] = "gauge",
            ["greyd_store_awl_clients"] = "gauge",
            ["greyd_store_disk_bytes"] = "gauge",
            ["greyd_store_persistent"] = "gauge",
            ["greyd_store_degraded"] = "gauge",
            ["greyd_store_errors_total"] = "counter",
            ["greyd_store_checkpoint_errors_total"] = "counter",
            ["greyd_connections"] = "gauge",
        };
        Assert.Equal(expected.OrderBy(p => p.Key), scrape.Types.OrderBy(p => p.Key));
        Assert.All(expected.Keys, name => Assert.False(string.IsNullOrWhiteSpace(scrape.Help.GetValueOrDefault(name)), $"{name} has no HELP"));
        Assert.Equal(0, scrape.Histogram("greyd_request_duration_seconds").Count);
        Assert.Equal(0, scrape.Histogram("greyd_greylist_delay_seconds").Count);
    }

    [Fact]
    public void Decisions_are_counted_by_the_action_and_reason_of_the_log_line()
    {
        foreach (var outcome in Enum.GetValues<PolicyOutcome>())
        {
            Decide(outcome, waited: 400);
        }

        Decide(PolicyOutcome.GreylistNew);
        var scrape = Scrape();
        Assert.Equal(1, scrape.Value("greyd_decisions_total", "action=dunno", "reason=unusable"));
        Assert.Equal(1, scrape.Value("greyd_decisions_total", "action=pass", "reason=client whitelist"));
        Assert.Equal(1, scrape.Value("greyd_decisions_total", "action=pass", "reason=recipient whitelist"));
        Assert.Equal(1, scrape.Value("greyd_decisions_total", "action=pass", "reason=client AWL"));
        Assert.Equal(2, scrape.Value("greyd_decisions_total", "action=greylist", "reason=new"));
        Assert.Equal(1, scrape.Value("greyd_decisions_total", "action=greylist", "reason=early-retry"));
        Assert.Equal(2, scrape.Value("greyd_decisions_total", "action=pass", "reason=triplet found"));
        Assert.Equal(7, scrape.Samples.Count(s => s.Name == "greyd_decisions_total"));
    }

    [Fact]
    public void Only_a_first_pass_records_the_delay_that_the_mail_suffered()
    {
        Decide(PolicyOutcome.FirstPass, waited: 330);
        Decide(PolicyOutcome.FirstPass, waited: 7200);
        Decide(PolicyOutcome.Pass, waited: 99999);
        Decide(PolicyOutcome.GreylistEarlyRetry, waited: 99999);
        var scrape = Scrape();
        Assert.Equal((2, 7530), scrape.Histogram("greyd_greylist_delay_seconds"));
        Assert.Equal(0, scrape.Bucket("greyd_greylist_delay_seconds", 300));
        Assert.Equal(1, scrape.Bucket("greyd_greylist_delay_seconds", 360));
        Assert.Equal(2, scrape.Bucket("greyd_greylist_delay_seconds", 7200));
    }

    [Fact]
    public void Requests_faults_and_their_durations_are_counted()
    {
        _metrics.OnRequestDone(Stopwatch.Frequency / 1000, fault: false);
        _metrics.OnRequestDone(Stopwatch.Frequency / 50, fault: true);
        var scrape = Scrape();
        Assert.Equal(2, scrape.Value("greyd_requests_total"));
        Assert.Equal(1, scrape.Value("greyd_request_errors_total"));
        var (count, sum) = scrape.Histogram("greyd_request_duration_seconds");
        Assert.Equal(2, count);
        Assert.Equal(0.021, sum, 6);
        Assert.Equal(1, scrape.Bucket("greyd_request_duration_seconds", 0.001));
        Assert.Equal(2, scrape.Bucket("greyd_request_duration_seconds", 0.025));
    }

    [Fact]
    public void The_store_is_read_at_each_scrape()
    {
        _connections = 3;
        _store.Health = new StoreHealth("faster", 120, 7, 65536, s_now.AddSeconds(-42), 2, 5, Degraded: true);
        var scrape = Scrape();
        Assert.Equal(120, scrape.Value("greyd_store_triplets"));
        Assert.Equal(7, scrape.Value("greyd_store_awl_clients"));
        Assert.Equal(65536, scrape.Value("greyd_store_disk_bytes"));
        Assert.Equal(42, scrape.Value("greyd_store_checkpoint_age_seconds"));
        Assert.Equal(1, scrape.Value("greyd_store_persistent"));
        Assert.Equal(1, scrape.Value("greyd_store_degraded"));
        Assert.Equal(5, scrape.Value("greyd_store_errors_total"));
        Assert.Equal(2, scrape.Value("greyd_store_checkpoint_errors_total"));
        Assert.Equal(3, scrape.Value("greyd_connections"));

        _store.Health = new StoreHealth("memory", 121, 7, 0, null, 2, 5, Degraded: false);
        scrape = Scrape();
        Assert.Equal(121, scrape.Value("greyd_store_triplets"));
        Assert.Equal(0, scrape.Value("greyd_store_persistent"));
        Assert.Null(scrape.Find("greyd_store_checkpoint_age_seconds"));
    }

    [Fact]
    public void The_shared_store_metrics_appear_only_with_a_shared_store()
    {
        Assert.Null(Scrape().Find("greyd_shared_store_up"));
        _store.Health = _store.Health with { Shared = new SharedStoreHealth("redis://10.0.0.5:6379", Up: false, Failures: 9, s_now) };
        var scrape = Scrape();
        Assert.Equal(0, scrape.Value("greyd_shared_store_up"));
        Assert.Equal(9, scrape.Value("greyd_shared_store_failures_total"));
        Assert.Equal("counter", scrape.Types["greyd_shared_store_failures_total"]);
        _store.Health = _store.Health with { Shared = new SharedStoreHealth("redis://10.0.0.5:6379", Up: true, Failures: 9, null) };
        Assert.Equal(1, Scrape().Value("greyd_shared_store_up"));
    }

    [Fact]
    public void Counting_on_the_request_path_allocates_nothing()
    {
        var observer = DecisionObservers.Combine(_metrics)!;
        void Burst()
        {
            for (int i = 0; i < 10_000; i++)
            {
                var outcome = (PolicyOutcome)(i % 8);
                observer.OnDecision(new DecisionEvent(outcome, i, "a@example.net"u8, 1, 300 + i, false));
                observer.OnRequestDone(i * 13L, fault: i % 100 == 0);
            }
        }

        Burst(); // the first calls may allocate once (caches, the listener's lists)
        long before = GC.GetAllocatedBytesForCurrentThread();
        Burst();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(20_000, Scrape().Value("greyd_requests_total"));
    }
}
