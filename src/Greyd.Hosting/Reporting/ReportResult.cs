namespace Greyd.Hosting.Reporting;

/// <summary>A report: the top domains by greylisted over whole UTC days of first sighting, and the totals.</summary>
/// <param name="Since">The first day.</param>
/// <param name="Until">The last day (included).</param>
/// <param name="Domain">The domain filter (the domain and its subdomains), or null.</param>
/// <param name="RetryWindow">Seconds a triplet may take to retry; a day's "never retried" counts once it has passed.</param>
/// <param name="Rows">The domains shown, most greylisted first.</param>
/// <param name="Domains">All domains of the period that match, shown or not.</param>
/// <param name="Total">The sum over all matching domains.</param>
/// <param name="DomainCap">Distinct domains counted per day; the rest are "(other)".</param>
/// <param name="CappedDays">The days that reached <paramref name="DomainCap"/>.</param>
/// <param name="ReportCapped">True when the report itself had too many domains and folded the rest into "(other)".</param>
public sealed record ReportResult(
    DateOnly Since,
    DateOnly Until,
    string? Domain,
    long RetryWindow,
    IReadOnlyList<ReportRow> Rows,
    int Domains,
    ReportRow Total,
    int DomainCap,
    IReadOnlyList<DateOnly> CappedDays,
    bool ReportCapped);
