using System.Diagnostics.Metrics;
using Greyd.Hosting.Metrics;
using Greyd.Tests.Shared;

namespace Greyd.Hosting.Tests;

public sealed class PrometheusExpositionTests : IDisposable
{
    private readonly Meter _meter = new("exposition-test");
    private readonly PrometheusExposition _exposition;

    public PrometheusExpositionTests() => _exposition = new PrometheusExposition(_meter);

    public void Dispose()
    {
        _exposition.Dispose();
        _meter.Dispose();
    }

    [Fact]
    public void A_counter_has_its_help_and_type_lines_then_its_value()
    {
        var counter = _meter.CreateCounter<long>("test_requests_total", description: "Requests answered.");
        Assert.Equal("# HELP test_requests_total Requests answered.\n# TYPE test_requests_total counter\ntest_requests_total 0\n", _exposition.Collect());
        counter.Add(2);
        counter.Add(3);
        Assert.Equal(5, PrometheusText.Parse(_exposition.Collect()).Value("test_requests_total"));
    }

    [Fact]
    public void Instruments_of_one_name_are_one_family_with_their_tags_as_labels()
    {
        var greylist = _meter.CreateCounter<long>("test_decisions_total", null, "Decisions.", [new("action", "greylist"), new("reason", "new")]);
        var pass = _meter.CreateCounter<long>("test_decisions_total", null, "Decisions.", [new("action", "pass"), new("reason", "client AWL")]);
        greylist.Add(1);
        pass.Add(4);
        string text = _exposition.Collect();
        Assert.Single(text.Split('\n'), l => l.StartsWith("# TYPE test_decisions_total", StringComparison.Ordinal));
        Assert.Contains("test_decisions_total{action=\"pass\",reason=\"client AWL\"} 4\n", text, StringComparison.Ordinal);
        var parsed = PrometheusText.Parse(text);
        Assert.Equal(1, parsed.Value("test_decisions_total", "action=greylist", "reason=new"));
        Assert.Equal(4, parsed.Value("test_decisions_total", "action=pass", "reason=client AWL"));
    }

    [Fact]
    public void A_histogram_has_cumulative_buckets_up_to_Inf_then_sum_and_count()
    {
        var histogram = _meter.CreateHistogram("test_duration_seconds", "s", "Durations.", null, new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.00001, 0.5, 2] });
        foreach (double value in new[] { 0.000001, 0.00001, 0.3, 0.5, 1, 7 })
        {
            histogram.Record(value);
        }

        string text = _exposition.Collect();
        Assert.Contains(
            "test_duration_seconds_bucket{le=\"1e-05\"} 2\ntest_duration_seconds_bucket{le=\"0.5\"} 4\ntest_duration_seconds_bucket{le=\"2\"} 5\ntest_duration_seconds_bucket{le=\"+Inf\"} 6\ntest_duration_seconds_sum 8.800011\ntest_duration_seconds_count 6\n",
            text,
            StringComparison.Ordinal);
        var parsed = PrometheusText.Parse(text);
        Assert.Equal("histogram", parsed.Types["test_duration_seconds"]);
        Assert.Equal(6, parsed.Histogram("test_duration_seconds").Count);
    }

    [Fact]
    public void A_histogram_of_whole_numbers_takes_its_buckets_from_the_advice_too()
    {
        var histogram = _meter.CreateHistogram("test_delay_seconds", "s", "Delays.", null, new InstrumentAdvice<long> { HistogramBucketBoundaries = [60, 300] });
        histogram.Record(300);
        histogram.Record(301);
        var parsed = PrometheusText.Parse(_exposition.Collect());
        Assert.Equal(0, parsed.Bucket("test_delay_seconds", 60));
        Assert.Equal(1, parsed.Bucket("test_delay_seconds", 300));
        Assert.Equal((2, 601), parsed.Histogram("test_delay_seconds"));
    }

    [Fact]
    public void Label_values_and_help_text_are_escaped()
    {
        _meter.CreateCounter<long>("test_escaped_total", null, "Back\\slash and\nnewline.", [new("value", "a\"b\\c\nd")]);
        string text = _exposition.Collect();
        Assert.Contains("# HELP test_escaped_total Back\\\\slash and\\nnewline.\n", text, StringComparison.Ordinal);
        Assert.Contains("test_escaped_total{value=\"a\\\"b\\\\c\\nd\"} 0\n", text, StringComparison.Ordinal);
        var parsed = PrometheusText.Parse(text);
        Assert.Equal(0, parsed.Value("test_escaped_total", "value=a\"b\\c\nd"));
        Assert.Equal("Back\\slash and\nnewline.", parsed.Help["test_escaped_total"]);
    }

    [Fact]
    public void An_observable_gauge_shows_only_when_its_callback_reports_a_value()
    {
        long? value = null;
        _meter.CreateObservableGauge<long>("test_up", () => value is long v ? [new Measurement<long>(v)] : [], description: "Up.");
        Assert.DoesNotContain("test_up", _exposition.Collect(), StringComparison.Ordinal);
        value = 1;
        Assert.Equal(1, PrometheusText.Parse(_exposition.Collect()).Value("test_up"));
        value = null;
        Assert.DoesNotContain("test_up", _exposition.Collect(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_observable_counter_is_typed_counter_and_reports_the_latest_total()
    {
        long total = 3;
        _meter.CreateObservableCounter("test_faults_total", () => total, description: "Faults.");
        Assert.Equal(3, PrometheusText.Parse(_exposition.Collect()).Value("test_faults_total"));
        total = 7;
        var parsed = PrometheusText.Parse(_exposition.Collect());
        Assert.Equal(7, parsed.Value("test_faults_total"));
        Assert.Equal("counter", parsed.Types["test_faults_total"]);
    }

    [Fact]
    public void Instruments_of_other_meters_are_left_out()
    {
        using var other = new Meter("exposition-test");
        other.CreateCounter<long>("test_other_total").Add(1);
        Assert.Equal("", _exposition.Collect());
    }
}
