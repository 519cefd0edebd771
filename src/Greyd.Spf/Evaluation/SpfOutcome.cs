namespace Greyd.Spf.Evaluation;

/// <summary>
/// What one step of the evaluation gave: a result with its reason; (None, null) for a mechanism that did not
/// match, (Pass, null) for one that matched with its own reason. A struct, so the hot path allocates nothing.
/// </summary>
internal readonly record struct SpfOutcome(SpfResult Result, string? Reason)
{
    public bool IsNoMatch => Reason is null && Result == SpfResult.None;

    public static SpfOutcome NoMatch => default;
}
