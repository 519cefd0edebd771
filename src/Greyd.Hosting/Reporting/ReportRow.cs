namespace Greyd.Hosting.Reporting;

/// <summary>One sender domain's (or the total's) counts over a report's period.</summary>
/// <param name="Domain">The sender domain, escaped (%XX) outside [a-z0-9.-_:[]], or "&lt;&gt;", "(none)", "(private)", "(other)", "(invalid)".</param>
/// <param name="Greylisted">New triplets greylisted.</param>
/// <param name="Retried">Of these, the ones that came back at least once.</param>
/// <param name="Passed">Of these, the ones that came back after the delay and passed.</param>
/// <param name="NeverRetried">Greylisted and never retried, on days whose retry window has passed.</param>
/// <param name="Waiting">Greylisted and not retried yet, on days whose retry window is still open.</param>
/// <param name="Delay">How long the passed ones waited, or null when none passed.</param>
public sealed record ReportRow(string Domain, long Greylisted, long Retried, long Passed, long NeverRetried, long Waiting, ReportDelay? Delay)
{
    /// <summary>Passed per greylisted, or null when nothing was greylisted.</summary>
    public double? PassRatio => Greylisted > 0 ? (double)Passed / Greylisted : null;
}
