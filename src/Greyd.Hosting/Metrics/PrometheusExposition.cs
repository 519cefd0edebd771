using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Greyd.Hosting.Metrics;

/// <summary>
/// Prometheus text format (0.0.4) for one <see cref="Meter"/>, aggregated by a <see cref="MeterListener"/>.
/// Each instrument is one series whose labels are the instrument's own tags, so recording never looks up a label
/// set (measurement tags are ignored); instruments sharing a name form one family. Kinds served: Counter&lt;long&gt;,
/// ObservableCounter&lt;long&gt;, ObservableGauge&lt;long&gt;, and Histogram&lt;long|double&gt; with bucket boundaries
/// given as advice. Observable instruments appear only when their callback reports a value at collection.
/// </summary>
public sealed class PrometheusExposition : IDisposable
{
    private readonly Meter _meter;
    private readonly MeterListener _listener;
    private readonly Lock _gate = new();
    private readonly List<Family> _families = [];

    public PrometheusExposition(Meter meter)
    {
        _meter = meter;
        _listener = new MeterListener { InstrumentPublished = Publish };
        _listener.SetMeasurementEventCallback<long>(static (_, value, _, state) => ((Series)state!).Record(value));
        _listener.SetMeasurementEventCallback<double>(static (_, value, _, state) => ((Series)state!).Record(value));
        _listener.Start();
    }

    /// <summary>Reads the observable instruments and writes every family, in the order the instruments were created.</summary>
    public string Collect()
    {
        lock (_gate)
        {
            foreach (var family in _families)
            {
                foreach (var series in family.Series)
                {
                    series.BeginCollect();
                }
            }

            _listener.RecordObservableInstruments();
            var text = new StringBuilder(4096);
            foreach (var family in _families)
            {
                family.Write(text);
            }

            return text.ToString();
        }
    }

    public void Dispose() => _listener.Dispose();

    private void Publish(Instrument instrument, MeterListener listener)
    {
        if (!ReferenceEquals(instrument.Meter, _meter))
        {
            return;
        }

        Series? series = instrument switch
        {
            Counter<long> => new ValueSeries(observable: false),
            ObservableCounter<long> or ObservableGauge<long> => new ValueSeries(observable: true),
            Histogram<long> h => new HistogramSeries(h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b)),
            Histogram<double> h => new HistogramSeries(h.Advice?.HistogramBucketBoundaries),
            _ => null,
        };
        if (series is null)
        {
            return;
        }

        series.Labels = Labels(instrument.Tags);
        string type = instrument switch
        {
            Counter<long> or ObservableCounter<long> => "counter",
            ObservableGauge<long> => "gauge",
            _ => "histogram",
        };
        lock (_gate)
        {
            var family = _families.Find(f => f.Name == instrument.Name);
            if (family is null)
            {
                family = new Family(instrument.Name, type, instrument.Description);
                _families.Add(family);
            }

            family.Series.Add(series);
        }

        listener.EnableMeasurementEvents(instrument, series);
    }

    private static string Labels(IEnumerable<KeyValuePair<string, object?>>? tags)
    {
        var text = new StringBuilder();
        foreach (var (name, value) in tags ?? [])
        {
            text.Append(text.Length == 0 ? "" : ",").Append(name).Append("=\"");
            Escape(text, Convert.ToString(value, CultureInfo.InvariantCulture) ?? "", quote: true);
            text.Append('"');
        }

        return text.ToString();
    }

    /// <summary>Label values escape backslash, double quote and newline; HELP text escapes backslash and newline.</summary>
    private static void Escape(StringBuilder text, string value, bool quote)
    {
        foreach (char c in value)
        {
            _ = c switch
            {
                '\\' => text.Append(@"\\"),
                '\n' => text.Append(@"\n"),
                '"' when quote => text.Append("\\\""),
                _ => text.Append(c),
            };
        }
    }

    private static string Number(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e'),
    };

    private static void Sample(StringBuilder text, string name, string labels, string extraLabel, string value)
    {
        text.Append(name);
        if (labels.Length + extraLabel.Length > 0)
        {
            text.Append('{').Append(labels);
            if (labels.Length > 0 && extraLabel.Length > 0)
            {
                text.Append(',');
            }

            text.Append(extraLabel).Append('}');
        }

        text.Append(' ').Append(value).Append('\n');
    }

    private sealed class Family(string name, string type, string? help)
    {
        public string Name { get; } = name;

        public List<Series> Series { get; } = [];

        public void Write(StringBuilder text)
        {
            var shown = Series.Where(s => s.Shown).ToList();
            if (shown.Count == 0)
            {
                return;
            }

            if (!string.IsNullOrEmpty(help))
            {
                text.Append("# HELP ").Append(Name).Append(' ');
                Escape(text, help, quote: false);
                text.Append('\n');
            }

            text.Append("# TYPE ").Append(Name).Append(' ').Append(type).Append('\n');
            foreach (var series in shown)
            {
                series.Write(text, Name);
            }
        }
    }

    private abstract class Series
    {
        public string Labels { get; set; } = "";

        /// <summary>Whether to write it: observable series only when their callback gave a value at this collection.</summary>
        public virtual bool Shown => true;

        public virtual void BeginCollect()
        {
        }

        public abstract void Record(long value);

        public abstract void Record(double value);

        public abstract void Write(StringBuilder text, string name);
    }

    private sealed class ValueSeries(bool observable) : Series
    {
        private long _value;
        private bool _observed;

        public override bool Shown => !observable || _observed;

        public override void BeginCollect() => _observed = false;

        public override void Record(long value)
        {
            if (observable)
            {
                Volatile.Write(ref _value, value);
                _observed = true;
            }
            else
            {
                Interlocked.Add(ref _value, value);
            }
        }

        public override void Record(double value) => Record((long)value);

        public override void Write(StringBuilder text, string name) =>
            Sample(text, name, Labels, "", Interlocked.Read(ref _value).ToString(CultureInfo.InvariantCulture));
    }

    private sealed class HistogramSeries : Series
    {
        private readonly double[] _bounds;
        private readonly string[] _le;

        // One count per bucket and one past the last bound; the cumulative counts and _count are summed at collection,
        // so +Inf and _count always agree.
        private readonly long[] _counts;
        private double _sum;

        public HistogramSeries(IEnumerable<double>? bounds)
        {
            // The advice is ascending and without duplicates: InstrumentAdvice refuses anything else.
            _bounds = [.. bounds ?? []];
            _le = [.. _bounds.Select(b => "le=\"" + Number(b) + "\""), "le=\"+Inf\""];
            _counts = new long[_bounds.Length + 1];
        }

        public override void Record(long value) => Record((double)value);

        public override void Record(double value)
        {
            if (double.IsNaN(value))
            {
                return;
            }

            int bucket = Array.BinarySearch(_bounds, value);
            Interlocked.Increment(ref _counts[bucket >= 0 ? bucket : ~bucket]);
            double sum = Volatile.Read(ref _sum);
            while (true)
            {
                double seen = Interlocked.CompareExchange(ref _sum, sum + value, sum);
                if (seen.Equals(sum))
                {
                    return;
                }

                sum = seen;
            }
        }

        public override void Write(StringBuilder text, string name)
        {
            long cumulative = 0;
            for (int i = 0; i < _counts.Length; i++)
            {
                cumulative += Interlocked.Read(ref _counts[i]);
                Sample(text, name + "_bucket", Labels, _le[i], cumulative.ToString(CultureInfo.InvariantCulture));
            }

            Sample(text, name + "_sum", Labels, "", Number(Volatile.Read(ref _sum)));
            Sample(text, name + "_count", Labels, "", cumulative.ToString(CultureInfo.InvariantCulture));
        }
    }
}
