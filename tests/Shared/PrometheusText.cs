using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Greyd.Tests.Shared;

/// <summary>
/// A strict reader of Prometheus text format 0.0.4, written from the format's description and independent of
/// greyd's writer: a malformed line, a sample without a TYPE, or a TYPE given twice fails the test.
/// </summary>
public sealed partial class PrometheusText
{
    private readonly Dictionary<string, string> _types = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _help = new(StringComparer.Ordinal);
    private readonly List<Sample> _samples = [];

    /// <summary>One sample; labels are unescaped and written sorted as <c>name=value</c> joined by commas.</summary>
    public readonly record struct Sample(string Name, string Labels, double Value);

    public IReadOnlyDictionary<string, string> Types => _types;

    public IReadOnlyDictionary<string, string> Help => _help;

    public IReadOnlyList<Sample> Samples => _samples;

    public static PrometheusText Parse(string text)
    {
        var parsed = new PrometheusText();
        Assert.True(text.Length == 0 || text.EndsWith('\n'), "the exposition does not end with a newline");
        foreach (string line in text.Split('\n').SkipLast(1))
        {
            if (line.StartsWith("# ", StringComparison.Ordinal))
            {
                parsed.Comment(line);
            }
            else
            {
                parsed.Add(line);
            }
        }

        return parsed;
    }

    /// <summary>The value of the sample with exactly these labels (<c>"action=pass"</c>, ...); fails when absent.</summary>
    public double Value(string name, params string[] labels) =>
        Find(name, labels) ?? throw new Xunit.Sdk.XunitException($"no sample {name}{{{Key(labels)}}}");

    public double? Find(string name, params string[] labels)
    {
        string key = Key(labels);
        foreach (var sample in _samples)
        {
            if (sample.Name == name && sample.Labels == key)
            {
                return sample.Value;
            }
        }

        return null;
    }

    /// <summary>Checks a histogram's shape: cumulative buckets ending at +Inf, which equals _count; returns (count, sum).</summary>
    public (double Count, double Sum) Histogram(string name, params string[] labels)
    {
        Assert.Equal("histogram", _types.GetValueOrDefault(name));
        string key = Key(labels);
        var buckets = _samples.Where(s => s.Name == name + "_bucket" && Without(s.Labels, "le") == key).ToList();
        Assert.NotEmpty(buckets);
        var bounds = buckets.Select(b => Bound(b.Labels)).ToList();
        Assert.Equal(double.PositiveInfinity, bounds[^1]);
        for (int i = 1; i < buckets.Count; i++)
        {
            Assert.True(bounds[i] > bounds[i - 1], $"{name}: bucket bounds are not increasing at {bounds[i]}");
            Assert.True(buckets[i].Value >= buckets[i - 1].Value, $"{name}: bucket counts are not cumulative at le={bounds[i]}");
        }

        double count = Value(name + "_count", labels);
        Assert.Equal(buckets[^1].Value, count);
        return (count, Value(name + "_sum", labels));
    }

    /// <summary>The cumulative count of the bucket whose upper bound is <paramref name="le"/>.</summary>
    public double Bucket(string name, double le) =>
        _samples.Single(s => s.Name == name + "_bucket" && Bound(s.Labels) == le).Value;

    private void Comment(string line)
    {
        var match = CommentLine().Match(line);
        Assert.True(match.Success, $"malformed comment line: {line}");
        string name = match.Groups["name"].Value;
        string rest = match.Groups["rest"].Value;
        if (match.Groups["kind"].Value == "TYPE")
        {
            Assert.Matches("^(counter|gauge|histogram|summary|untyped)$", rest);
            Assert.False(_types.ContainsKey(name), $"TYPE given twice for {name}");
            Assert.DoesNotContain(_samples, s => Family(s.Name) == name);
            _types[name] = rest;
        }
        else
        {
            Assert.False(_help.ContainsKey(name), $"HELP given twice for {name}");
            _help[name] = rest.Replace(@"\n", "\n", StringComparison.Ordinal).Replace(@"\\", @"\", StringComparison.Ordinal);
        }
    }

    private void Add(string line)
    {
        var match = SampleLine().Match(line);
        Assert.True(match.Success, $"malformed sample line: {line}");
        string name = match.Groups["name"].Value;
        Assert.True(_types.ContainsKey(Family(name)), $"sample {name} has no TYPE line before it");
        var labels = new List<string>();
        foreach (Match label in LabelPair().Matches(match.Groups["labels"].Value))
        {
            labels.Add(label.Groups["name"].Value + "=" + Unescape(label.Groups["value"].Value));
        }

        string value = match.Groups["value"].Value;
        double number = value switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            _ => double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
        _samples.Add(new Sample(name, Key(labels), number));
    }

    private string Family(string sample)
    {
        foreach (string suffix in (string[])["_bucket", "_sum", "_count"])
        {
            if (sample.EndsWith(suffix, StringComparison.Ordinal) && _types.GetValueOrDefault(sample[..^suffix.Length]) == "histogram")
            {
                return sample[..^suffix.Length];
            }
        }

        return sample;
    }

    private static string Unescape(string value)
    {
        var text = new StringBuilder();
        for (int i = 0; i < value.Length; i++)
        {
            if (value[i] != '\\')
            {
                text.Append(value[i]);
                continue;
            }

            char next = value[++i];
            text.Append(next switch
            {
                'n' => '\n',
                '\\' or '"' => next,
                _ => throw new Xunit.Sdk.XunitException($"unknown escape \\{next} in a label value"),
            });
        }

        return text.ToString();
    }

    private static string Key(IEnumerable<string> labels) => string.Join(",", labels.Order(StringComparer.Ordinal));

    private static string Without(string labels, string name) =>
        Key(labels.Split(',', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith(name + "=", StringComparison.Ordinal)));

    private static double Bound(string labels)
    {
        string le = labels.Split(',').Single(l => l.StartsWith("le=", StringComparison.Ordinal))[3..];
        return le == "+Inf" ? double.PositiveInfinity : double.Parse(le, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^# (?<kind>HELP|TYPE) (?<name>[a-zA-Z_:][a-zA-Z0-9_:]*) (?<rest>.*)$")]
    private static partial Regex CommentLine();

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>([a-zA-Z_][a-zA-Z0-9_]*=""([^""\\]|\\.)*"",?)*)\})? (?<value>\S+)$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(?<name>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>([^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
