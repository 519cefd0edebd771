using System.Diagnostics;

namespace Greyd.PoolBench;

/// <summary>Latencies kept whole (a few hundred thousand at most), read back as percentiles in microseconds.</summary>
internal sealed class Percentiles
{
    private readonly List<long> _ticks = [];

    public int Count => _ticks.Count;

    public void Add(long stopwatchTicks) => _ticks.Add(stopwatchTicks);

    public double Micros(double quantile)
    {
        if (_ticks.Count == 0)
        {
            return 0;
        }

        _ticks.Sort();
        int rank = Math.Clamp((int)Math.Ceiling(quantile * _ticks.Count) - 1, 0, _ticks.Count - 1);
        return _ticks[rank] * 1_000_000.0 / Stopwatch.Frequency;
    }

    public double MaxMicros => Micros(1);
}
