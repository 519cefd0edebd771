namespace Greyd.Hosting.Reporting;

/// <summary>
/// The delays of the passed triplets (seconds). The percentiles come from fixed buckets: when
/// <see cref="P50IsBound"/> (or <see cref="P90IsBound"/>) is set the value is an upper bound ("≤").
/// </summary>
public readonly record struct ReportDelay(long P50, bool P50IsBound, long P90, bool P90IsBound, long Max, long Mean);
